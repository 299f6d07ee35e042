"""The tailer: lines become events (line engine), records survive restarts, findings flow."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from logdoctor.ingest.parse import Record
from logdoctor.model import Evidence, Finding, RuleId, Severity
from logdoctor.table import COLUMNS
from logdoctor.tail.tailer import Batch, Tailer

from .conftest import append

CID = "C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a"


def refused(sec: int, user: str = "alice") -> str:
    return (
        f"2026-11-20 08:45:{sec:02d},500 WARN  [http-bio-8443-exec-2] oauth.TokenServlet - "
        f"Token request refused: grant=refresh_token error=invalid_grant reason=refresh_disabled "
        f"user={user} client_id={CID} device=CSFALICE tid=- via=expc1\n"
    )


def debug(sec: int, msg: str) -> str:
    return f"2026-11-20 08:45:{sec:02d},000 DEBUG [main] filter.SSOAuthAgentFilter - {msg}\n"


def node_dir(root: Path, node: str = "cucm-pub") -> Path:
    d = root / node / "tomcat" / "logs" / "ssosp" / "log4j"
    d.mkdir(parents=True, exist_ok=True)
    return d


def start(made: list[Tailer], *paths: Path, **kw: object) -> Tailer:
    kw.setdefault("rotate_grace", 0.1)
    kw.setdefault("poll_interval", 0.2)
    t = Tailer(list(paths), **kw)  # type: ignore[arg-type]
    t.start()
    made.append(t)
    return t


def run(
    t: Tailer, pred: Callable[[Batch], bool], timeout: float = 5.0, acc: Batch | None = None
) -> Batch:
    acc = acc or Batch()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        b = t.step(0.05)
        acc.events.extend(b.events)
        acc.findings.extend(b.findings)
        acc.notices.extend(b.notices)
        if pred(acc):
            return acc
    raise AssertionError(f"timed out; events: {[e.message[:40] for e in acc.events]}")


def n_events(n: int) -> Callable[[Batch], bool]:
    return lambda b: len(b.events) >= n


def test_events_parsed_with_the_line_engine_node_and_family_from_layout(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    t = start(tailers, tmp_path, idle_flush=0.05)
    append(log, refused(1) + debug(2, "servlet path :/showHome.do"))
    got = run(t, n_events(2)).events
    a, b = got
    assert (a.kind, a.node, a.family, a.file, a.line) == (
        "token.rejected",
        "cucm-pub",
        "ssosp",
        str(log),
        1,
    )
    assert a.fields["reason"] == "refresh_disabled" and a.fields["user"] == "alice"
    assert a.time == datetime(2026, 11, 20, 8, 45, 1, 500000, tzinfo=UTC)
    assert (b.kind, b.line, b.fields["value"]) == ("sso.filter", 2, "/showHome.do")
    assert t.stats.kinds == {"token.rejected": 1, "sso.filter": 1}
    assert t.stats.nodes == {"cucm-pub": 2}


def test_zone_and_set_node_are_applied(tmp_path: Path, tailers: list[Tailer]) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    t = start(tailers, log, idle_flush=0.05, tz="-04:00", node="pub-override")
    append(log, refused(1))
    [e] = run(t, n_events(1)).events
    assert e.node == "pub-override"
    assert e.time == datetime(2026, 11, 20, 12, 45, 1, 500000, tzinfo=UTC)


def test_record_completes_with_next_header_continuations_folded(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    t = start(tailers, tmp_path, idle_flush=30.0)  # no idle flush in this test
    append(log, debug(1, "boom") + "java.lang.IllegalStateException: x\n\tat a.b.C(C.java:1)\n")
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        assert t.step(0.05).events == []  # the record may still get continuation lines
    append(log, debug(2, "next"))
    [e] = run(t, n_events(1)).events
    assert e.message == "boom\njava.lang.IllegalStateException: x\n\tat a.b.C(C.java:1)"
    assert e.line == 1


def test_idle_flush_emits_last_record_but_not_while_a_line_is_half_written(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    t = start(tailers, tmp_path, idle_flush=0.15)
    append(log, debug(1, "first") + "\tat continuation.being.Written(")
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        assert t.step(0.05).events == []
    append(log, "X.java:9)\n")
    t0 = time.monotonic()
    [e] = run(t, n_events(1)).events
    assert time.monotonic() - t0 >= 0.1
    assert e.message == "first\n\tat continuation.being.Written(X.java:9)"


def test_restart_mid_record_resumes_at_the_record_start(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    """A crash (no clean stop) with an open record: the checkpoint points at its header, so the
    record is read again whole, once, with the continuation lines written while down."""
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    state = tmp_path / "state.json"
    t = start(tailers, log, idle_flush=30.0, state=state)
    append(log, debug(1, "one") + debug(2, "two") + "\tcontinued\n")
    [one] = run(t, n_events(1)).events
    assert one.message == "one"
    t.follower.save()  # what the periodic save leaves behind when the process is killed
    t.follower.stop()
    append(log, "\tcontinued while down\n" + debug(3, "three"))
    u = start(tailers, log, idle_flush=0.05, state=state)
    got = run(u, n_events(2)).events
    assert [(e.line, e.message) for e in got] == [
        (2, "two\n\tcontinued\n\tcontinued while down"),
        (5, "three"),
    ]


def test_clean_close_emits_open_records_and_resumes_after_them(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    state = tmp_path / "state.json"
    t = start(tailers, log, idle_flush=30.0, state=state, sink=Sink(state, log))
    append(log, debug(1, "one") + debug(2, "two"))
    run(t, n_events(1))
    closing = t.close()
    assert [e.message for e in closing.events] == ["two"]
    append(log, debug(3, "three"))
    u = start(tailers, log, idle_flush=0.05, state=state, sink=Sink(state, log))
    assert [e.message for e in run(u, n_events(1)).events] == ["three"]
    u.close()
    assert u.stats.events == 1
    saved = state.read_bytes()
    u.close()  # a second close must not overwrite the checkpoint with an empty one
    assert state.read_bytes() == saved


def refresh_refusals(frame: pl.DataFrame) -> list[Finding]:
    """A stub rule: two or more refused refresh grants for a user in the window."""
    bad = frame.filter(pl.col("kind") == "token.rejected")
    out = []
    for (user,), rows in bad.group_by(["user"], maintain_order=True):
        if rows.height < 2:
            continue
        ev = tuple(
            Evidence(r["node"], r["file"], r["line"], r["time"], r["kind"], r["message"][:80])
            for r in rows.iter_rows(named=True)
        )
        out.append(
            Finding(
                rule=RuleId("LD999"),
                severity=Severity.ERROR,
                title="Refresh grants refused",
                message=f"{rows.height} refresh grants refused for {user}",
                evidence=ev,
                evidence_total=rows.height,
                subjects=(str(user),),
            )
        )
    return out


def test_findings_come_from_the_detector_over_the_window_once_each(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    t = start(tailers, tmp_path, idle_flush=0.05, detector=refresh_refusals, detect_interval=0)
    append(log, refused(1) + debug(2, "x"))
    first = run(t, n_events(2))
    assert first.findings == []
    append(log, refused(3))
    b = run(t, lambda b: bool(b.findings))
    [f] = b.findings
    assert f.subjects == ("alice",) and f.evidence_total == 2
    assert [e.line for e in f.evidence] == [1, 3]
    append(log, refused(4) + refused(5, user="bob") + refused(6, user="bob"))
    more = run(t, lambda b: bool(b.findings))
    assert [x.subjects for x in more.findings] == [("bob",)]  # alice's is not reported again
    assert [x.subjects for x in t.findings] == [("alice",), ("bob",)]


def test_detector_failure_is_a_notice_not_a_crash(tmp_path: Path, tailers: list[Tailer]) -> None:
    def broken(frame: pl.DataFrame) -> list[Finding]:
        raise KeyError("no such column")

    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    t = start(tailers, tmp_path, idle_flush=0.05, detector=broken, detect_interval=0)
    append(log, refused(1))
    b = run(t, lambda b: bool(b.notices) and bool(b.events))
    assert "the detector failed: KeyError" in b.notices[0].message
    append(log, refused(2))
    run(t, n_events(1))
    assert t.stats.detector_errors >= 1


def test_window_keeps_recent_events_by_count_and_event_time(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    seen: list[pl.DataFrame] = []

    def spy(frame: pl.DataFrame) -> list[Finding]:
        seen.append(frame)
        return []

    log = node_dir(tmp_path) / "ssosp00001.log"
    log.touch()
    t = start(
        tailers,
        tmp_path,
        idle_flush=0.05,
        detector=spy,
        detect_interval=0,
        window=3,
        window_seconds=10,
    )
    append(log, "".join(debug(s, f"m{s}") for s in (0, 1, 30, 31, 32, 40)))
    run(t, n_events(6))
    frame = t.window_frame()
    assert frame.columns == list(COLUMNS)
    assert frame["message"].to_list() == ["m31", "m32", "m40"]  # the last 3
    assert seen and seen[-1]["message"].to_list() == ["m31", "m32", "m40"]
    # The span cuts too: with room for 100, events older than 40 s - 10 s are left out.
    u = start(
        tailers,
        tmp_path,
        idle_flush=0.05,
        detector=spy,
        detect_interval=0,
        window=100,
        window_seconds=10,
        from_start=True,
    )
    run(u, n_events(6))
    assert u.window_frame()["message"].to_list() == ["m30", "m31", "m32", "m40"]


# -- checkpoints never run ahead of the output ----------------------------------------------------


class Sink:
    """A sink that checks, at every write and sync, that the checkpoint on disk does not cover
    the batch being written yet (what a kill at that moment would leave behind)."""

    def __init__(self, state: Path, log: Path, fail_on_write: int | None = None) -> None:
        self.state, self.log = state, log
        self.batches: list[Batch] = []
        self.syncs = 0
        self.fail_on_write = fail_on_write

    def saved_line(self) -> int:
        if not self.state.exists():
            return 0
        doc = json.loads(self.state.read_text())
        return max((f["line"] for f in doc["files"] if f["path"] == str(self.log)), default=0)

    def write(self, batch: Batch) -> None:
        if batch.events:
            assert self.saved_line() < batch.events[0].line, "checkpoint saved before the write"
        if self.fail_on_write is not None and len(self.batches) + 1 == self.fail_on_write:
            raise OSError(28, "No space left on device")
        self.batches.append(batch)

    def sync(self) -> None:
        last = self.batches[-1]
        if last.events:
            assert self.saved_line() < last.events[0].line, "checkpoint saved before the sync"
        self.syncs += 1

    def events(self) -> list[Record]:
        return [e for b in self.batches for e in b.events]


def numbered(lo: int, hi: int) -> str:
    return "".join(debug(s % 60, f"n{s}") for s in range(lo, hi + 1))


def test_checkpoint_is_saved_only_after_its_batch_is_written_and_synced(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.write_text(numbered(1, 40), encoding="utf-8")
    state = tmp_path / "state.json"
    sink = Sink(state, log)
    t = start(tailers, log, state=state, from_start=True, sink=sink, checkpoint_interval=0)
    deadline = time.monotonic() + 10
    while len(sink.events()) < 39 and time.monotonic() < deadline:
        t.step(0.05)
    assert [e.message for e in sink.events()] == [f"n{s}" for s in range(1, 40)]
    # Every batch that carried a checkpoint was synced first, then the checkpoint covers it.
    assert sink.syncs == sum(1 for b in sink.batches if b.mark is not None) > 0
    assert sink.saved_line() == 39  # the 40th record is still open (no line after it yet)
    append(log, numbered(41, 45))
    while len(sink.events()) < 44 and time.monotonic() < deadline:
        t.step(0.05)
    t.close()
    assert [e.message for e in sink.events()][-6:] == [f"n{s}" for s in range(40, 46)]
    assert sink.saved_line() == 45


def test_a_failed_write_saves_no_checkpoint_and_a_restart_emits_the_batch(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    """A write that fails (or a process killed in the middle of one) must not be covered by a
    checkpoint: the batch is emitted again by the next run."""
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.write_text(numbered(1, 10), encoding="utf-8")
    state = tmp_path / "state.json"
    ok = Sink(state, log)
    t = start(tailers, log, state=state, from_start=True, sink=ok, idle_flush=0.05)
    run(t, n_events(10))
    t.close()
    assert ok.saved_line() == 10
    append(log, numbered(11, 20))
    bad = Sink(state, log, fail_on_write=1)
    u = start(tailers, log, state=state, sink=bad, idle_flush=0.05, checkpoint_interval=0)
    with pytest.raises(OSError, match="No space"):
        run(u, n_events(10))
    assert u.close().events == []  # after a failure, close only stops watching
    assert bad.saved_line() == 10
    again = Sink(state, log)
    v = start(tailers, log, state=state, sink=again, idle_flush=0.05)
    run(v, n_events(10))
    assert [e.message for e in again.events()] == [f"n{s}" for s in range(11, 21)]


def test_without_a_sink_only_a_commit_saves_the_checkpoint(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    """A batch handed out but never committed (the process died before writing it) is emitted
    again after a restart."""
    log = node_dir(tmp_path) / "ssosp00001.log"
    log.write_text(numbered(1, 10), encoding="utf-8")
    state = tmp_path / "state.json"
    t = start(tailers, log, state=state, from_start=True, idle_flush=0.05, checkpoint_interval=0)
    first = run(t, n_events(10))
    assert not state.exists()  # handed out, not committed: nothing saved
    t.follower.stop()  # the crash
    u = start(tailers, log, state=state, from_start=True, idle_flush=0.05, checkpoint_interval=0)
    again = run(u, n_events(10))
    assert [e.message for e in again.events] == [e.message for e in first.events]
    assert again.mark is None  # run() merges batches; the marks are on each step's batch
    b = u.step(0.05)
    assert b.mark is not None
    u.commit(b)
    doc = json.loads(state.read_text())
    assert [f["line"] for f in doc["files"]] == [10]
    closing = u.close()
    assert closing.mark is not None  # the last checkpoint, saved by the caller's commit
    u.commit(closing)
    u.commit(b)  # an older mark after a newer one changes nothing
    assert json.loads(state.read_text())["files"][0]["line"] == 10


# -- the last record of a rotated file comes before the next file's lines -------------------------


def test_after_a_restart_rotated_files_come_oldest_first_and_whole(
    tmp_path: Path, tailers: list[Tailer]
) -> None:
    """Rotations while the tailer is down (logrotate numbering: .1 is the newest): the resumed
    file, now .2, is read to its end and its open record emitted before the lines of .1, then
    the live file."""
    folder = node_dir(tmp_path)
    log = folder / "ssosp00001.log"
    log.write_text(numbered(1, 10), encoding="utf-8")
    state = tmp_path / "state.json"
    sink = Sink(state, log)
    t = start(tailers, tmp_path, state=state, from_start=True, sink=sink, idle_flush=30.0)
    run(t, n_events(9))
    t.step(0.05)  # a step with nothing new: its checkpoint covers the 9 records written
    assert sink.saved_line() == 9  # record 10 is open: it is read again after a restart
    t.follower.stop()  # killed
    append(log, numbered(11, 12))
    log.rename(folder / "ssosp00001.log.1")
    log.write_text(numbered(13, 20), encoding="utf-8")
    (folder / "ssosp00001.log.1").rename(folder / "ssosp00001.log.2")
    log.rename(folder / "ssosp00001.log.1")
    log.write_text(numbered(21, 25), encoding="utf-8")
    for i, name in enumerate(["ssosp00001.log.2", "ssosp00001.log.1", "ssosp00001.log"]):
        os.utime(folder / name, ns=(10**18 + i * 10**9,) * 2)
    again = Sink(state, log)
    u = start(tailers, tmp_path, state=state, sink=again, idle_flush=30.0, rotate_grace=5.0)
    deadline = time.monotonic() + 10
    while len(again.events()) < 15 and time.monotonic() < deadline:
        u.step(0.05)
    assert [e.message for e in again.events()] == [f"n{s}" for s in range(10, 25)]
