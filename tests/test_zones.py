"""Time zones: each node's zone from the deployment file, else --tz, else a warning that UTC was
assumed; times shown in the logs' zone with the offset (--display-tz), JSON in UTC unless asked.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from logdoctor.cli import main
from logdoctor.timestamps import UTC_ZONE, ZoneBook, display_zone, resolve_zone, zone_book
from logdoctor.ucm.deployment import parse_deployment
from logdoctor.ucm.deploymodel import DeploymentError
from tests.helpers.paths import ASSETS

CASE = ASSETS / "rules" / "LD101" / "bad"
RAW = "2026-11-16 09:52:09,967"
"""The first refused refresh grant on ucm-sub1, as the log writes it (no zone)."""

DEPLOYMENT = """\
[[cluster]]
name = "ucm"
publisher = "ucm-pub"
subscribers = ["ucm-sub1"]
imp = ["imp1"]
timezone = "America/New_York"
node_timezones = { "ucm-sub1" = "Europe/Paris" }
"""


def run(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    p = tmp_path / "deployment.toml"
    p.write_text(DEPLOYMENT, encoding="utf-8")
    return p


def warnings(res: Result) -> list[str]:
    return [ln for ln in res.stderr.splitlines() if ln.startswith("logdoctor: warning:")]


def refusals(res: Result) -> list[dict[str, object]]:
    rows = [json.loads(ln) for ln in res.stdout.splitlines()]
    return [r for r in rows if r["kind"] == "token.rejected"]


# -- the deployment file ------------------------------------------------------------------------


def test_deployment_declares_zones_per_cluster_and_per_node(config: Path) -> None:
    d = parse_deployment(config.read_text(), str(config))
    zones = d.node_zones()
    assert zones["ucm-pub"] == ("America/New_York", f"{config}:6")
    assert zones["imp1"] == ("America/New_York", f"{config}:6")
    assert zones["ucm-sub1"] == ("Europe/Paris", f"{config}:7")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('timezone = "Mars/Olympus"', ":6: cluster[0].timezone: 'Mars/Olympus' is not a time zone"),
        (
            'node_timezones = { "ucm-sub9" = "UTC" }',
            "cluster[0].node_timezones.ucm-sub9: not a node of this cluster (allowed: ucm-pub",
        ),
        ("node_timezones = 3", "cluster[0].node_timezones: must be a table"),
    ],
)
def test_a_bad_zone_names_the_file_line_and_key(extra: str, message: str) -> None:
    text = '[[cluster]]\nname = "ucm"\npublisher = "ucm-pub"\nsubscribers = ["ucm-sub1"]\n\n'
    with pytest.raises(DeploymentError, match=r"d\.toml") as err:
        parse_deployment(text + extra + "\n", "d.toml")
    assert message in str(err.value)


# -- which zone the times are read in ----------------------------------------------------------


def test_times_are_read_in_each_nodes_declared_zone(config: Path) -> None:
    res = run("parse", CASE, "--config", config, "--format", "jsonl", "--kind", "token.rejected")
    assert res.exit_code == 0, res.output
    assert warnings(res) == []  # every node's zone is declared: nothing was assumed
    first = {r["node"]: r["time"] for r in reversed(refusals(res))}
    # 09:52:09.967 in Paris (UTC+1 in November) is 08:52:09.967 UTC.
    assert first["ucm-sub1"] == "2026-11-16T08:52:09.967Z"
    plain = run("parse", CASE, "--tz", "UTC", "--format", "jsonl", "--kind", "token.rejected")
    utc = {r["node"]: r["time"] for r in reversed(refusals(plain))}
    assert utc["ucm-sub1"] == "2026-11-16T09:52:09.967Z"
    # ucm-pub is in New York (UTC-5): five hours later in UTC than read as UTC.
    assert first["ucm-pub"] > utc["ucm-pub"]
    assert int(first["ucm-pub"][11:13]) - int(utc["ucm-pub"][11:13]) == 5  # type: ignore[index]


def test_check_uses_the_deployment_files_zones(config: Path) -> None:
    res = run("check", CASE, "--config", config, "--format", "json", "--select", "LD101")
    doc = json.loads(res.stdout)
    times = [e["time"] for e in doc["findings"][0]["evidence"] if e["node"] == "ucm-sub1"]
    assert "2026-11-16T08:52:09.967Z" in times
    assert warnings(res) == []


def test_utc_assumed_is_one_warning_line_and_tz_or_deployment_silence_it(config: Path) -> None:
    res = run("parse", CASE, "--format", "jsonl")
    assert res.exit_code == 0
    (line,) = warnings(res)
    assert "times without a zone were read as UTC (imp1, ucm-pub, ucm-sub1: 3 file(s))" in line
    assert "--tz ZONE" in line
    assert warnings(run("parse", CASE, "--format", "jsonl", "--tz", "UTC")) == []
    assert warnings(run("parse", CASE, "--format", "jsonl", "--config", config)) == []
    for args in (("check", CASE), ("timeline", CASE, "--user", "carol"), ("report", CASE)):
        out = run(*args) if args[0] != "report" else run(*args, "-o", config.parent / "r.html")
        assert any("read as UTC" in w for w in warnings(out)), args


def test_the_deployment_file_wins_over_tz_and_says_so(config: Path) -> None:
    res = run("parse", CASE, "--config", config, "--tz", "UTC", "--format", "jsonl")
    lines = warnings(res)
    assert any(
        "ucm-sub1: times read in Europe/Paris" in w and "not --tz UTC" in w for w in lines
    ), lines
    first = {r["node"]: r["time"] for r in reversed(refusals(res))}
    assert first["ucm-sub1"] == "2026-11-16T08:52:09.967Z"


def test_a_folder_named_by_address_gets_the_zone_of_the_node_it_is(
    config: Path, tmp_path: Path
) -> None:
    """Zones go by canonical node names: ucm-sub1's folder is named by the address the
    deployment file lists for it, imp1's by one only its lines tie to it (learnt in a first
    pass, before any time is read), ucm-pub's by an address nothing places (UTC assumed)."""
    root = tmp_path / "by-ip"
    for node, ip in (("ucm-pub", "10.0.0.1"), ("ucm-sub1", "10.0.0.2"), ("imp1", "10.0.0.3")):
        shutil.copytree(CASE / node, root / ip)
    conf = tmp_path / "addresses.toml"
    conf.write_text(
        DEPLOYMENT + '\n[cluster.addresses]\n"ucm-sub1" = ["10.0.0.2"]\n', encoding="utf-8"
    )
    res = run("parse", root, "--config", conf, "--format", "jsonl")
    assert res.exit_code == 0, res.output
    rows = [json.loads(ln) for ln in res.stdout.splitlines()]
    assert {r["node"] for r in rows} == {"10.0.0.1", "ucm-sub1", "imp1"}
    first = {r["node"]: r["time"] for r in reversed(refusals(res))}
    assert first["ucm-sub1"] == "2026-11-16T08:52:09.967Z"  # read in Paris
    (line,) = warnings(res)
    assert "read as UTC (10.0.0.1: 1 file(s))" in line
    plain = run("parse", root, "--tz", "UTC", "--format", "jsonl", "--node", "imp1")
    utc = [json.loads(ln)["time"] for ln in plain.stdout.splitlines()]
    imp1 = [r["time"] for r in rows if r["node"] == "imp1"]
    assert utc and len(imp1) == len(utc)
    assert int(imp1[0][11:13]) - int(utc[0][11:13]) == 5  # read in New York (UTC-5)
    # The same when the names are learnt first because --node asks for one.
    only = run("parse", root, "--config", conf, "--format", "jsonl", "--node", "10.0.0.3")
    assert [json.loads(ln)["time"] for ln in only.stdout.splitlines()] == imp1
    check = run("check", root, "--config", conf, "--format", "json", "--select", "LD101")
    doc = json.loads(check.stdout)
    times = [e["time"] for f in doc["findings"] for e in f["evidence"] if e["node"] == "ucm-sub1"]
    assert "2026-11-16T08:52:09.967Z" in times


# -- which zone the times are shown in ---------------------------------------------------------


def test_text_shows_the_logs_zone_so_times_match_the_raw_lines() -> None:
    res = run("parse", CASE, "--tz", "America/New_York", "--kind", "token.rejected")
    assert res.exit_code == 0
    assert "2026-11-16 09:52:09.967 -05:00" in res.stdout  # the line's own wall-clock time
    utc = run(
        "parse", CASE, "--tz", "America/New_York", "--kind", "token.rejected", "--display-tz", "utc"
    )
    assert "2026-11-16 14:52:09.967 +00:00" in utc.stdout
    tl = run("timeline", CASE, "--tz", "America/New_York", "--kind", "token.rejected")
    assert "11-16 09:52:09.967 -05:00" in tl.stdout
    check = run("check", CASE, "--tz", "America/New_York", "--select", "LD101")
    assert "seen 2026-11-16 08:56:48 -05:00 .. 2026-11-16 11:43:34 -05:00" in check.stdout
    line = "11-16 09:52:09.967  ucm-sub1 ssosp00001.log:3 [documented]  Token request refused"
    assert line in check.stdout


def test_display_tz_local_follows_the_machines_zone() -> None:
    res = run(
        "parse",
        CASE,
        "--tz",
        "UTC",
        "--kind",
        "token.rejected",
        "--display-tz",
        "local",
        env={"TZ": "Asia/Tokyo"},
    )
    assert "2026-11-16 18:52:09.967 +09:00" in res.stdout


def test_json_stays_utc_unless_a_display_zone_is_given() -> None:
    base = ("timeline", CASE, "--tz", "America/New_York", "--kind", "token.rejected")
    plain = [json.loads(x)["time"] for x in run(*base, "--format", "jsonl").stdout.splitlines()]
    assert plain[0] == "2026-11-16T13:56:48.967Z"  # 08:56:48.967 in New York
    shown = run(*base, "--format", "jsonl", "--display-tz", "America/New_York")
    assert json.loads(shown.stdout.splitlines()[0])["time"] == "2026-11-16T08:56:48.967-05:00"
    check = run("check", CASE, "--tz", "America/New_York", "--format", "json")
    assert json.loads(check.stdout)["summary"]["first_time"].endswith("Z")
    zoned = run(
        "check", CASE, "--tz", "America/New_York", "--format", "json", "--display-tz", "+05:30"
    )
    assert json.loads(zoned.stdout)["summary"]["first_time"].endswith("+05:30")
    events = run("parse", CASE, "--tz", "UTC", "--format", "csv", "--display-tz", "Europe/Paris")
    assert "2026-11-16T10:52:09.967+01:00" in events.stdout


def test_since_without_offset_is_read_in_the_zone_times_are_shown_in() -> None:
    args = (
        "parse",
        CASE,
        "--tz",
        "America/New_York",
        "--kind",
        "token.rejected",
        "--format",
        "jsonl",
    )
    at = run(*args, "--since", "2026-11-16T09:52:09.967", "--until", "2026-11-16T09:52:10")
    rows = refusals(at)
    assert [r["node"] for r in rows] == ["ucm-sub1"], at.output


# -- the zone book -------------------------------------------------------------------------------


def test_zone_book_precedence_and_the_log_hook() -> None:
    book = zone_book("UTC", {"ucm-pub": ("Europe/Paris", "d.toml:6")})
    assert book.zone_of("ucm-pub").source == "deployment"
    assert book.zone_of("ucm-sub1").source == "option"
    # A zone stated by the node's own log (CiscoSyslog's two clocks, later) outranks both.
    book.record_from_log("ucm-pub", resolve_zone("Asia/Tokyo"), "syslog:3")
    book.record_from_log("ucm-pub", resolve_zone("UTC"), "syslog:9")  # the first one stays
    nz = book.zone_of("ucm-pub")
    assert (nz.zone.name, nz.source, nz.where) == ("Asia/Tokyo", "log", "syslog:3")
    empty = ZoneBook()
    assert empty.zone_of("x").source == "assumed" and empty.zone_of("x").zone == UTC_ZONE
    empty.note_read("x", "a.log")
    assert empty.assumed() == {"x": ["a.log"]} and empty.logs_zone() is None
    both = zone_book(None, {"a": ("UTC", "d:1"), "b": ("Europe/Paris", "d:2")})
    both.note_read("a", "1")
    both.note_read("b", "2")
    assert both.logs_zone() is None  # two zones: no single one to show
    assert display_zone(None, both.logs_zone()) == UTC_ZONE
    one = zone_book("America/New_York")
    one.note_read("a", "1")
    assert one.logs_zone() is not None and one.logs_zone().name == "America/New_York"  # type: ignore[union-attr]


def test_a_bundle_copied_elsewhere_keeps_its_zone(tmp_path: Path, config: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(CASE, copy)
    res = run(
        "timeline", copy, "--config", config, "--kind", "token.rejected", "--node", "ucm-sub1"
    )
    assert "11-16 09:52:09.967 +01:00" in res.stdout  # the logs' zone, declared for ucm-sub1
