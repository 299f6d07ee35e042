"""The fleet summary page: autoescaped, no script, CSP without network, links that resolve;
checked in headless Chromium with hostile cluster names and log text."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from logdoctor.fleet import FleetOutput, Options, find_bundles, run_in_process
from logdoctor.fleet.summary import TEMPLATE, environment, render_summary, reports_dir
from tests.helpers.fleet import TEN, browse, write_bundle, write_fleet

HOSTILE_SUBJECT = "<img src=x onerror=alert(1)>\u202e"
HOSTILE_CLUSTER = "acme <script>alert(2)<\\script> <img src=y onerror=alert(3)> \"'&\u202e"
"""A valid folder name (no slash) full of markup."""


class Elements(HTMLParser):
    """Tags and attributes of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "href" and value is not None:
                self.hrefs.append(value)
            if name.startswith("on"):
                self.handlers.append(name)


def parse(html: str) -> Elements:
    p = Elements()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fleet with a hostile cluster name, a hostile subject and a failed bundle."""
    root = tmp_path_factory.mktemp("html")
    paths, configs = write_fleet(root, (TEN[0], TEN[6]))
    evil = write_bundle(TEN[0].__class__(HOSTILE_CLUSTER, "LD101/bad", "dir"), root / "bundles")
    for log in evil.rglob("*.log"):
        text = log.read_text(encoding="utf-8")
        log.write_text(text.replace("via=expc1", "via=" + quote(HOSTILE_SUBJECT, safe=":")))
    paths += [str(evil), str(root / "bundles" / "<b>gone</b>")]
    out = root / "out"
    output = FleetOutput(out, "json")
    result = run_in_process(find_bundles(paths, configs), Options(), on_result=output.document)
    assert HOSTILE_SUBJECT in result.bundles[2].findings[0].subjects  # the log text got through
    output.finish(result, title="Nightly <i>fleet</i>")
    return out / "index.html"


def test_template_has_no_safe_filter_and_escapes_by_default() -> None:
    text = (reports_dir() / TEMPLATE).read_text(encoding="utf-8")
    assert "|safe" not in text.replace(" ", "")
    assert "autoescape false" not in text
    assert environment().autoescape is True


def test_hostile_text_is_text_in_the_source(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    doc = parse(html)
    assert doc.handlers == []
    assert "script" not in doc.tags
    assert "img" not in doc.tags and "i" not in doc.tags and "b" not in doc.tags
    assert "&lt;img src=x onerror=alert(1)&gt;\\u202e" in html
    assert (
        "acme &lt;script&gt;alert(2)&lt;\\script&gt; &lt;img src=y onerror=alert(3)&gt; "
        "&#34;&#39;&amp;\\u202e"
    ) in html
    assert "Nightly &lt;i&gt;fleet&lt;/i&gt;" in html
    assert "\u202e" not in html  # bidi overrides are shown, never applied


def test_links_are_relative_percent_encoded_and_resolve(page: Path) -> None:
    hrefs = parse(page.read_text(encoding="utf-8")).hrefs
    assert len(hrefs) == 3  # three checked clusters; the failed bundle has no report
    for href in hrefs:
        assert href.startswith("clusters/")
        assert re.fullmatch(r"clusters/[A-Za-z0-9%._~-]+", href), href
        assert (page.parent / unquote(href)).is_file()
    assert quote(f"{HOSTILE_CLUSTER}.html", safe="") in {h.split("/", 1)[1] for h in hrefs}


def test_chromium_renders_it_with_no_csp_violation_and_no_injected_element(page: Path) -> None:
    dom, console = browse(page)
    assert console == []
    doc = parse(dom)
    assert "img" not in doc.tags and "script" not in doc.tags and doc.handlers == []
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom
    assert "<b>gone</b>: no such file or folder" not in dom  # never as markup
    assert "&lt;b&gt;gone&lt;/b&gt;: no such file or folder" in dom
    assert 'id="n-failed">1<' in dom


def test_chromium_reports_a_stylesheet_the_policy_does_not_allow(
    page: Path, tmp_path: Path
) -> None:
    # The control for the test above: the same page with one byte of its stylesheet changed
    # must be refused by the policy, or "no console message" would prove nothing.
    html = page.read_text(encoding="utf-8")
    tampered = tmp_path / "tampered.html"
    tampered.write_text(html.replace("box-sizing: border-box", "box-sizing: content-box"), "utf-8")
    _, console = browse(tampered)
    assert any("Content Security Policy" in line for line in console), console


def test_policy_forbids_network_and_script(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    m = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert m is not None
    directives = unescape(m.group(1)).split("; ")
    policy = {d.split()[0]: d.split()[1:] for d in directives if d.strip()}
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'none'"]
    assert policy["connect-src"] == ["'none'"]
    assert len(policy["style-src"]) == 1 and policy["style-src"][0].startswith("'sha256-")


def test_summary_counts_match_the_run(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[0], TEN[6]))
    result = run_in_process(find_bundles(paths), Options(fail_on="error"))
    html = render_summary(result)
    assert 'id="n-clusters">2<' in html
    assert "Failed:" in html and "1 cluster(s) with findings at or above error" in html
    passed = run_in_process(find_bundles(paths[1:]), Options(fail_on="error"))
    assert "Passed: no finding at or above error in 1 cluster(s)." in render_summary(passed)


def test_the_hostile_clusters_own_report_renders_clean(page: Path) -> None:
    report = page.parent / "clusters" / f"{HOSTILE_CLUSTER}.html"
    html = report.read_text(encoding="utf-8")
    assert "\u202e" not in html
    dom, console = browse(report)
    assert console == [], console
    doc = parse(dom)
    assert doc.handlers == []
    assert "img" not in doc.tags
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom  # the subject, as text
