"""Shared fixtures of the report tests: real headless Chromium (Debian's /usr/bin/chromium
driven by Playwright) with every page load recorded.

Every page load records console messages, page errors, dialogs, Content-Security-Policy
violations and every request the page attempts (all routed: anything but the report file
itself is recorded and aborted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.helpers.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts"

RECORD_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    with sync_playwright() as p:
        # launch() gives the browser a fresh temporary user-data-dir, removed on close.
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Opened:
    page: Page
    url: str
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def csp(self) -> list[str]:
        return list(self.page.evaluate("window.__csp || []"))

    def assert_clean(self) -> None:
        assert [m for m in self.console if m[0] in ("error", "warning")] == []
        assert self.errors == []
        assert self.requests == [self.url]
        assert self.dialogs == []
        assert self.csp() == []


@pytest.fixture
def open_report(browser: Browser) -> Iterator[Any]:
    contexts = []

    def _open(path: Path, *, js: bool = True, scheme: str = "light", width: int = 1280) -> Opened:
        ctx = browser.new_context(
            java_script_enabled=js,
            color_scheme=scheme,  # type: ignore[arg-type]
            viewport={"width": width, "height": 900},
        )
        contexts.append(ctx)
        ctx.add_init_script(RECORD_CSP)
        page = ctx.new_page()
        url = path.resolve().as_uri()
        o = Opened(page, url)
        page.on("console", lambda m: o.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: o.errors.append(str(e)))

        def on_dialog(d: Any) -> None:
            o.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)

        def route(r: Route) -> None:
            o.requests.append(r.request.url)
            if r.request.url == url:
                r.continue_()
            else:
                r.abort()

        page.route("**/*", route)
        page.goto(url)
        page.wait_for_load_state("load")
        if js:
            page.wait_for_function("window.logdoctorReport !== undefined")
        return o

    yield _open
    for ctx in contexts:
        ctx.close()


OVERFLOW = """
() => {
  const vw = document.documentElement.clientWidth;
  // an element may reach past the viewport only inside a scroll (or clip) container that
  // itself ends within the viewport; containers nested in wider ones are looked through
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      const clips = ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip';
      if (clips && p.getBoundingClientRect().right <= vw + 1) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > vw + 1 && !clipped(el)) out.push(el.tagName + '.' + el.className + ' ' + r.right);
  }
  return {vw, scroll: document.documentElement.scrollWidth, out: out.slice(0, 10)};
}
"""


def assert_layout_holds(page: Page) -> None:
    got = page.evaluate(OVERFLOW)
    assert got["out"] == [] and got["scroll"] <= got["vw"], got
