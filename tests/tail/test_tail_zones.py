"""The tail reads each node's zone-less times in the zone its own CiscoSyslog states, as
``logdoctor.load`` does: the same UTC times for a bundle whose nodes are in two zones."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl

import logdoctor
from logdoctor.tail.tailer import Batch, Tailer

from .test_tailer import run, start

SAMPLE = Path(__file__).resolve().parent.parent.parent / "sample_logs" / "expressway-refreshed-late"


def _key(node: str, family: str | None, line: int) -> tuple[str, str, int]:
    return node, family or "", line


def test_the_tail_reads_each_node_in_its_stated_zone(tmp_path: Path, tailers: list[Tailer]) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(SAMPLE, bundle, ignore=shutil.ignore_patterns("*.json", "*.toml"))
    loaded = logdoctor.load([bundle]).frame
    want = {
        _key(r["node"], r["family"], r["line"]): r["time"]
        for r in loaded.select("node", "family", "line", "time").to_dicts()
    }
    t = start(tailers, bundle, from_start=True, idle_flush=0.05)
    got: Batch = run(t, lambda b: len(b.events) >= len(want), timeout=60.0)
    times = {_key(e.node, e.family, e.line): e.time for e in got.events}
    assert len(times) == len(want)
    wrong = [k for k, v in want.items() if times.get(k) != v]
    assert wrong == []
    # the zones matter: ucm-pub (New York) writes five hours behind UTC, ucm-sub1 (Berlin)
    # one hour ahead; both read back to the UTC that load() gives
    for node, hours in (("ucm-pub", -5), ("ucm-sub1", 1)):
        first = next((bundle / node).rglob("ssosp00001.log")).read_text().splitlines()[0]
        utc = times[_key(node, "ssosp", 1)]
        assert first.startswith((utc + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S"))
    assert not [n for n in got.notices if "CiscoSyslog states" in n.message]


def test_a_zone_stated_after_a_file_was_read_gives_a_notice(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    """A CiscoSyslog that appears later applies to the node's files opened after it; one read
    already keeps its zone, and the tail says so."""
    pub = next(SAMPLE.joinpath("ucm-pub").rglob("ssosp00001.log"))
    node = tmp_path / "ucm-pub"
    ssosp = node / "tomcat/logs/ssosp-tomcat/log4j/ssosp00001.log"
    ssosp.parent.mkdir(parents=True)
    t = start(tailers, tmp_path, idle_flush=0.05)
    ssosp.write_text(pub.read_text().splitlines()[0] + "\n")
    first = run(t, lambda b: len(b.events) >= 1).events[0]
    (node / "syslog").mkdir()
    syslog = SAMPLE / "ucm-pub/syslog/CiscoSyslog"
    (node / "syslog/CiscoSyslog").write_text(syslog.read_text())
    later = run(t, lambda b: any("CiscoSyslog states -05:00" in n.message for n in b.notices))
    assert any(n.path == str(ssosp) for n in later.notices)
    audit = node / "audit/AuditApp/AuditApp00001.log"
    audit.parent.mkdir(parents=True)
    audit.write_text((SAMPLE / "ucm-pub/audit/AuditApp/AuditApp00001.log").read_text())
    want = {
        r["line"]: r["time"]
        for r in logdoctor.load([SAMPLE])
        .frame.filter((pl.col("node") == "ucm-pub") & (pl.col("family") == "auditapp"))
        .to_dicts()
    }
    got = run(t, lambda b: sum(e.family == "auditapp" for e in b.events) >= len(want)).events
    assert {e.line: e.time for e in got if e.family == "auditapp"} == want
    assert first.time.hour == int(pub.read_text()[11:13])  # read as UTC, as it was then
