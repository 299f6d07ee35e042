"""What the report shows the 2am reader, on the model and the rendered page (the browser side is
in test_report_browser_ux.py): fixed colours, failures per hour, the time range and stray
lines, one gap definition (LD902's), one correlation, grouped findings with stable anchors and
linked users, fix markup, decisive fields, the header, settings side by side, and what could
not be checked."""

from __future__ import annotations

import colorsys
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import logdoctor
from logdoctor.analysis.lineage import lineage
from logdoctor.ingest.load import LoadResult
from logdoctor.model import FAILURE_KINDS, EventKind, Evidence, Finding, RuleId, Severity
from logdoctor.outputs.html import render_html
from logdoctor.pipeline import check
from logdoctor.report import Diagnosis, Limits, build_report, diagnose
from logdoctor.report import aggregate as agg
from logdoctor.report.colors import FAILURE_COLOR, KIND_COLORS, kind_color
from logdoctor.report.diagnose import correlation_of, unchecked_of
from logdoctor.report.model import Correlation
from logdoctor.report.views import bundle_name, code_parts, mark_parts, rel_path, subject_noun
from logdoctor.rules import Context, get_rule
from logdoctor.rules.registry import Needs
from logdoctor.ucm.deployment import parse_deployment
from tests.helpers.paths import ROOT
from tests.helpers.report import (
    CLIENT_B,
    T0,
    Ssosp,
    busy_bundle,
    findings,
    normal_bundle,
    ssosp_path,
    stray_bundle,
)

SAMPLE = ROOT / "sample_logs" / "expressway-refresh-ucm-off"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> LoadResult:
    return logdoctor.load(normal_bundle(tmp_path_factory.mktemp("bundle")))


def _hue_sat(color: str) -> tuple[float, float]:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, _l, s = colorsys.rgb_to_hls(r, g, b)
    return h * 360, s


def _red(color: str) -> bool:
    hue, sat = _hue_sat(color)
    return sat > 0.4 and (hue <= 8 or hue >= 340)


# -- colours ---------------------------------------------------------------------------------


def test_every_kind_has_a_fixed_colour_and_only_failures_are_red() -> None:
    assert {k.value for k in EventKind} <= set(KIND_COLORS)
    assert kind_color("token.rejected") == FAILURE_COLOR
    for kind, color in KIND_COLORS.items():
        assert _red(color) == (kind in FAILURE_KINDS), (kind, color, _hue_sat(color))
    assert len(set(KIND_COLORS.values())) == len(KIND_COLORS)  # no two kinds look alike


def test_a_kinds_colour_does_not_depend_on_what_else_is_charted(loaded: LoadResult) -> None:
    def colours(r: object) -> dict[str, str]:
        return {name: color for name, color, *_ in r.chart["kinds"]}  # type: ignore[attr-defined]

    full = colours(build_report(loaded.frame, loaded.stats))
    only = loaded.frame.filter(pl.col("kind").is_in(["token.rejected", "token.validated"]))
    few = colours(build_report(only, loaded.stats))
    assert set(few) == {"token.rejected", "token.validated"}
    for name, color in few.items():
        assert full[name] == color == KIND_COLORS[name]
    assert few["token.rejected"] == FAILURE_COLOR


def test_failures_per_hour(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats)
    fail = r.chart["fail"]
    assert fail["bucket"] == 3600 and fail["color"] == FAILURE_COLOR
    assert fail["start"] == int(T0.replace(tzinfo=UTC).timestamp()) and fail["n"] == 7
    enc, data = fail["data"]
    counts = data if enc == "d" else dict(zip(data[::2], data[1::2], strict=True))
    # 3 failed logins and 2 refusals, all between 08:05 and 08:10
    assert (counts if enc == "s" else {i: v for i, v in enumerate(counts) if v}) == {0: 5}


# -- time range ------------------------------------------------------------------------------


def test_one_stray_line_does_not_stretch_the_chart(tmp_path: Path) -> None:
    root = stray_bundle(tmp_path / "b")
    res = logdoctor.load(root)
    r = build_report(res.frame, res.stats, inputs=[str(root)])
    t0 = int(T0.replace(tzinfo=UTC).timestamp())
    assert r.chart["start"] == t0 and r.chart["bucket"] == 60  # not a bucket of days
    assert r.first == "2026-11-20 08:00" and r.last == "2026-11-20 14:00"
    (stray,) = r.strays
    assert (stray.node, stray.count, stray.first) == ("ucm-sub1", 1, "2014-08-02 23:36:40.000")
    assert stray.file == "ucm-sub1/tomcat/logs/ssosp/log4j/ssosp00001.log"
    assert "reason=expired" in stray.example.excerpt
    assert r.stray_lines == 1 and r.stray_groups == 1
    # the stray line is still counted everywhere else
    assert r.events == res.frame.height and "dave" in {u.user for u in r.users}
    html = render_html(r)
    assert 'id="strays"' in html and "2014-08-02 23:36:40.000" in html


def test_time_range_keeps_every_stretch_that_holds_data() -> None:
    base = datetime(2026, 1, 5, 9, tzinfo=UTC)
    times = [base + timedelta(minutes=i) for i in range(50)]
    times += [base + timedelta(days=30, minutes=i) for i in range(50)]  # a second month
    frame = pl.DataFrame(
        {"time": times, "node": ["n"] * 100, "file": ["f"] * 100, "line": list(range(100))}
    ).with_columns(pl.lit("x").alias("message"), pl.lit("k").alias("kind"))
    rng = agg.time_range(frame, Limits())
    assert rng.stray_lines == 0  # two stretches of half the lines each: both charted
    assert rng.lo == int(times[0].timestamp()) and rng.hi == int(times[-1].timestamp())


# -- one gap definition, one correlation -------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "gaps"),
    [
        ({}, []),  # 14 h of silence every night: no gap
        ({"silence_day": 1}, [("silence", "3 h 2 min")]),
        ({"skip_file": True}, [("missing file", None)]),
    ],
)
def test_the_gap_table_is_ld902s(
    tmp_path: Path, kwargs: dict[str, int], gaps: list[object]
) -> None:
    root = busy_bundle(tmp_path / "b", **kwargs)  # type: ignore[arg-type]
    res = logdoctor.load(root)
    r = build_report(res.frame, res.stats, diagnose(res), inputs=[str(root)])
    ld902 = [f for f in check([root]).findings if f.rule == "LD902"]
    assert [(g.kind, g.duration if g.kind == "silence" else None) for g in r.gaps] == gaps
    assert len(ld902) == (1 if gaps else 0)
    assert r.gaps_total == len(gaps)
    for g in r.gaps:
        assert g.node == "ucm-pub" and g.family == "ssosp"
        assert f"{len(gaps)} gap(s)" in ld902[0].message
        if g.kind == "missing file":
            assert g.where == "ssosp00001.log → ssosp00003.log (missing ssosp00002.log)"
        else:
            assert g.expected == 90 and g.start.startswith("2026-11-17 10:58")
    per_file = {c.file.rsplit("/", 1)[-1]: c.gaps for c in r.coverage}
    assert sum(per_file.values()) == len(gaps)


def test_the_report_uses_the_correlation_it_is_given(loaded: LoadResult) -> None:
    ctx = Context(loaded.frame, loaded.stats)
    corr = correlation_of(ctx)
    assert corr.events is ctx.events.frame and corr.lineage is ctx.lineage
    renamed = corr.events.with_columns(
        pl.when(pl.col("user") == "bob")
        .then(pl.lit("robert"))
        .otherwise(pl.col("user"))
        .alias("user")
    )
    lineage = corr.lineage.with_columns(
        pl.when(pl.col("user") == "bob")
        .then(pl.lit("robert"))
        .otherwise(pl.col("user"))
        .alias("user")
    )
    diag = Diagnosis(correlation=Correlation(renamed, lineage, corr.coverage))
    r = build_report(loaded.frame, loaded.stats, diag)
    assert [u.user for u in r.users] == ["robert", "alice", "carol"]
    i = [u.user for u in r.users].index("robert")
    assert {c["c"] for c in r.drill["users"][i]["lin"]} == {CLIENT_B}


def test_the_report_has_no_lineage_enrichment_or_gaps_of_its_own() -> None:
    for name in ("enrich_users", "_lineage", "file_gaps", "FileGaps", "rotation_stem"):
        assert not hasattr(agg, name), name


def test_drill_down_lineage_is_the_correlations(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats)
    lin = lineage(loaded.frame)
    names = [u.user for u in r.users]
    for user in names:
        for c in r.drill["users"][names.index(user)]["lin"]:
            for typ, rows in (("refresh", c["r"]), ("access", c["a"])):
                for row in rows:
                    want = lin.filter(pl.col("token_id") == row[0]).row(0, named=True)
                    assert want["type"] == typ and want["user"] == user
                    used = want["refreshes"] if typ == "refresh" else want["validations"]
                    assert (row[3], row[4]) == (used, want["rejections"])


# -- findings --------------------------------------------------------------------------------


def _ld403(device: str, user: str) -> Finding:
    rule = get_rule("LD403")
    return Finding(
        rule=RuleId("LD403"),
        severity=Severity.WARNING,
        title=rule.title,
        message=f"{device} is used by two clients at once through expc1.",
        subjects=(device,),
        fix=rule.doc.fix,
        users=(user,),
    )


def test_identical_findings_are_grouped_with_stable_anchors(loaded: LoadResult) -> None:
    devices = [_ld403(f"CSF USER/{i}", f"user{i}") for i in range(19)]
    ld202 = get_rule("LD202")
    restarts = [
        Finding(
            rule=RuleId("LD202"),
            severity=Severity.ERROR,
            title=ld202.title,
            message=f"{node} did not restart Cisco CallManager.",
            subjects=(node,),
            fix=ld202.doc.fix,
        )
        for node in ("ucm-sub2", "ucm-sub1")
    ]
    diag = Diagnosis(findings=(*devices, *restarts, *findings(loaded)), rules_ran=True)
    r = build_report(loaded.frame, loaded.stats, diag)
    assert [(g.rule, g.count, g.noun) for g in r.groups] == [
        ("LD201", 1, "central cluster"),
        ("LD202", 2, "nodes"),
        ("LD301", 1, "user"),
        ("LD403", 19, "device names"),
        ("LD901", 1, "node"),
    ]
    g202 = r.groups[1]
    assert g202.anchor == "group-LD202"
    assert [m.anchor for m in g202.members] == ["LD202-ucm-sub1", "LD202-ucm-sub2"]
    g403 = r.groups[3]
    assert g403.members[0].anchor == "LD403-CSF-USER-0" and g403.users == 19
    assert len({f.anchor for f in r.findings}) == len(r.findings) == 24
    assert r.verdict.first_anchor == "LD201-imp1"
    html = render_html(r)
    summary = html.split('id="findings-summary"', 1)[1].split("</table>", 1)[0]
    assert summary.count("<tr class=") == 5
    assert "× 19 device names" in summary and "× 2 nodes" in summary
    assert 'href="#group-LD403"' in summary and 'href="#LD201-imp1"' in summary
    assert html.count('<article class="finding') == 5 and html.count(" data-finding=") == 24
    # the fix of a group is written once
    assert html.count(ld202.doc.fix[0].split("`")[0][:40]) == 1


def test_anchors_are_slugs_unique_per_page(loaded: LoadResult) -> None:
    fs = tuple(
        Finding(rule=RuleId("LD301"), severity=Severity.WARNING, title="t", message=m, subjects=s)
        for m, s in (("a", ("bob",)), ("b", ("bob",)), ("c", ('"><x y=1>',)), ("d", ()))
    )
    r = build_report(loaded.frame, loaded.stats, Diagnosis(findings=fs, rules_ran=True))
    assert [f.anchor for f in r.findings] == ["LD301", "LD301-x-y-1", "LD301-bob", "LD301-bob-2"]


def test_subject_nouns_come_from_the_rule_pages() -> None:
    assert subject_noun(get_rule("LD403").doc.sections["Detection"]) == "device name"
    assert subject_noun(get_rule("LD101").doc.sections["Detection"]) == "Expressway"
    assert subject_noun(get_rule("LD902").doc.sections["Detection"]) == "node"
    assert subject_noun("no such sentence") == "subject"


def test_a_findings_users_link_to_their_rows(loaded: LoadResult) -> None:
    f = replace(findings(loaded)[1], users=("bob", "carol"))  # LD301
    lim = Limits(users_shown=2)  # bob, alice listed; carol beyond the table
    r = build_report(loaded.frame, loaded.stats, Diagnosis(findings=(f,)), limits=lim)
    (view,) = r.findings
    assert [(u.name, u.row) for u in view.users] == [("bob", 0), ("carol", None)]
    html = render_html(r)
    assert '<a class="user-link" href="#user-0" data-row="0">bob</a>' in html
    assert '<a class="user-link" href="#users" data-user="carol">carol</a>' in html
    assert '<tr class="user-row" id="user-0" data-u="0">' in html


def test_fix_steps_and_messages_render_code_escaped(loaded: LoadResult) -> None:
    f = Finding(
        rule=RuleId("LD105"),
        severity=Severity.WARNING,
        title="t",
        message="Run ``show key authz signing`` now",
        fix=("Type `<script>alert(1)</script>` and `set key regen authz signing`.",),
    )
    assert code_parts("a `b` c ``d``") == (("a ", False), ("b", True), (" c ", False), ("d", True))
    html = render_html(build_report(loaded.frame, loaded.stats, Diagnosis(findings=(f,))))
    assert (
        "<li>Type <code>&lt;script&gt;alert(1)&lt;/script&gt;</code> and "
        "<code>set key regen authz signing</code>.</li>"
    ) in html
    assert "Run <code>show key authz signing</code> now" in html
    assert "<script>alert(1)" not in html


def test_decisive_fields_of_evidence_are_marked(loaded: LoadResult) -> None:
    assert mark_parts("refused: grant=refresh_token reason=expired via=- x") == (
        ("refused: grant=refresh_token ", False),
        ("reason=expired", True),
        (" via=- x", False),
    )
    diag = Diagnosis(findings=findings(loaded), rules_ran=True)
    html = render_html(build_report(loaded.frame, loaded.stats, diag))
    assert "<mark>check=signature</mark>" in html and "<mark>via=-</mark>" not in html


def test_header_facts_are_spaced_and_to_the_minute(loaded: LoadResult) -> None:
    now = datetime(2026, 12, 5, 6, 48, 3, 123000, tzinfo=UTC)
    html = render_html(build_report(loaded.frame, loaded.stats, inputs=["b"], now=now))
    header = html.split('<p class="meta">', 1)[1].split("</p>", 1)[0]
    assert header == (
        "30 events from 2 nodes (ucm-pub, ucm-sub1) · 2026-11-20 08:00 to 2026-11-20 14:00 UTC"
        " · generated 2026-12-05 06:48:03 UTC by logdoctor " + logdoctor.__version__
    )
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", header)


def test_paths_are_shown_relative_to_the_input() -> None:
    assert rel_path("s/b/ucm-pub/x.log", ["s/b"]) == "ucm-pub/x.log"
    assert rel_path("s/b.zip!ucm-pub/x.log", ["s/b.zip"]) == "ucm-pub/x.log"
    assert rel_path("/abs/a.log", ["/abs/a.log"]) == "a.log"
    assert rel_path("elsewhere/a.log", ["s/b"]) == "elsewhere/a.log"
    assert bundle_name(["x/site-b/"]) == "site-b"
    assert bundle_name(["x/site-b.tar.gz", "y"]) == "site-b + 1 more"


# -- users beyond the table ------------------------------------------------------------------


def test_the_filter_index_holds_the_users_beyond_the_table(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats, inputs=["b"], limits=Limits(users_shown=2))
    assert [u.user for u in r.users] == ["bob", "alice"]
    assert r.user_index == {"total": 3, "listed": 2, "beyond": [["carol", 4, 0]], "inputs": ["b"]}
    cut = build_report(loaded.frame, loaded.stats, limits=Limits(users_shown=2, users_indexed=0))
    assert cut.user_index["beyond"] == [] and cut.user_index["total"] == 3


# -- settings side by side -------------------------------------------------------------------


def test_declared_settings_are_shown_beside_the_inferred_ones() -> None:
    res = logdoctor.load(SAMPLE)
    diag = diagnose(res, SAMPLE / "deployment.toml")
    rows = {(c.name, c.subject): c for c in diag.config}
    assert rows[("parameters.refresh_token_expiry_days", "")].status == "declared only"
    assert rows[("role", "cuc1")].status == "declared only"
    flow = rows[("expressway.authorize_by_oauth_token_with_refresh", "expc1")]
    assert (flow.declared, flow.inferred, flow.status) == ("on", "on", "agree")
    text = (SAMPLE / "deployment.toml").read_text(encoding="utf-8").splitlines()
    line = 1 + text.index('authorize_by_oauth_token_with_refresh = "on"')
    assert flow.declared_at == f"deployment.toml:{line}"
    role = rows[("role", "expc2")]
    assert (role.declared, role.inferred, role.status) == ("expressway", "expressway", "agree")
    jabber = [c for c in diag.config if c.name == "jabber"]
    assert jabber and all(c.declared is not None and c.status == "agree" for c in jabber)
    statuses = {c.status for c in diag.config}
    assert {"declared only", "agree"} <= statuses
    # every setting the file declares is on a row
    dep = parse_deployment((SAMPLE / "deployment.toml").read_text(encoding="utf-8"))
    declared = {(c.name, c.subject) for c in diag.config if c.declared is not None}
    for e in dep.expressways:
        assert ("role", e.name) in declared
        assert ("expressway.authorize_by_oauth_token_with_refresh", e.name) in declared
    html = render_html(build_report(res.frame, res.stats, diag))
    assert html.count('class="fact status-declared-only"') >= 2


def test_a_declared_value_that_differs_is_shown_as_such(tmp_path: Path) -> None:
    cfg = tmp_path / "d.toml"
    text = (SAMPLE / "deployment.toml").read_text(encoding="utf-8")
    cfg.write_text(text.replace('refresh_login_flow = "off"', 'refresh_login_flow = "on"', 1))
    diag = diagnose(logdoctor.load(SAMPLE), cfg)
    row = next(c for c in diag.config if c.name == "parameters.refresh_login_flow")
    assert (row.declared, row.inferred, row.status) == ("on", "off", "differ")
    assert row.declared_at == "d.toml:14"


# -- what could not be checked ---------------------------------------------------------------


def _ctx(root: Path, config: str | None = None) -> Context:
    res = logdoctor.load(root)
    dep = None if config is None else parse_deployment(config)
    return Context(res.frame, res.stats, dep)


def test_rules_that_lack_their_logs_are_listed_from_their_needs(tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    diag = diagnose(logdoctor.load(root))
    reasons = {u.rule: (u.state, u.reason) for u in diag.unchecked}
    assert reasons["LD203"] == ("not checked", "no logs of an IM and Presence node")
    assert reasons["LD201"][0] == "not checked" and "central cluster" in reasons["LD201"][1]
    assert reasons["LD104"] == (
        "not checked",
        "it compares the logs with a deployment file (--config)",
    )
    assert "LD101" not in reasons and "LD902" not in reasons
    # IM and Presence logs arrive: LD203 can be checked
    imp = Ssosp()
    imp.add(T0, "INFO", "misc.Startup", "Cisco XCP Authentication Service loaded key: use=signing")
    imp.write(ssosp_path(root, "imp1", 1))
    ctx = _ctx(root, "[[cluster]]\nname = 'c'\npublisher = 'ucm-pub'\nimp = ['imp1']\n")
    assert ctx.reach(get_rule("LD203").needs).state == "checked"
    assert ctx.reach(get_rule("LD201").needs).state == "config only"
    assert ctx.reach(get_rule("LD104").needs).state == "checked"


def test_unchecked_follows_each_rules_declared_needs(loaded: LoadResult) -> None:
    """Nothing is listed by hand: a rule's needs decide."""
    ctx = Context(loaded.frame, loaded.stats)
    base = get_rule("LD301")
    unity = replace(base, needs=Needs(roles=("unity",)))
    two = replace(base, needs=Needs(nodes=3))
    ssoapp = replace(base, needs=Needs(families=("certmgmt",)))
    got = {u.reason for u in unchecked_of(ctx, [base, unity, two, ssoapp])}
    assert got == {
        "no logs of a Unity Connection node",
        "it needs logs of 3 nodes or more; these logs have 2 such nodes",
        "no certmgmt logs",
    }


def test_the_page_lists_what_could_not_be_checked(tmp_path: Path) -> None:
    res = logdoctor.load(normal_bundle(tmp_path / "b"))
    diag = diagnose(res)
    r = build_report(res.frame, res.stats, diag)
    html = render_html(r)
    section = html.split('<section id="unchecked"', 1)[1].split("</section>", 1)[0]
    assert "<code>LD203</code>" in section and "no logs of an IM and Presence node" in section
    assert any("could not be checked" in n and "LD203" in n for n in r.verdict.notes)
    nochk = len([u for u in diag.unchecked if u.state == "not checked"])
    assert f'<a href="#unchecked">Not checked ({nochk})</a>' in html


def test_evidence_shows_the_file_name_and_keeps_the_path(loaded: LoadResult) -> None:
    ev = Evidence(
        "ucm-pub", "/very/long/abs/ucm-pub/tomcat/logs/ssosp/log4j/x.log", 3, None, "k", "e"
    )
    f = Finding(
        rule=RuleId("LD301"), severity=Severity.INFO, title="t", message="m", evidence=(ev,)
    )
    (view,) = build_report(loaded.frame, loaded.stats, Diagnosis(findings=(f,))).findings
    assert view.evidence[0].file == "x.log" and view.evidence[0].path == ev.file
