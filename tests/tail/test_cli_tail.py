"""``logdoctor tail`` as a user runs it: a real process, real files, Ctrl-C, restart."""

from __future__ import annotations

import collections
import contextlib
import gzip
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from logdoctor.cli import main
from logdoctor.cli.tail_view import LiveState, render, summary_line
from logdoctor.ingest.parse import Record
from logdoctor.model import Evidence, Finding, RuleId, Severity
from logdoctor.tail.follow_events import Notice
from logdoctor.tail.jsonl import read_records
from logdoctor.tail.tailer import Batch, TailStats

from .conftest import append
from .test_tailer import debug, node_dir, refused


class Proc:
    """A ``logdoctor tail`` process whose stdout lines are read by a thread."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.p = subprocess.Popen(
            [sys.executable, "-m", "logdoctor.cli", "tail", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.q: queue.Queue[str] = queue.Queue()
        assert self.p.stdout is not None
        self.reader = threading.Thread(target=self._pump, args=(self.p.stdout,), daemon=True)
        self.reader.start()

    def _pump(self, fh: IO[str]) -> None:
        for line in fh:
            self.q.put(line)

    def records(self, n: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"got {len(out)} of {n} records: {out}")
            try:
                out.append(json.loads(self.q.get(timeout=left)))
            except queue.Empty:
                continue
        return out

    def interrupt(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        self.p.send_signal(sig)
        code = self.p.wait(timeout=20)
        self.reader.join(timeout=10)  # stdout is read to its end by the reader thread
        assert self.p.stderr is not None
        return code, self.p.stderr.read()

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.communicate(timeout=10)


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    made: list[Proc] = []
    yield made
    for p in made:
        p.kill()


def events_only(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in recs if r["type"] == "event"]


@pytest.mark.slow
def test_jsonl_stream_ctrl_c_summary_checkpoint_and_exact_restart(
    tmp_path: Path, procs: list[Proc]
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    state = tmp_path / "tail-state.json"
    args = ["--format", "jsonl", "--state", str(state), "--from-start", "--idle-flush", "0.05"]
    p = Proc(*args, str(logs))
    procs.append(p)
    log = node_dir(logs, "cucm-sub") / "ssosp00001.log"
    with log.open("a", encoding="utf-8") as fh:
        fh.write(refused(1) + debug(2, "servlet path :/showHome.do"))
    recs = events_only(p.records(2))
    assert [(r["kind"], r["node"], r["line"]) for r in recs] == [
        ("token.rejected", "cucm-sub", 1),
        ("sso.filter", "cucm-sub", 2),
    ]
    assert recs[0]["time"] == "2026-11-20T08:45:01.500Z" and recs[0]["user"] == "alice"
    code, err = p.interrupt()
    assert code == 0
    assert "logdoctor tail: 1 file(s), 2 lines, 2 events" in err
    assert f"checkpoint saved to {state}" in err
    saved = json.loads(state.read_text())
    assert saved["files"][0]["offset"] == log.stat().st_size
    # Written while the tailer is down: read once after the restart, nothing before it again.
    with log.open("a", encoding="utf-8") as fh:
        fh.write(debug(3, "while down") + debug(4, "also while down"))
    q = Proc(*args, str(logs))
    procs.append(q)
    again = events_only(q.records(2))
    assert [r["message"] for r in again] == ["while down", "also while down"]
    assert [r["line"] for r in again] == [3, 4]
    code, err = q.interrupt(signal.SIGTERM)  # a service manager's stop is a clean stop too
    assert code == 0 and "2 lines, 2 events" in err


@pytest.mark.slow
def test_live_view_process_stops_cleanly_on_ctrl_c(tmp_path: Path, procs: list[Proc]) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.write_text(refused(1), encoding="utf-8")
    p = Proc("--from-start", "--idle-flush", "0.05", str(tmp_path))
    procs.append(p)
    deadline = time.monotonic() + 15
    seen = ""
    while "token.rejected" not in seen and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            seen += p.q.get(timeout=0.5)
    code, _ = p.interrupt()
    while not p.q.empty():
        seen += p.q.get()
    assert code == 0
    assert "token.rejected" in seen
    assert "logdoctor tail: 1 file(s), 1 lines, 1 events (token.rejected 1)" in seen


def test_missing_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["tail", "--format", "jsonl", str(tmp_path / "absent")])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"logdoctor: error: {tmp_path / 'absent'}: no such file or folder"
    ]


def test_bad_checkpoint_is_one_line_and_exit_2(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("[1, 2")
    r = CliRunner().invoke(main, ["tail", "--state", str(state), str(tmp_path)])
    assert r.exit_code == 2
    [line] = r.output.strip().splitlines()
    assert line.startswith(f"logdoctor: error: {state}: not a logdoctor checkpoint")


def _record(message: str, kind: str = "token.rejected", level: str = "WARN") -> Record:
    return Record(
        time=None,
        node="cucm-pub",
        family="ssosp",
        file="ssosp00001.log",
        line=1,
        level=level,
        thread="t",
        logger="oauth.TokenServlet",
        kind=kind,
        fields={"user": "alice"},
        message=message,
    )


def test_live_view_shows_events_counters_findings_and_escapes_log_text() -> None:
    state = LiveState()
    stats = TailStats(lines=2, events=2, files=1)
    stats.kinds.update({"token.rejected": 1, "sso.filter": 1})
    stats.nodes.update({"cucm-pub": 2})
    finding = Finding(
        rule=RuleId("LD999"),
        severity=Severity.ERROR,
        title="Refresh grants refused",
        message="m",
        evidence=(Evidence("cucm-pub", "f", 1, None, "token.rejected", "x"),),
        subjects=("alice",),
    )
    state.add(
        Batch(
            events=[_record("evil \x1b[2J[red]markup[/red]"), _record("ok", "sso.filter", "DEBUG")],
            findings=[finding],
        )
    )
    console = Console(record=True, width=140, force_terminal=True)
    console.print(render(state, stats, files=1, observer="inotify", rules=True, height=30))
    text = console.export_text()
    assert "\x1b[2J" not in console.export_text(styles=True)
    assert "evil \\x1b[2J[red]markup[/red]" in text  # shown, escaped, never interpreted
    assert "token.rejected" in text and "cucm-pub" in text and "sso.filter" in text
    assert "LD999" in text and "Refresh grants refused" in text and "alice" in text
    empty = Console(record=True, width=100)
    empty.print(
        render(LiveState(), TailStats(), files=0, observer="polling", rules=False, height=20)
    )
    assert "no rules loaded" in empty.export_text()


def test_summary_line() -> None:
    stats = TailStats(lines=3, events=2, files=1, findings=1)
    stats.kinds.update({"token.rejected": 2})
    assert summary_line(stats, state="s.json") == (
        "logdoctor tail: 1 file(s), 3 lines, 2 events (token.rejected 2), 1 finding(s); "
        "checkpoint saved to s.json"
    )


UCM_OFF = (
    Path(__file__).resolve().parents[2]
    / "sample_logs/expressway-refresh-ucm-off/ucm-sub1/tomcat/logs/ssosp/log4j/ssosp00001.log.gz"
)
"""An ssosp log whose first 1 KiB is cut in a line only the ssoApp header fits (the first-hour
review's case: read from that head, every event was ``unrecognized`` and LD101 never fired)."""


@pytest.mark.slow
def test_existing_file_at_its_end_then_resumed_keeps_its_format_and_findings(
    tmp_path: Path, procs: list[Proc]
) -> None:
    lines = gzip.decompress(UCM_OFF.read_bytes()).decode().splitlines(keepends=True)
    log = tmp_path / "tt/ucm-sub1/tomcat/logs/ssosp/log4j/ssosp00001.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(lines[:5]), encoding="utf-8")  # already there, as on a real node
    state = tmp_path / "state.json"
    args = [
        "--format",
        "jsonl",
        "--state",
        str(state),
        "--idle-flush",
        "0.05",
        str(tmp_path / "tt"),
    ]
    p = Proc(*args)
    procs.append(p)
    deadline = time.monotonic() + 20
    while not state.exists():  # its first checkpoint: it has taken its first look
        assert time.monotonic() < deadline, "the tailer did not start"
        time.sleep(0.05)
    append(log, "".join(lines[5:60]))
    recs = p.records(56)  # 55 events and the finding (in some order)
    events = events_only(recs)
    assert {r["family"] for r in events} == {"ssosp"}
    kinds = collections.Counter(r["kind"] for r in events)
    assert "unrecognized" not in kinds and kinds["token.rejected"] == 8
    assert [r["rule"] for r in recs if r["type"] == "finding"] == ["LD101"]
    code, err = p.interrupt(signal.SIGTERM)
    assert code == 0
    summary = err.strip().splitlines()[-1]
    assert "token.rejected 8" in summary  # a failure kind is never left out of the summary
    # A clean restart with --state: the resumed file is read with the same format.
    append(log, "".join(lines[60:160]))
    q = Proc(*args)
    procs.append(q)
    again = events_only([r for r in q.records(100) if r["type"] == "event"])
    assert {r["family"] for r in again} == {"ssosp"}
    assert "unrecognized" not in {r["kind"] for r in again}
    assert [r["line"] for r in again][:1] == [61]
    code, err = q.interrupt()
    assert code == 0 and "format" not in err


@pytest.mark.slow
def test_a_torn_last_line_left_by_a_killed_run_is_ended_before_new_lines(tmp_path: Path) -> None:
    """stdout appended to a file (``>>``) whose last line a SIGKILL cut: this run starts on a
    new line, so every line it writes is whole JSON; only the torn line is not."""
    log = node_dir(tmp_path / "logs") / "ssosp00001.log"
    log.write_text(refused(1) + debug(2, "x"), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"type": "event", "time": "2026-11-20T08:45:01.500Z", "no')
    with out.open("ab") as fh:
        p = subprocess.Popen(
            [
                *(sys.executable, "-m", "logdoctor.cli", "tail", "--format", "jsonl"),
                *("--from-start", "--idle-flush", "0.05", "--no-rules", str(tmp_path / "logs")),
            ],
            stdout=fh,
            stderr=subprocess.PIPE,
        )
    try:
        deadline = time.monotonic() + 20
        while out.read_bytes().count(b"\n") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=20)
    torn, *rest = out.read_bytes().decode().splitlines()
    assert torn.endswith('"no')
    assert [json.loads(r)["line"] for r in rest] == [1, 2]
    records, skipped = read_records(out.read_bytes())
    assert ([r["line"] for r in records], skipped) == ([1, 2], 1)


def test_summary_lists_the_top_kinds_by_count_then_name_and_every_failure_kind() -> None:
    stats = TailStats(lines=90, events=90, files=1)
    # Ties in any insertion order give one order (by name); failures are never cut.
    for order in (["c.x", "a.x", "b.x", "d.x", "e.x"], ["e.x", "d.x", "b.x", "a.x", "c.x"]):
        stats.kinds.clear()
        for k in order:
            stats.kinds[k] = 15
        stats.kinds.update({"token.rejected": 9, "auth.failure": 1, "unrecognized": 2, "z.ok": 3})
        assert summary_line(stats, state=None) == (
            "logdoctor tail: 1 file(s), 90 lines, 90 events (a.x 15, b.x 15, c.x 15, d.x 15, "
            "token.rejected 9, unrecognized 2, auth.failure 1), 0 finding(s)"
        )


def test_live_view_keeps_warnings_when_rotations_scroll_by() -> None:
    state = LiveState()
    warn = Notice("format", "/l/ssosp00001.log", "/l/ssosp00001.log: none of its first 3 ...")
    rotations = [Notice("rotated", f"/l/x{i}", f"/l/x{i} rotated to /l/x{i}.1") for i in range(9)]
    state.add(Batch(notices=[warn, *rotations]))
    stats = TailStats()
    stats.kinds.update({f"k{i}": 10 for i in range(9)} | {"token.rejected": 1})
    console = Console(record=True, width=140)
    console.print(render(state, stats, files=1, observer="inotify", rules=True, height=30))
    text = console.export_text()
    assert "! /l/ssosp00001.log: none of its first 3" in text
    assert "x8 rotated" in text and "x4 rotated" not in text  # passing notices: the last 4
    assert "token.rejected" in text  # below the top 6 kinds, shown all the same
    stats.nodes.update({"p": 3})
    console = Console(record=True, width=160)
    console.print(render(state, stats, files=1, observer="inotify", rules=True, height=30))
    assert "events by node" in console.export_text()  # a title never wraps over short names
