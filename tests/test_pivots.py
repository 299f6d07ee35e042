"""From one output to the next: id prefixes, names in any case, unknown names with the closest
ones, timeline filters, parse merged by time."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from click.testing import CliRunner, Result

from logdoctor.analysis.pivots import (
    AmbiguousPrefix,
    UnknownValue,
    closest,
    missing,
    resolve_prefix,
    time_ordered,
)
from logdoctor.cli import main
from tests.helpers.paths import ROOT

SAMPLE = ROOT / "sample_logs" / "expressway-refresh-ucm-off"
TOKEN = "4127c6d7-57f6-4274-a184-5b59e7158b66"
"""lchen2's refresh token, refused 15 times."""


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args] + ["--tz", "UTC"])


def jsonl(res: Result) -> list[dict[str, object]]:
    return [json.loads(x) for x in res.stdout.splitlines()]


# -- ids by prefix --------------------------------------------------------------------------------


@pytest.mark.parametrize("given", [TOKEN, "4127c6d7", "4127c6d7…", "id=4127c6d7…", "4127C6D7"])
def test_a_token_prefix_as_the_timeline_prints_it_is_enough(given: str) -> None:
    res = run("timeline", SAMPLE, "--token", given, "--format", "jsonl")
    assert res.exit_code == 0, res.output
    rows = jsonl(res)
    assert len(rows) == 15 and {r["token_id"] for r in rows} == {TOKEN}


def test_an_ambiguous_prefix_is_one_line_listing_candidates() -> None:
    res = run("timeline", SAMPLE, "--token", "4")
    assert res.exit_code == 2
    (line,) = res.stderr.splitlines()
    assert line.startswith("logdoctor: error: token '4' is ambiguous: 48 ids start with it (")
    assert TOKEN in line and "and 43 more); give more characters" in line


def test_an_unknown_token_exits_1() -> None:
    res = run("timeline", SAMPLE, "--token", "ffffffff")
    assert res.exit_code == 1 and "no such token 'ffffffff'" in res.stderr


def test_resolve_prefix() -> None:
    ids = ["abc123", "abd999", "xyz"]
    assert resolve_prefix("abc", ids) == "abc123"
    assert resolve_prefix("XYZ", ids) == "xyz"
    with pytest.raises(AmbiguousPrefix, match="2 ids start with it"):
        resolve_prefix("ab", ids)
    with pytest.raises(UnknownValue, match="closest: abc123"):
        resolve_prefix("abc124", ids)


# -- names in any case, unknown names -------------------------------------------------------------


def test_users_and_devices_match_in_any_case() -> None:
    lower = jsonl(run("timeline", SAMPLE, "--user", "lchen2", "--format", "jsonl"))
    upper = jsonl(run("timeline", SAMPLE, "--user", "LCHEN2", "--format", "jsonl"))
    # lchen2's lines: UCM's and the Expressway's (server, edge) and lchen2's own Jabber log (PRT)
    assert len(lower) == 242 and upper == lower
    assert sum(r["side"] == "server" for r in lower) == 75
    dev = jsonl(run("timeline", SAMPLE, "--device", "botlchen2", "--format", "jsonl"))
    assert dev and {r["device"] for r in dev} == {"BOTLCHEN2"}
    parsed = jsonl(run("parse", SAMPLE, "--user", "LChen2", "--format", "jsonl"))
    assert parsed and {r["user"] for r in parsed} == {"lchen2"}
    node = jsonl(
        run("parse", SAMPLE, "--node", "UCM-PUB", "--kind", "token.purged", "--format", "jsonl")
    )
    assert len(node) == 3 and {r["node"] for r in node} == {"ucm-pub"}


@pytest.mark.parametrize("command", ["timeline", "parse"])
def test_an_unknown_user_names_the_closest_and_exits_1(command: str) -> None:
    res = run(command, SAMPLE, "--user", "lchen3", "--format", "jsonl")
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        "logdoctor: error: no such user 'lchen3'; closest: lchen, lchen2"
    ]
    far = run(command, SAMPLE, "--user", "nobody")
    assert far.exit_code == 1
    assert "no such user 'nobody'; these logs have abianchi, glee" in far.stderr


def test_an_unknown_user_in_a_streamed_parse_exits_1_too() -> None:
    res = run("parse", SAMPLE, "--user", "lchen3", "--format", "jsonl", "--order", "file")
    assert res.exit_code == 1 and "no such user 'lchen3'; closest: lchen, lchen2" in res.stderr


def test_unknown_device_and_node() -> None:
    dev = run("timeline", SAMPLE, "--device", "CSFLCHEN3")
    assert dev.exit_code == 1 and "no such device 'CSFLCHEN3'; closest: CSFLCHEN" in dev.stderr
    node = run("timeline", SAMPLE, "--node", "ucm-sub3")
    assert (
        node.exit_code == 1
        and "no such node 'ucm-sub3'; closest: ucm-sub2, ucm-sub1" in node.stderr
    )
    assert run("timeline", SAMPLE, "--node", "UCM-SUB1", "--format", "jsonl").exit_code == 0


def test_closest_and_missing() -> None:
    assert closest("MALVAREZ", ["malvarez", "mlopez", "x"]) == ["malvarez"]
    assert missing(["Alice"], ["alice"], "user") is None
    assert missing(["bob"], [], "user") == "no such user 'bob' (none in these logs)"


# -- timeline filters -----------------------------------------------------------------------------


def test_timeline_since_until_kind_failures() -> None:
    window = run(
        "timeline",
        SAMPLE,
        "--user",
        "lchen2",
        "--since",
        "2026-11-16T07:17:09",
        "--until",
        "2026-11-16T07:17:10",
        "--format",
        "jsonl",
    )
    rows = jsonl(window)
    assert rows and all(
        "2026-11-16T07:17:09" <= str(r["time"]) < "2026-11-16T07:17:10" for r in rows
    )
    # the sign-in from the three sides: the client's PRT (client.sso), the Expressway that
    # relays it (its request and response) and UCM's lines
    assert {r["kind"] for r in rows} == {
        "authorize.request",
        "auth.success",
        "code.issued",
        "client.sso",
        "edge.request",
        "edge.response",
    }
    assert {r["side"] for r in rows} == {"client", "edge", "server"}
    kinds = jsonl(
        run("timeline", SAMPLE, "--user", "lchen2", "--kind", "token.*", "--format", "jsonl")
    )
    assert kinds and all(str(r["kind"]).startswith("token.") for r in kinds)
    fails = jsonl(run("timeline", SAMPLE, "--failures", "--format", "jsonl"))
    # UCM's 183 refusals and, in the PRTs, the clients' 183 refused refreshes
    assert len(fails) == 366
    assert {r["kind"] for r in fails} == {"token.rejected", "client.refresh.failed"}
    assert sum(r["kind"] == "token.rejected" for r in fails) == 183
    alone = run("timeline", SAMPLE, "--kind", "token.purged", "--format", "jsonl")
    assert alone.exit_code == 0 and len(jsonl(alone)) == 3  # the nightly purge, 3 nights
    bad = run("timeline", SAMPLE, "--kind", "nope")
    assert bad.exit_code == 2 and "--kind 'nope': not an event kind" in bad.stderr


# -- parse merged by time -------------------------------------------------------------------------


def test_parse_merges_files_by_time_and_order_file_keeps_file_order() -> None:
    merged = jsonl(run("parse", SAMPLE, "--kind", "token.rejected", "--format", "jsonl"))
    times = [str(r["time"]) for r in merged]
    assert times == sorted(times) and merged[0]["node"] == "ucm-sub1"
    assert merged[0]["time"] == "2026-11-16T07:16:47.942Z"  # the earliest refusal
    nodes = [r["node"] for r in merged]
    assert sum(1 for a, b in itertools.pairwise(nodes) if a != b) > 10  # interleaved
    by_file = jsonl(
        run("parse", SAMPLE, "--kind", "token.rejected", "--format", "jsonl", "--order", "file")
    )
    assert [r["node"] for r in by_file][:1] == ["ucm-pub"]
    blocks = [
        n for i, n in enumerate(r["node"] for r in by_file) if i == 0 or by_file[i - 1]["node"] != n
    ]
    assert blocks == ["ucm-pub", "ucm-sub1", "ucm-sub2"]  # three blocks, file by file
    assert sorted(map(json.dumps, by_file)) == sorted(map(json.dumps, merged))


def test_time_ordered_keeps_untimed_lines_after_their_files_last_timed_line() -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    secs = [None, 30, None, 10, 40]
    frame = pl.DataFrame(
        {
            "file": ["a", "a", "a", "b", "b"],
            "line": [1, 2, 3, 1, 2],
            "time": [None if s is None else base + timedelta(seconds=s) for s in secs],
        }
    )
    out = time_ordered(frame)
    assert list(zip(out["file"], out["line"], strict=True)) == [
        ("a", 1),  # before its file's first timed line
        ("b", 1),
        ("a", 2),
        ("a", 3),  # follows a:2
        ("b", 2),
    ]
