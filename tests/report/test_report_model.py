"""The report model built from a real bundle: users, lineage, markers, coverage, shapes, chart,
verdict and findings (built here, as the check engine hands them over)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import logdoctor
from logdoctor.ingest.load import LoadResult
from logdoctor.model import EventKind, Finding, RuleId, Severity
from logdoctor.report import ConfigFact, Diagnosis, Limits, build_report
from logdoctor.report.aggregate import choose_bucket
from logdoctor.report.build import bucket_label, fmt_duration
from tests.helpers.report import CLIENT_A, CLIENT_B, T0, evidence_from, findings, normal_bundle


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return normal_bundle(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def loaded(root: Path) -> LoadResult:
    return logdoctor.load(root)


def utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)


def show(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def user_rows(report: Any) -> dict[str, Any]:
    return {u.user: u for u in report.users}


def test_per_user_counts_failures_by_reason_and_order(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats)
    assert [u.user for u in r.users] == ["bob", "alice", "carol"]  # most failures first
    rows = user_rows(r)
    alice, bob, carol = rows["alice"], rows["bob"], rows["carol"]
    assert (alice.logins, alice.access, alice.refreshes, alice.failures) == (2, 4, 3, 0)
    assert alice.last_seen == show(T0 + timedelta(hours=6, seconds=5))
    # the IM&P validation failure names only the jti: it is bob's through the token he got
    assert bob.failures == 5
    assert dict(bob.failures_by_reason) == {
        "inactive_user": 2,
        "bad_password": 1,
        "expired": 1,
        "signature": 1,
    }
    assert bob.failures_by_reason[0] == ("inactive_user", 2)  # most frequent reason first
    assert (carol.logins, carol.access, carol.refreshes, carol.failures) == (1, 0, 0, 0)
    assert r.users_total == 3 and all(u.drill for u in r.users)


def test_users_table_is_capped_and_says_how_many_exist(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats, limits=Limits(users_shown=2, drill_users=1))
    assert [u.user for u in r.users] == ["bob", "alice"] and r.users_total == 3
    assert [u.drill for u in r.users] == [True, False]
    assert r.drill["users"][0] is not None and len(r.drill["users"]) == 1


def _decode(drill: dict[str, Any], i: int) -> list[tuple[str, str, str]]:
    s = drill["s"]
    return [(s[e[1]], s[e[2]], s[e[5]]) for e in drill["users"][i]["ev"]]


def test_drill_down_holds_each_users_events_in_time_order(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats)
    names = [u.user for u in r.users]
    bob = _decode(r.drill, names.index("bob"))
    assert [k for k, _, _ in bob] == [
        "auth.failure",
        "auth.failure",
        "auth.failure",
        "token.access.issued",
        "token.rejected",
        "token.rejected",
    ]
    assert bob[4][2] == "jti-b1"  # the rejected validation, attributed through its jti
    times = [e[0] for e in r.drill["users"][names.index("alice")]["ev"]]
    assert times == sorted(times)
    alice_nodes = {n for _, n, _ in _decode(r.drill, names.index("alice"))}
    assert alice_nodes == {"ucm-pub", "ucm-sub1"}
    assert r.drill["meaning"]["token.rejected"] == EventKind.TOKEN_REJECTED.description


def test_drill_down_is_capped_per_user_keeping_first_and_last(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats, limits=Limits(drill_events_per_user=4))
    names = [u.user for u in r.users]
    alice = r.drill["users"][names.index("alice")]
    assert len(alice["ev"]) == 4 and alice["more"] == 13 - 4
    kinds = [r.drill["s"][e[1]] for e in alice["ev"]]
    assert kinds[0] == "auth.success" and kinds[-1] == "token.validated"  # 14:00:05, the last
    t0 = r.drill["t0"]
    last = datetime.fromtimestamp(t0 + alice["ev"][-1][0], UTC)
    assert last == utc(T0 + timedelta(hours=6, seconds=5))


def _lineage(r: Any, user: str) -> dict[str, dict[str, Any]]:
    names = [u.user for u in r.users]
    return {c["c"]: c for c in r.drill["users"][names.index(user)]["lin"]}


def test_token_lineage_per_user_and_client(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats)
    t0 = r.drill["t0"]

    def at(rel: float | None) -> datetime | None:
        return None if rel is None else datetime.fromtimestamp(t0 + rel, UTC)

    alice = _lineage(r, "alice")
    assert list(alice) == [CLIENT_A]
    (tid,) = alice[CLIENT_A]["r"]
    assert tid[0] == "tid-alice-1" and tid[3] == 3  # refreshed three times
    assert at(tid[1]) == utc(T0 + timedelta(minutes=1, seconds=1))
    assert at(tid[2]) == utc(T0 + timedelta(minutes=135))
    access = {a[0]: a for a in alice[CLIENT_A]["a"]}
    assert set(access) == {"jti-a1", "jti-a2", "jti-a3", "jti-a4"}
    assert access["jti-a1"][8] == "authorization_code" and access["jti-a2"][8] == "refresh_token"
    # issued on ucm-pub, validated by imp1 (the line is in ucm-sub1's log)
    assert access["jti-a2"][3] == 1 and access["jti-a2"][12] == "ucm-pub → imp1"
    assert access["jti-a2"][9] == "3600"  # lifetime: expires_at - issued_at
    assert access["jti-a3"][3] == 0
    bob = _lineage(r, "bob")[CLIENT_B]
    assert {a[0]: (a[4], a[5]) for a in bob["a"]} == {"jti-b1": (1, "signature")}
    assert {t[0]: (t[4], t[5], t[1]) for t in bob["r"]} == {"tid-bob-1": (1, "expired", None)}
    carol = _lineage(r, "carol")[CLIENT_B]
    (ct,) = carol["r"]
    assert at(ct[6]) == utc(T0 + timedelta(minutes=30)) and ct[7] == "revoke_api"


def test_lineage_keeps_the_most_recent_tokens(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats, limits=Limits(lineage_tokens=2))
    c = _lineage(r, "alice")[CLIENT_A]
    assert [a[0] for a in c["a"]] == ["jti-a4", "jti-a3"] and c["am"] == 2
    assert c["rm"] == 0


def test_markers_for_configuration_keys_restarts_and_revocations(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats)
    got = [(m.time, m.kind, m.detail) for m in r.markers]
    assert got == [
        (show(T0), "config.changed", "refresh_login_flow=on"),
        (show(T0 + timedelta(minutes=30)), "revoke.request", "user carol"),
        (show(T0 + timedelta(minutes=30)), "token.revoked", "cause revoke_api"),
        (show(T0 + timedelta(minutes=100)), "key.regenerated", "key signing"),
        (show(T0 + timedelta(minutes=101)), "service.started", "Cisco Tomcat"),
    ]
    assert r.markers_total == 5
    assert [m[1] for m in r.chart["markers"]] == [k for _, k, _ in got]
    assert r.chart["markers"][0][0] == int(utc(T0).timestamp())
    capped = build_report(loaded.frame, loaded.stats, limits=Limits(markers=2))
    # configuration and key events win over revocations when the cap bites
    assert [m.kind for m in capped.markers] == ["config.changed", "key.regenerated"]
    assert capped.markers_total == 5


def test_coverage_per_file_relative_to_the_input(loaded: LoadResult, root: Path) -> None:
    r = build_report(loaded.frame, loaded.stats, inputs=[str(root)])
    files = {c.file + "@" + c.node: c for c in r.coverage}
    first = files["ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log@ucm-pub"]
    assert first.path == f"{root}/{first.file}"
    assert (first.lines, first.records, first.unrecognized, first.malformed) == (26, 26, 4, 0)
    assert first.first == show(T0) and first.last == show(T0 + timedelta(minutes=135))
    assert first.span == "2 h 15 min"
    # one day of traffic: the 3 h 45 min between the two files is no gap for LD902 (no other
    # day says those hours are busy), and the report's gap table follows LD902
    assert r.gaps == () and r.gaps_total == 0 and all(c.gaps == 0 for c in r.coverage)


def test_unreadable_input_is_in_coverage_and_the_verdict(tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    bad = root / "ucm-pub" / "platform" / "log" / "certMgmt00001.log"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"\x00\x01\x02 binary")
    res = logdoctor.load(root)
    r = build_report(res.frame, res.stats)
    (row,) = [c for c in r.coverage if c.error]
    assert row.file.endswith("certMgmt00001.log") and "binary" in row.error
    assert any("could not be read" in n for n in r.verdict.notes)


def test_unrecognized_messages_grouped_by_shape(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats)
    assert [(s.shape, s.count) for s in r.shapes] == [
        ("Cache refresh took <n> ms for id <hex>", 3),
        ("Heartbeat from <ip> port <n>", 1),
    ]
    assert r.shapes_total == 2 and r.unrecognized_total == 4
    ex = r.shapes[0].example
    assert ex.excerpt == "Cache refresh took 1200 ms for id 4f3a9c1e" and ex.node == "ucm-pub"
    assert ex.time == show(T0 + timedelta(minutes=101))
    second = r.shapes[0].second
    assert second is not None and second.excerpt == "Cache refresh took 5 ms for id 77ee01ff"
    assert r.shapes[0].family == "ssosp" and r.shapes[0].first == ex.time
    assert r.shapes[0].last == show(T0 + timedelta(minutes=103))
    # the command that drafts it; the one-off heartbeat needs --min-count 1
    assert (
        r.shapes[0].command == "logdoctor formats suggest BUNDLE --family ssosp -o ssosp-draft.toml"
    )
    with_inputs = build_report(loaded.frame, loaded.stats, inputs=["/b/my bundle"])
    assert [s.command for s in with_inputs.shapes] == [
        "logdoctor formats suggest '/b/my bundle' --family ssosp -o ssosp-draft.toml",
        "logdoctor formats suggest '/b/my bundle' --family ssosp --min-count 1 -o ssosp-draft.toml",
    ]
    assert build_report(loaded.frame, loaded.stats, limits=Limits(shapes=1)).shapes_total == 2


def _series_total(series: list[Any], n: int) -> int:
    total = 0
    for _name, _color, enc, data in series:
        total += sum(data) if enc == "d" else sum(data[1::2])
        if enc == "d":
            assert len(data) == n
    return total


def test_chart_counts_every_timed_event_once_by_level_and_by_kind(loaded: LoadResult) -> None:
    r = build_report(loaded.frame, loaded.stats)
    c = r.chart
    assert c["bucket"] == 60 and r.bucket_label == "minute"
    assert c["start"] == int(utc(T0).timestamp()) and c["n"] == 6 * 60 + 1
    assert _series_total(c["levels"], c["n"]) == loaded.frame.height == 30
    assert _series_total(c["kinds"], c["n"]) == 30
    # failures (3 failed logins, 2 refusals: WARN lines) first, then the other lines by level
    assert [name for name, *_ in c["levels"]] == ["failures", "ERROR", "INFO", "DEBUG"]
    fail = c["levels"][0]
    assert fail[1] == "#d62728" and _series_total([fail], c["n"]) == 5
    few = build_report(loaded.frame, loaded.stats, limits=Limits(kinds_charted=3))
    names = [name for name, *_ in few.chart["kinds"]]
    assert len(names) == 4 and names[-1] == "other"
    # the failure kinds are charted before the most frequent others
    assert names[:2] == ["auth.failure", "token.rejected"]
    assert _series_total(few.chart["kinds"], few.chart["n"]) == 30


@pytest.mark.parametrize(
    ("span", "cap", "bucket"),
    [(3600, 6000, 60), (5 * 86400, 6000, 300), (365 * 86400, 6000, 7200), (10**9, 100, 10**7)],
)
def test_bucket_is_the_smallest_that_fits(span: int, cap: int, bucket: int) -> None:
    lo = 1_700_000_000
    b = choose_bucket(lo, lo + span, cap)
    assert (lo + span) // b - lo // b + 1 <= cap
    assert b == bucket or (bucket == 10**7 and b > 604800)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45 s"),
        (60, "1 min"),
        (754, "12 min 34 s"),
        (3600, "1 h"),
        (13500, "3 h 45 min"),
        (2 * 86400 + 3 * 3600, "2 d 3 h"),
    ],
)
def test_durations(seconds: int, text: str) -> None:
    assert fmt_duration(seconds) == text


def test_bucket_labels() -> None:
    assert [bucket_label(b) for b in (60, 300, 3600, 7200, 86400)] == [
        "minute",
        "5 minutes",
        "hour",
        "2 hours",
        "day",
    ]


# -- findings and verdict ------------------------------------------------------------------------


def test_findings_sorted_by_severity_with_capped_evidence(loaded: LoadResult) -> None:
    diag = Diagnosis(findings=findings(loaded), rules_ran=True)
    r = build_report(loaded.frame, loaded.stats, diag, limits=Limits(evidence_per_finding=1))
    assert [(f.rule, f.severity) for f in r.findings] == [
        ("LD201", "error"),
        ("LD301", "warning"),
        ("LD901", "info"),
    ]
    err = r.findings[0]
    assert len(err.evidence) == 1 and err.evidence_more == 39
    ev = err.evidence[0]
    assert ev.kind == "token.rejected" and ev.meaning == EventKind.TOKEN_REJECTED.description
    assert ev.node == "ucm-pub" and ev.line == 10 and ev.file == "ssosp00001.log"
    assert ev.path.endswith("ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log")
    assert ev.excerpt.startswith("Token validation failed: server=imp1 check=signature")
    assert err.first_seen == show(T0 + timedelta(minutes=9))
    assert r.findings[1].evidence_more == 2  # 3 lines, 1 shown
    v = r.verdict
    assert v.level == "error" and dict(v.counts) == {"error": 1, "warning": 1, "info": 1}
    assert v.first_step == "Run `set key regen authz signing` on the publisher."
    assert v.first_anchor == err.anchor == "LD201-imp1"
    assert v.headline == "2 problems to fix. Worst: IM&P holds an old signing key"


@pytest.mark.parametrize(
    ("severities", "ran", "level"),
    [
        ((), False, "unknown"),
        ((), True, "ok"),
        (("info",), True, "info"),
        (("info", "warning"), True, "warning"),
    ],
)
def test_verdict_levels(
    loaded: LoadResult, severities: tuple[str, ...], ran: bool, level: str
) -> None:
    fs = tuple(
        Finding(rule=RuleId(f"LD90{i}"), severity=Severity(s), title=f"t{i}", message="m")
        for i, s in enumerate(severities)
    )
    r = build_report(loaded.frame, loaded.stats, Diagnosis(findings=fs, rules_ran=ran))
    assert r.verdict.level == level
    if level == "unknown":
        assert "did not run" in r.verdict.headline and not r.rules_ran
    if level == "info":
        assert r.verdict.headline.startswith("No problem at warning or above")


def test_config_facts_status_and_evidence(loaded: LoadResult) -> None:
    ev = evidence_from(loaded, "config.changed")
    facts = (
        ConfigFact(
            "parameters.refresh_login_flow",
            declared="off",
            inferred="on",
            reason="An enterprise parameter change set it.",
            evidence=ev,
            evidence_total=1,
            declared_at="deployment.toml:7",
        ),
        ConfigFact("parameters.implicit_grant", declared="on"),
        ConfigFact("keys.signing", inferred="abab", subject="ucm-pub"),
        ConfigFact("parameters.access_token_expiry_minutes", declared="60", inferred="60"),
    )
    r = build_report(loaded.frame, loaded.stats, Diagnosis(config=facts, rules_ran=True))
    assert [c.status for c in r.config] == ["differ", "declared only", "inferred only", "agree"]
    first = r.config[0]
    assert first.evidence[0].kind == "config.changed" and first.evidence_more == 0
    assert first.declared_at == "deployment.toml:7"


def test_no_events_at_all_still_gives_a_report() -> None:
    from logdoctor.outputs.html import render_html
    from logdoctor.table import empty_frame

    r = build_report(empty_frame(), [])
    assert r.events == 0 and r.users == () and r.chart["n"] == 0 and r.shapes == ()
    assert r.drill["users"] == [] and r.markers == () and r.gaps == ()
    assert r.verdict.level == "unknown"
    assert r.verdict.headline == "Not analysed: no log record was read."
    html = render_html(r)
    assert "No timed event to chart." in html and "No event names a user." in html


def test_events_without_users_or_times(loaded: LoadResult) -> None:
    import polars as pl

    frame = loaded.frame.with_columns(pl.lit(None, dtype=pl.String).alias("user"))
    r = build_report(frame, loaded.stats)
    assert r.users == () and r.users_total == 0 and r.drill["users"] == []
    untimed = loaded.frame.with_columns(pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("time"))
    r = build_report(untimed, loaded.stats)
    assert r.chart["n"] == 0 and r.markers == () and r.first == ""
    assert [u.user for u in r.users] == ["bob", "alice", "carol"]
