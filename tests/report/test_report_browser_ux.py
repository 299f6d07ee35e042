"""What the report shows the 2am reader, checked in real headless Chromium: stacked series with
failures red at the bottom, fixed colours across reports, the failures panel, a time axis one
stray line cannot stretch, static legends, grouped findings and their anchors, user links and
the filter over every user, the phone layout, the no-JS text and marked evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

import logdoctor
from logdoctor.model import Finding, RuleId, Severity
from logdoctor.outputs.html import write_html
from logdoctor.report import Diagnosis, Limits, build_report, diagnose
from logdoctor.rules import get_rule
from tests.helpers.paths import ROOT
from tests.helpers.report import (
    CLIENT_A,
    T0,
    Ssosp,
    findings,
    normal_bundle,
    ssosp_path,
    stray_bundle,
)
from tests.report.conftest import ARTIFACTS, assert_layout_holds

pytestmark = pytest.mark.slow

SAMPLE = ROOT / "sample_logs" / "expressway-refresh-ucm-off"
RED = "rgb(214, 39, 40)"


def _write(tmp: Path, root: Path, diag: Diagnosis | None = None, **kw: Any) -> Path:
    res = logdoctor.load(root)
    model = build_report(res.frame, res.stats, diag or diagnose(res), **kw)
    out = tmp / "report.html"
    write_html(model, out)
    return out


def minute_bundle(root: Path) -> Path:
    """In one minute, 5 sign-ins (INFO) and 2 refused refresh grants (WARN, failures)."""
    s = Ssosp()
    t = T0 + timedelta(hours=1)
    for i in range(5):
        s.login(t + timedelta(seconds=10 * i), f"u{i}")
    for i in range(2):
        s.refresh_refused(t + timedelta(seconds=5 + 10 * i), "u0", CLIENT_A, "tid-x", "expired")
    s.login(T0, "early")
    s.login(T0 + timedelta(hours=2), "late")
    s.write(ssosp_path(root, "ucm-pub", 1))
    return root


@pytest.fixture(scope="module")
def minute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("minute")
    return _write(tmp, minute_bundle(tmp / "b"))


@pytest.fixture(scope="module")
def normal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("normal")
    root = normal_bundle(tmp / "bundle")
    res = logdoctor.load(root)
    fs = list(findings(res))
    fs[1] = replace(fs[1], users=("bob", "carol"))  # LD301; carol is beyond the table
    diag = Diagnosis(findings=tuple(fs), rules_ran=True)
    model = build_report(
        res.frame, res.stats, diag, inputs=["bundle"], limits=Limits(users_shown=2)
    )
    out = tmp / "report.html"
    write_html(model, out)
    return out


# -- charts ----------------------------------------------------------------------------------

PIXEL_AT = """
([chart, bucketStart, value]) => {
  const u = window.logdoctorReport.charts[chart];
  const data = JSON.parse(document.getElementById('ld-chart').textContent);
  const x = Math.round(u.valToPos(bucketStart + data.bucket / 2, 'x', true));
  const y = Math.round(u.valToPos(value, 'y', true));
  const px = u.root.querySelector('canvas').getContext('2d').getImageData(x, y, 1, 1).data;
  return px[3] === 0 ? 'none' : 'rgb(' + px[0] + ', ' + px[1] + ', ' + px[2] + ')';
}
"""


def legend(page: Page, chart: str) -> dict[str, str]:
    return dict(
        page.evaluate(
            """(id) => [...document.querySelectorAll('#' + id + ' .legend li')].map(li => [
                 li.textContent,
                 getComputedStyle(li.querySelector('.swatch')).backgroundColor])""",
            chart,
        )
    )


def test_series_are_stacked_with_failures_red_at_the_bottom(open_report: Any, minute: Path) -> None:
    o = open_report(minute)
    page = o.page
    page.wait_for_function("window.logdoctorReport.charts.length === 3")
    o.assert_clean()
    at = int((T0 + timedelta(hours=1)).replace(tzinfo=UTC).timestamp())
    # levels: 2 failures (WARN refusals) at the bottom, the 5 INFO lines stacked above them
    assert page.evaluate(PIXEL_AT, [0, at, 1]) == RED
    assert page.evaluate(PIXEL_AT, [0, at, 4.5]) == "rgb(31, 119, 180)"  # INFO
    assert page.evaluate(PIXEL_AT, [0, at, 6.5]) == "rgb(31, 119, 180)"  # INFO, from 2 to 7
    assert page.evaluate(PIXEL_AT, [0, at, 7.5]) == "none"  # above the stack: nothing drawn
    # kinds: token.rejected red at the bottom, auth.success above
    assert page.evaluate(PIXEL_AT, [1, at, 1]) == RED
    assert page.evaluate(PIXEL_AT, [1, at, 6.5]) == "rgb(59, 130, 246)"  # auth.success, 2 to 7
    assert list(legend(page, "chart-levels")) == ["failures", "INFO"]
    assert legend(page, "chart-levels")["failures"] == RED


def test_a_kind_has_the_same_colour_in_every_report(
    open_report: Any, minute: Path, normal: Path
) -> None:
    one = open_report(minute).page
    two = open_report(normal).page
    for page in (one, two):
        page.wait_for_function("window.logdoctorReport.charts.length === 3")
    a, b = legend(one, "chart-kinds"), legend(two, "chart-kinds")
    assert set(a) != set(b)  # different kinds in the two reports...
    assert a["token.rejected"] == b["token.rejected"] == RED  # ...the same red for refusals
    for kind in set(a) & set(b):
        assert a[kind] == b[kind], kind


def test_failures_per_hour_panel(open_report: Any, minute: Path) -> None:
    page = open_report(minute).page
    page.wait_for_function("window.logdoctorReport.charts.length === 3")
    panel = page.locator("#chart-failures")
    assert "Failures per hour" in panel.inner_text()
    u = "window.logdoctorReport.charts[2]"
    # 08:00, 09:00 (2 refusals), 10:00 (none: nothing drawn), and the end of the last hour
    assert page.evaluate(f"{u}.data[1]") == [None, 2, None, None]
    at = int((T0 + timedelta(hours=1)).replace(tzinfo=UTC).timestamp())
    got = page.evaluate(
        """([at]) => { const u = window.logdoctorReport.charts[2];
            const x = Math.round(u.valToPos(at + 1800, 'x', true));
            const y = Math.round(u.valToPos(1, 'y', true));
            const c = u.root.querySelector('canvas').getContext('2d');
            const p = c.getImageData(x, y, 1, 1).data;
            return 'rgb(' + p[0] + ', ' + p[1] + ', ' + p[2] + ')'; }""",
        [at],
    )
    assert got == RED


def test_legends_are_static_and_never_show_placeholders(open_report: Any, normal: Path) -> None:
    page = open_report(normal).page
    page.wait_for_function("window.logdoctorReport.charts.length === 3")
    text = page.locator("#timeline").inner_text()
    assert "--" not in text
    names = list(legend(page, "chart-levels"))
    assert names == ["failures", "ERROR", "INFO", "DEBUG"]
    # hovering the chart changes nothing in the legend
    box = page.locator("#chart-levels .u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert list(legend(page, "chart-levels")) == names
    assert "--" not in page.locator("#timeline").inner_text()


def test_one_stray_line_does_not_squash_the_chart(
    open_report: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("stray")
    out = _write(tmp, stray_bundle(tmp / "b"), inputs=[str(tmp / "b")])
    o = open_report(out)
    page = o.page
    page.wait_for_function("window.logdoctorReport.charts.length === 3")
    o.assert_clean()
    t0 = int(T0.replace(tzinfo=UTC).timestamp())
    for i in range(3):
        lo, hi = page.evaluate(
            f"[window.logdoctorReport.charts[{i}].scales.x.min,"
            f" window.logdoctorReport.charts[{i}].scales.x.max]"
        )
        assert t0 - 3600 <= lo <= t0 and hi - lo < 2 * 86400, (i, lo, hi)
    strays = page.locator("#strays + p + .scroll table")
    assert strays.is_visible() and "2014-08-02 23:36:40" in strays.inner_text()
    assert "ucm-sub1/tomcat/logs/ssosp/log4j/ssosp00001.log" in strays.inner_text()


# -- findings --------------------------------------------------------------------------------


def _ld403(i: int) -> Finding:
    rule = get_rule("LD403")
    return Finding(
        rule=RuleId("LD403"),
        severity=Severity.WARNING,
        title=rule.title,
        message=f"CSFUSER{i} is used by two clients at once through expc1.",
        subjects=(f"CSFUSER{i}",),
        fix=rule.doc.fix,
        users=("alice",),
    )


def test_summary_links_to_grouped_cards_and_anchors_are_stable(
    open_report: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("grouped")
    res = logdoctor.load(normal_bundle(tmp / "b"))
    diag = Diagnosis(findings=(*findings(res), *(_ld403(i) for i in range(19))), rules_ran=True)
    out = tmp / "r.html"
    write_html(build_report(res.frame, res.stats, diag), out)
    o = open_report(out)
    page = o.page
    rows = page.locator("#findings-summary tbody tr")
    assert rows.count() == 4
    ld403 = rows.filter(has_text="LD403")
    assert "× 19 device names" in ld403.inner_text()
    assert page.locator("article.finding").count() == 4
    ld403.locator("a").click()
    card = page.locator("#group-LD403")
    assert card.locator("li.member").count() == 19
    top = card.bounding_box()
    assert top is not None and 0 <= top["y"] < 900
    # a member's anchor is its rule and subject, and the address takes the reader there
    page.goto(o.url + "#LD403-CSFUSER7")
    member = page.locator("#LD403-CSFUSER7")
    assert "CSFUSER7 is used by two clients" in member.inner_text()
    box = member.bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    o.assert_clean()


def test_a_findings_user_link_opens_the_users_timeline(open_report: Any, normal: Path) -> None:
    o = open_report(normal)
    page = o.page
    finding = page.locator("#LD301-bob")
    finding.locator("a.user-link", has_text="bob").click()
    row = page.locator("#user-0")
    assert row.is_visible() and row.locator("td.name").inner_text() == "bob"
    drill = page.locator("tr.drill-row")
    assert drill.count() == 1 and "Timeline of bob" in drill.inner_text()
    # carol is beyond the table (2 users listed): the link filters and says what to run
    finding.locator("a.user-link", has_text="carol").click()
    assert page.locator("#user-filter").input_value() == "carol"
    beyond = page.locator("#user-beyond")
    assert beyond.is_visible()
    assert "logdoctor timeline bundle --user carol" in beyond.inner_text()
    o.assert_clean()


def test_the_filter_finds_users_beyond_the_table(open_report: Any, normal: Path) -> None:
    o = open_report(normal)
    page = o.page
    box = page.locator("#user-filter")
    box.fill("CAR")
    assert page.locator("#user-count").inner_text() == "0 of 2 shown"
    text = page.locator("#user-beyond").inner_text()
    assert "1 more matching user beyond the 2 listed" in text
    assert "logdoctor timeline bundle --user carol (4 events, 0 failures)" in text
    box.fill("bob")
    assert not page.locator("#user-beyond").is_visible()
    o.assert_clean()


def test_when_even_the_index_is_cut_the_filter_says_so(
    open_report: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("cut")
    lim = Limits(users_shown=2, users_indexed=0)
    out = _write(tmp, normal_bundle(tmp / "b"), inputs=["b b"], limits=lim)
    page = open_report(out).page
    page.locator("#user-filter").fill("zzz")
    text = page.locator("#user-beyond").inner_text()
    assert "looked through 2 of 3 users" in text
    assert "logdoctor timeline 'b b' --user NAME" in text


def test_failed_lines_are_red_in_the_drill_down(open_report: Any, normal: Path) -> None:
    page = open_report(normal).page
    page.locator("#user-0 button.drill").click()
    events = page.locator("tr.drill-row table").first.locator("tbody tr")
    assert events.count() == 6
    failed = page.locator("tr.drill-row table").first.locator("tbody tr.fail")
    assert failed.count() == 5  # 3 failed logins, 2 refusals; the issued token is not
    bg = failed.first.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg == "rgb(254, 243, 242)"


def test_decisive_fields_are_marked_in_the_evidence(open_report: Any, normal: Path) -> None:
    page = open_report(normal).page
    finding = page.locator("#LD201-imp1")
    finding.locator("details.evidence summary").click()
    marks = finding.locator("table mark")
    assert marks.count() >= 2 and marks.first.is_visible()
    assert marks.first.inner_text() == "check=signature"


# -- layout and no-JS ------------------------------------------------------------------------

LINES = """(el) => { const r = document.createRange(); r.selectNodeContents(el);
  const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
  return tops.size; }"""


def test_phone_layout(open_report: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("phone")
    out = _write(tmp, SAMPLE, inputs=[str(SAMPLE)])
    o = open_report(out, width=400)
    page = o.page
    vw = page.evaluate("document.documentElement.clientWidth")
    names = page.locator("#users-table td.name")
    assert names.count() >= 20
    for cell in names.all():
        if len(cell.inner_text()) <= 12:  # yzimmermann, vherrera: one line, not letters
            assert cell.evaluate(LINES) == 1, cell.inner_text()
    for cell in page.locator("#users-table td.failures").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] + min(box["width"], 40) <= vw
    files = page.locator("#coverage td.file")
    for cell in files.all():
        text = cell.inner_text()
        # relative paths: the nodes' files and the clients' PRTs (jabber-prt/<user>/<device>/)
        assert not text.startswith(str(ROOT)) and text.startswith(("ucm-", "expc", "jabber-prt/"))
        assert cell.evaluate(LINES) <= 3, text
    assert_layout_holds(page)
    o.assert_clean()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#users").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "report-phone-users.png"))


def test_no_dangling_zoom_text_without_javascript(open_report: Any, normal: Path) -> None:
    page = open_report(normal, js=False).page
    caption = page.locator("#timeline p.caption").first.inner_text()
    assert "zoom" not in caption and "double-click" not in caption and " or ." not in caption
    assert caption.endswith("revocations.")
    js = open_report(normal).page.locator("#timeline p.caption").first.inner_text()
    assert "Drag across a chart to zoom; double-click it or reset zoom to see" in js


def test_title_and_header_in_the_browser(open_report: Any, normal: Path) -> None:
    page = open_report(normal).page
    assert page.title() == "bundle: 2 problems to fix · logdoctor"
    header = page.locator("header .meta").first.inner_text()
    assert "(ucm-pub, ucm-sub1) · 2026-11-20 08:00 to 2026-11-20 14:00 UTC · generated" in header
    assert datetime.now(UTC).strftime("%Y-") in header
