"""The report in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Every page load records console messages, page errors, dialogs, Content-Security-Policy
violations and every request the page attempts (all routed: anything but the report file
itself is recorded and aborted). A screenshot of the top of the page is kept in artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playwright.sync_api import Page

import logdoctor
from logdoctor.cli import main
from logdoctor.model import Finding, RuleId, Severity
from logdoctor.outputs.html import write_html
from logdoctor.report import Diagnosis, build_report
from tests.helpers.report import (
    HOSTILE_NODE,
    HOSTILE_USERS,
    evidence_from,
    findings,
    hostile_bundle,
    normal_bundle,
)
from tests.report.conftest import ARTIFACTS, assert_layout_holds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def normal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("normal")
    res = logdoctor.load(normal_bundle(tmp / "bundle"))
    model = build_report(
        res.frame, res.stats, Diagnosis(findings=findings(res), rules_ran=True), inputs=["bundle"]
    )
    out = tmp / "report.html"
    write_html(model, out)
    return out


# -- the ordinary page ---------------------------------------------------------------------------

PIXELS = """
([id]) => {
  const u = window.logdoctorReport.charts[id];
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const colors = u.series.slice(1).map((s, i) =>
    hex(typeof s.stroke === 'function' ? s.stroke(u, i + 1) : s.stroke));
  const cv = u.root.querySelector('canvas');
  const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
  let series = 0, other = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] < 200) continue;
    const near = colors.some((c) =>
      Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1]) + Math.abs(px[i + 2] - c[2]) < 40);
    if (near) series++; else other++;
  }
  return {series, other, w: cv.width, h: cv.height};
}
"""


MARKER_PIXELS = """
([id, name]) => {
  const u = window.logdoctorReport.charts[id];
  const probe = document.createElement('span');
  probe.style.color = getComputedStyle(document.documentElement).getPropertyValue(name);
  document.body.appendChild(probe);
  const c = getComputedStyle(probe).color.match(/\\d+/g).map(Number);
  probe.remove();
  const cv = u.root.querySelector('canvas');
  const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] > 200 && Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1])
        + Math.abs(px[i + 2] - c[2]) < 30) n++;
  }
  return n;
}
"""


def test_page_is_clean_offline_and_the_chart_draws(open_report: Any, normal: Path) -> None:
    o = open_report(normal)
    page = o.page
    page.wait_for_function("window.logdoctorReport.charts.length === 3")
    o.assert_clean()
    for idx in (0, 1):
        px = page.evaluate(PIXELS, [idx])
        assert px["w"] > 300 and px["h"] > 100
        assert px["series"] > 100, px  # the series lines, in their own colours
    # the markers (configuration change, revocations, key, restart) in their own colours
    assert page.locator(".marker-legend").is_visible()
    for var in ("--m-config", "--m-revoke", "--m-key", "--m-service"):
        assert page.evaluate(MARKER_PIXELS, [0, var]) > 20, var
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-top.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    print(f"screenshot of the top of the report: {shot}")


def test_csp_is_enforced_on_the_page(open_report: Any, normal: Path) -> None:
    """The canary: a script injected after load is refused by the page's own CSP."""
    o = open_report(normal)
    o.page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__canary = 1'; document.body.appendChild(s); }"
    )
    o.page.wait_for_function("window.__csp.length > 0")
    assert o.page.evaluate("window.__canary") is None
    assert any(v.startswith("script-src") for v in o.csp())


def test_a_findings_evidence_expands(open_report: Any, normal: Path) -> None:
    o = open_report(normal)
    finding = o.page.locator("#LD201-imp1")
    table = finding.locator("details.evidence table")
    assert not table.is_visible()
    finding.locator("details.evidence summary").click()
    assert table.is_visible()
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    assert "Token validation failed" in rows.nth(0).inner_text()
    # what the kind means is said once, under the table, not on each row
    assert "A token or grant was refused" not in rows.nth(0).inner_text()
    legend = finding.locator("dl.kinds")
    assert legend.is_visible() and "A token or grant was refused" in legend.inner_text()
    o.assert_clean()


def visible_users(page: Page) -> list[str]:
    return [
        r.locator("td.name").inner_text()
        for r in page.locator("tr.user-row").all()
        if r.is_visible()
    ]


def test_user_filter(open_report: Any, normal: Path) -> None:
    o = open_report(normal)
    page = o.page
    assert visible_users(page) == ["bob", "alice", "carol"]
    box = page.locator("#user-filter")
    box.fill("ALI")
    assert visible_users(page) == ["alice"]
    assert page.locator("#user-count").inner_text() == "1 of 3 shown"
    box.fill("o")
    assert visible_users(page) == ["bob", "carol"]
    box.fill("nobody")
    assert visible_users(page) == [] and page.locator("#user-count").inner_text() == "0 of 3 shown"
    box.fill("")
    assert visible_users(page) == ["bob", "alice", "carol"]
    o.assert_clean()


def test_drill_down_shows_a_users_timeline_and_token_lineage(
    open_report: Any, normal: Path
) -> None:
    o = open_report(normal)
    page = o.page
    bob = page.locator("tr.user-row", has=page.locator("td.name", has_text="bob"))
    bob.locator("button.drill").click()
    drill = page.locator("tr.drill-row")
    assert drill.count() == 1
    text = drill.inner_text()
    assert "Timeline of bob" in text and "Token lineage of bob" in text
    events = drill.locator("table").first.locator("tbody tr")
    assert events.count() == 6
    assert "auth.failure" in events.nth(0).inner_text()
    assert "jti-b1" in text and "tid-bob-1" in text and "expired" in text and "signature" in text
    # the row after bob's is his drill-down
    assert (
        page.evaluate(
            "() => document.querySelector('tr.drill-row').previousElementSibling"
            ".querySelector('td.name').textContent"
        )
        == "bob"
    )
    bob.locator("button.drill").click()
    assert page.locator("tr.drill-row").count() == 0
    alice = page.locator("tr.user-row", has=page.locator("td.name", has_text="alice"))
    alice.locator("button.drill").click()
    lineage = page.locator("tr.drill-row").inner_text()
    assert "tid-alice-1" in lineage and "jti-a4" in lineage
    page.locator("#user-filter").fill("bob")  # filtering alice away closes her drill-down
    assert page.locator("tr.drill-row").count() == 0
    o.assert_clean()


def test_zoom_by_dragging_and_reset(open_report: Any, normal: Path) -> None:
    o = open_report(normal)
    page = o.page
    page.wait_for_function("window.logdoctorReport.charts.length === 3")
    scale = (
        "([i]) => { const x = window.logdoctorReport.charts[i].scales.x; return [x.min, x.max]; }"
    )
    full = page.evaluate(scale, [0])
    over = page.locator("#chart-levels .u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.4, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()
    zoomed = page.evaluate(scale, [0])
    assert full[0] < zoomed[0] < zoomed[1] < full[1]
    assert (zoomed[1] - zoomed[0]) < 0.3 * (full[1] - full[0])
    assert page.evaluate(scale, [1]) == zoomed  # the kinds chart follows
    page.locator("#reset-zoom").click()
    assert page.evaluate(scale, [0]) == full and page.evaluate(scale, [1]) == full
    o.assert_clean()


def test_readable_without_javascript(open_report: Any, normal: Path) -> None:
    o = open_report(normal, js=False)
    page = o.page
    assert page.locator("#LD201-imp1 h3").inner_text().startswith("ERROR")  # badge, uppercased
    assert page.locator("tr.user-row").count() == 3 and visible_users(page) == [
        "bob",
        "alice",
        "carol",
    ]
    for hidden in ("#user-filter", "#chart-levels", "#reset-zoom", "button.drill"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert "Cache refresh took <n> ms for id <hex>" in page.locator("#unrecognized").inner_text()
    assert "2 h 15 min" in page.locator("#coverage").inner_text()
    table = page.locator("#LD201-imp1 details.evidence table")
    assert not table.is_visible()
    page.locator("#LD201-imp1 details.evidence summary").click()  # native, no script
    assert table.is_visible()
    assert o.requests == [o.url] and o.errors == []


def test_light_and_dark(open_report: Any, normal: Path) -> None:
    bg = "getComputedStyle(document.body).backgroundColor"
    assert open_report(normal, scheme="light").page.evaluate(bg) == "rgb(255, 255, 255)"
    dark = open_report(normal, scheme="dark")
    assert dark.page.evaluate(bg) == "rgb(13, 17, 23)"
    assert dark.page.evaluate("getComputedStyle(document.body).color") == "rgb(230, 237, 243)"


def test_printable(open_report: Any, normal: Path) -> None:
    o = open_report(normal)
    page = o.page
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("[...document.querySelectorAll('details.evidence')].every(d => d.open)")
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.evaluate("[...document.querySelectorAll('details.evidence')].every(d => !d.open)")
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    o.assert_clean()


# -- layout --------------------------------------------------------------------------------------


def test_layout_holds_on_a_phone(open_report: Any, normal: Path) -> None:
    o = open_report(normal, width=390)
    o.page.locator("#LD201-imp1 details.evidence summary").click()
    assert_layout_holds(o.page)


# -- hostile input -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The hostile bundle through the CLI, and through the API with findings whose evidence,
    subjects, message and fix quote the hostile lines."""
    tmp = tmp_path_factory.mktemp("hostile")
    root = hostile_bundle(tmp / "bundle")
    cli_out = tmp / "cli.html"
    res = CliRunner().invoke(main, ["report", str(root), "-o", str(cli_out)])
    assert res.exit_code == 0, res.output
    loaded = logdoctor.load(root)
    ev = evidence_from(loaded)
    bad = Finding(
        rule=RuleId("LD301"),
        severity=Severity.ERROR,
        title=HOSTILE_USERS[2],
        message=" ".join(HOSTILE_USERS),
        evidence=ev,
        evidence_total=len(ev),
        subjects=(*HOSTILE_USERS, HOSTILE_NODE),
        fix=(HOSTILE_USERS[0], HOSTILE_USERS[1] + "\u202e"),
    )
    api_out = tmp / "api.html"
    write_html(
        build_report(
            loaded.frame,
            loaded.stats,
            Diagnosis(findings=(bad,)),
            title=HOSTILE_USERS[1],
            inputs=[str(root)],
        ),
        api_out,
    )
    return cli_out, api_out


def exercise_everything(page: Page) -> None:
    """Open every details element, every drill-down, filter with a hostile string."""
    page.locator("#user-filter").fill("<script>")
    assert page.locator("#user-count").inner_text() == "2 of 7 shown"
    page.locator("#user-filter").fill("")
    for summary in page.locator("details > summary").all():
        summary.click()
    for button in page.locator("button.drill").all():
        button.click()
    page.wait_for_timeout(200)


@pytest.mark.parametrize("which", ["cli", "api"])
def test_hostile_bundle_is_inert_and_the_layout_holds(
    open_report: Any, hostile: tuple[Path, Path], which: str
) -> None:
    path = hostile[0] if which == "cli" else hostile[1]
    for width in (1280, 390):
        o = open_report(path, width=width)
        page = o.page
        exercise_everything(page)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        o.assert_clean()
        assert (
            page.evaluate(
                "document.querySelectorAll('img, svg, iframe, object, embed, a[href^=javascript]')"
                ".length"
            )
            == 0
        )
        assert page.evaluate("[...document.querySelectorAll('script')].length") == 5
        text = page.locator("body").inner_text()
        assert "<script>window.__pwned=1</script>" in text  # shown, as text
        assert '"><img src=x onerror="window.__pwned=2">' in text
        assert "evil\\u202etxt.exe" in text and "\u202e" not in text and "\x1b" not in text
        drills = page.locator("tr.drill-row")
        assert drills.count() == len(HOSTILE_USERS) + 1  # every user's drill-down opened
        assert_layout_holds(page)
    shot = ARTIFACTS / f"report-hostile-{which}.png"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(shot), full_page=False)
