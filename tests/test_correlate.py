"""Correlation: lineage, enrichment, sessions, timelines, clock skew, coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import logdoctor
from logdoctor.analysis.coverage import coverage
from logdoctor.analysis.events import Events, merge_nodes
from logdoctor.analysis.lineage import LINEAGE_COLUMNS, enrich, lineage
from logdoctor.analysis.sessions import (
    SESSION_COLUMNS,
    TIMELINE_COLUMNS,
    USER_COLUMNS,
    sessions,
    timeline,
    users,
)
from logdoctor.analysis.skew import clock_skew, correct_skew
from logdoctor.table import POLARS_SCHEMA

CASES = Path(__file__).parent / "assets" / "rules"


def load(case: str) -> Events:
    return Events(logdoctor.load(str(CASES / case)).frame)


def test_merge_orders_several_nodes_by_time() -> None:
    ev = load("healthy/logs")
    t = ev.frame["time"]
    assert ev.frame["node"].n_unique() == 3
    assert t.is_sorted()
    shuffled = ev.frame.sample(fraction=1.0, shuffle=True, seed=3)
    assert merge_nodes(shuffled).equals(ev.frame)


def test_lineage_links_access_tokens_to_their_refresh_token() -> None:
    ev = load("healthy/logs")
    lin = lineage(ev)
    assert lin.columns == list(LINEAGE_COLUMNS)
    assert lin["token_id"].is_unique().all()
    refresh = lin.filter(pl.col("type") == "refresh")
    access = lin.filter(pl.col("type") == "access")
    # every access token has a parent refresh token: the login's, or the one refreshed
    assert access.filter(pl.col("parent").is_null()).height == 0
    assert set(access["parent"].to_list()) <= set(refresh["token_id"].to_list())
    alice = refresh.filter(pl.col("user") == "alice")
    assert alice.height == 1
    tid = alice["token_id"][0]
    children = access.filter(pl.col("parent") == tid)
    refreshed = ev.of("token.refreshed").filter(pl.col("token_id") == tid)
    # one access token at login plus one per refresh grant
    assert children.height == refreshed.height + 1
    assert alice["uses"][0] == refreshed.height
    # validations are counted on the access tokens, at imp1
    validated = children.filter(pl.col("validations") > 0)
    assert validated.height == children.height
    assert all(s.to_list() == ["imp1"] for s in validated["servers"])


def test_lineage_counts_rejections_and_revocations() -> None:
    ev = load("LD301/bad")
    lin = lineage(ev)
    carol = lin.filter((pl.col("type") == "refresh") & (pl.col("user") == "carol"))
    assert carol.height == 1
    row = carol.row(0, named=True)
    assert row["rejections"] == 4
    assert row["reasons"] == ["revoked"]
    assert row["revoke_cause"] == "revoke_api"
    assert row["revoked_at"] is not None and row["revoked_at"] < row["last_use"]


def test_enrich_fills_device_of_validation_lines() -> None:
    ev = load("healthy/logs")
    raw = ev.of("token.validated")
    assert raw["device"].null_count() == raw.height  # the validation line names no device
    enriched = enrich(ev)
    val = enriched.filter(pl.col("kind") == "token.validated")
    assert val["device"].null_count() == 0
    assert enriched.height == ev.frame.height
    assert enriched["time"].is_sorted()


def test_sessions_per_user_and_device() -> None:
    ev = load("LD106/bad")  # one-day refresh tokens: everybody logs in again on day two
    enriched = enrich(ev)
    sess = sessions(enriched)
    assert sess.columns == list(SESSION_COLUMNS)
    per_user = sess.filter(pl.col("session") > 0).group_by("user").len()
    assert dict(per_user.iter_rows()) == {"alice": 2, "bob": 2, "carol": 2, "dave": 2}
    first = sess.filter((pl.col("user") == "alice") & (pl.col("session") == 1)).row(0, named=True)
    assert first["login_grant"] == "authorization_code"
    assert first["refresh_token"] is not None
    assert first["refreshes"] >= 3
    assert first["ended_by"] == "relogin"
    assert first["failures"] == 1 and first["last_failure"] == "expired"
    last = sess.filter((pl.col("user") == "alice") & (pl.col("session") == 2)).row(0, named=True)
    assert last["ended_by"] == "open"


def test_users_summary() -> None:
    ev = load("LD303/bad")
    enriched = enrich(ev)
    u = users(enriched)
    assert u.columns == list(USER_COLUMNS)
    frank = u.filter(pl.col("user") == "frank").row(0, named=True)
    assert frank["failures"] == 3 and frank["reasons"] == ["inactive_user"]
    assert frank["logins"] == 3
    alice = u.filter(pl.col("user") == "alice").row(0, named=True)
    assert alice["failures"] == 0 and alice["refreshes"] > 0


def test_timeline_of_a_user_device_node_and_token() -> None:
    ev = load("healthy/logs")
    lin = lineage(ev)
    enriched = enrich(ev, lin)
    tl = timeline(enriched, user="dave", lin=lin)
    assert tl.columns == list(TIMELINE_COLUMNS)
    assert set(tl["user"].to_list()) == {"dave"}
    assert tl["time"].is_sorted()
    assert {"authorize.request", "token.refreshed", "token.validated"} <= set(tl["kind"].to_list())
    by_device = timeline(enriched, device="CSFDAVE", lin=lin)
    # the same lines, less the authentication lines (they name no device)
    assert by_device.height == tl.filter(pl.col("device") == "CSFDAVE").height
    assert set(tl.filter(pl.col("device").is_null())["kind"].to_list()) == {"auth.success"}
    by_node = timeline(enriched, node="imp1")
    assert set(by_node["node"].to_list()) == {"imp1"}
    tid = lin.filter((pl.col("type") == "refresh") & (pl.col("user") == "dave"))["token_id"][0]
    tok = timeline(enriched, token=tid, lin=lin)
    kinds = set(tok["kind"].to_list())
    # the refresh token's own lines and its access tokens' lines (issued, validated)
    assert {
        "token.refresh.issued",
        "token.refreshed",
        "token.access.issued",
        "token.validated",
    } <= kinds
    assert timeline(enriched, user="nobody").height == 0


def test_clock_skew_found_and_corrected() -> None:
    ev = load("LD903/bad")  # imp1 runs five minutes behind
    report = clock_skew(ev, reference="ucm-pub")
    assert report.reference == "ucm-pub"
    offsets = dict(report.offsets)
    assert offsets["imp1"] == pytest.approx(-300, abs=4)
    assert abs(offsets["ucm-sub1"]) <= 2
    assert [n for n, _o in report.skewed()] == ["imp1"]
    pair = next(p for p in report.pairs if "imp1" in (p.a, p.b))
    assert len(pair.worst) == 2 and pair.worst[0].kind == "token.access.issued"
    fixed = correct_skew(ev.frame, report)
    again = clock_skew(Events(fixed), reference="ucm-pub")
    assert again.skewed() == []
    moved = (
        fixed.filter(pl.col("node") == "imp1")["time"]
        - ev.frame.sort(["time", "node", "file", "line"]).filter(pl.col("node") == "imp1")["time"]
    )
    assert moved.len() > 0


def test_no_skew_on_healthy_logs() -> None:
    report = clock_skew(load("healthy/logs"))
    assert report.skewed() == []
    assert set(report.offsets) == {"ucm-pub", "ucm-sub1", "imp1"}


def test_coverage_and_gaps() -> None:
    bad = coverage(load("LD902/bad"))
    pub = next(c for c in bad if c.node == "ucm-pub" and c.family == "ssosp")
    assert [f.number for f in pub.files] == [1, 3]
    assert len(pub.gaps) == 1
    gap = pub.gaps[0]
    assert gap.kind == "missing file" and gap.missing == ("ssosp00002.log",)
    assert gap.seconds > 1800
    assert gap.before is not None and gap.after is not None
    assert gap.before.time is not None and gap.after.time is not None
    assert gap.before.time < gap.after.time
    good = coverage(load("LD902/good"))
    assert all(not c.gaps for c in good)
    assert sum(c.records for c in good) == load("LD902/good").frame.height


def _stream(node: str, start: datetime, step: timedelta, n: int) -> pl.DataFrame:
    rows = []
    for i in range(n):
        row = dict.fromkeys(POLARS_SCHEMA)
        row.update(
            time=start + i * step,
            node=node,
            family="ssosp",
            file=f"{node}/ssosp00001.log",
            line=i + 1,
            kind="token.refreshed",
            message=f"line {i}",
        )
        rows.append(row)
    return pl.DataFrame(rows, schema=POLARS_SCHEMA)


def _days(node: str, days: int) -> pl.DataFrame:
    """Two records a minute from 08:00 to 18:00 on each day, nothing at night."""
    t0 = datetime(2026, 11, 16, 8, tzinfo=UTC)
    return pl.concat(
        [_stream(node, t0 + timedelta(days=d), timedelta(seconds=30), 1200) for d in range(days)]
    ).with_columns(pl.int_range(pl.len()).add(1).alias("line"))


def test_silence_in_hours_busy_on_other_days_is_a_gap() -> None:
    busy = _days("ucm-pub", 3)
    assert not [g for c in coverage(Events(busy)) for g in c.gaps]  # quiet nights
    day2 = datetime(2026, 11, 17, tzinfo=UTC)
    lo, hi = day2.replace(hour=10), day2.replace(hour=11, minute=30)
    cut = busy.filter((pl.col("time") < lo) | (pl.col("time") >= hi))
    gaps = [g for c in coverage(Events(cut)) for g in c.gaps]
    assert len(gaps) == 1
    g = gaps[0]
    assert (g.node, g.kind) == ("ucm-pub", "silence")
    assert g.seconds == pytest.approx(5430, abs=31)
    assert 178 <= g.expected <= 181  # 120 records an hour on the other days
    assert g.before is not None and g.before.time is not None and g.before.time < lo


def test_silence_on_a_single_day_is_not_judged() -> None:
    one = _days("ucm-pub", 1)
    t0 = datetime(2026, 11, 16, 10, tzinfo=UTC)
    cut = one.filter((pl.col("time") < t0) | (pl.col("time") >= t0 + timedelta(hours=2)))
    assert not [g for c in coverage(Events(cut)) for g in c.gaps]


def test_skew_evidence_is_the_first_row_of_the_issue_file_and_line() -> None:
    """A pair's issue line is the first row (in time order) of its file and line number,
    read from the rows of that line number only: the same row as filtering every row."""
    from logdoctor.analysis.evidence import from_rows
    from logdoctor.analysis.skew import _link_evidence

    ev = load("LD903/bad")
    rows = ev.frame.filter(pl.col("line").is_not_null()).sample(n=30, seed=3)
    for file, line in rows.select("file", "line").iter_rows():
        fake = {"fa": file, "la": line, "b": "x", "fb": "f", "lb": 1, "tb": None, "kb": "k"}
        got = _link_evidence(ev, {**fake, "mb": "m"})
        want = ev.frame.filter((pl.col("file") == file) & (pl.col("line") == line)).head(1)
        assert got[:-1] == from_rows(want) and len(got) == 2
    assert _link_evidence(ev, {**fake, "fa": "no-such", "mb": "m"})[:-1] == ()
