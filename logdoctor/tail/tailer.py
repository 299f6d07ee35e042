"""The tailer: lines from the follower become events (line engine) and findings (detector).

Each followed file gets its own :class:`~logdoctor.parse.LineParser` (the same compiled
patterns as the bulk engine), with the format :func:`~logdoctor.detect.detect_format` picks
from the file's name, path and first bytes, and the node
:func:`~logdoctor.sources.node_from_path` reads from the bundle layout.

A record (a header line plus its continuation lines) is complete when the next header line
arrives. So that the last event of a quiet file is not held back forever, an open record is
also emitted after ``idle_flush`` seconds (0.2 s by default) without a new line in its file,
unless a partial line is pending there (it may be a continuation line still being written).
log4j writes a record, stack trace included, with one write, so a continuation line that
arrives after the idle delay is rare; it is then counted as a malformed line of the file.

Checkpoints are acknowledged per record: the position saved for a file is the start of its
open record (or the end of its last line when no record is open), so a restart re-reads an
incomplete record whole instead of losing or splitting it.

Findings come from a pluggable *detector*: any ``Callable[[polars.DataFrame], list[Finding]]``
over a sliding window of the most recent events (at most ``window`` events, and none older
than ``window_seconds`` before the newest event's time). It runs at most every
``detect_interval`` seconds when new events arrived; a finding is reported once per
(rule, title, subjects).
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from logdoctor.detect import detect_format
from logdoctor.formats import Format, load_formats
from logdoctor.model import Finding
from logdoctor.parse import POLARS_SCHEMA, LineParser, Record
from logdoctor.sources import node_from_path
from logdoctor.tail.events import Closed, FileState, Line, Notice, Opened
from logdoctor.tail.follow import Follower
from logdoctor.timestamps import Zone, resolve_zone

__all__ = ["Batch", "Detector", "TailStats", "Tailer"]

Detector = Callable[[pl.DataFrame], list[Finding]]
"""A rule runner: findings over a frame of recent events (columns of the event table)."""


@dataclass(frozen=True)
class Batch:
    """What one :meth:`Tailer.step` produced, in order of arrival."""

    events: list[Record] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


@dataclass
class TailStats:
    """Running totals for the live view and the final summary."""

    lines: int = 0
    events: int = 0
    malformed: int = 0
    findings: int = 0
    files: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    nodes: Counter[str] = field(default_factory=Counter)
    detector_errors: int = 0


@dataclass(eq=False)
class _Source:
    stream: int
    parser: LineParser
    node: str
    open_start: tuple[int, int] | None = None
    """(offset, lines before) of the open record's header line; None when no record is open."""
    last_end: tuple[int, int] = (0, 0)
    last_at: float = 0.0


def finding_key(f: Finding) -> tuple[str, str, tuple[str, ...]]:
    """What makes two findings the same finding for the tailer (reported once)."""
    return (str(f.rule), f.title, f.subjects)


class Tailer:
    """Follow UCM logs and turn them into events and findings; never prints.

    Call :meth:`start`, then :meth:`step` in a loop, then :meth:`close` (also a context
    manager). Options are those of ``logdoctor tail`` (see the README).
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        formats: Sequence[Format] | None = None,
        formats_dirs: Sequence[str | Path] = (),
        tz: str | None = None,
        node: str | None = None,
        state: str | Path | None = None,
        from_start: bool = False,
        poll: bool = False,
        poll_interval: float = 1.0,
        rotate_grace: float = 1.0,
        idle_flush: float = 0.2,
        detector: Detector | None = None,
        window: int = 5000,
        window_seconds: float | None = 3600.0,
        detect_interval: float = 1.0,
        checkpoint_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.formats: list[Format] = (
            list(formats) if formats is not None else load_formats(formats_dirs)
        )
        self.zone: Zone = resolve_zone(tz)
        self._node = node
        fmts = self.formats

        def match(name: str, rel: str) -> bool:
            return any(f.matches_name(name) or f.matches_path(rel) for f in fmts)

        self.follower = Follower(
            paths,
            match=match,
            state=state,
            from_start=from_start,
            poll=poll,
            poll_interval=poll_interval,
            rotate_grace=rotate_grace,
            clock=clock,
        )
        self._idle = max(0.0, idle_flush)
        self._detector = detector
        self._window: deque[dict[str, object]] = deque(maxlen=max(1, window))
        self._window_span = (
            timedelta(seconds=window_seconds) if window_seconds is not None else None
        )
        self._detect_interval = max(0.0, detect_interval)
        self._ckpt_interval = max(0.0, checkpoint_interval)
        self._clock = clock
        self.state_path = str(state) if state is not None else None
        """The checkpoint file, if any."""
        self._sources: dict[int, _Source] = {}
        self._seen: set[tuple[str, str, tuple[str, ...]]] = set()
        self._rotated: set[int] = set()
        self._closed = False
        self._pending_detect = False
        self._next_detect = 0.0
        self._next_save = 0.0
        self.findings: list[Finding] = []
        self.stats = TailStats()

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> Tailer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> list[Notice]:
        """Load the checkpoint and start watching (raises FollowError / CheckpointError)."""
        return self.follower.start()

    def files(self) -> list[FileState]:
        """The files followed now."""
        return self.follower.files()

    def step(self, timeout: float = 0.25) -> Batch:
        """Wait (at most ``timeout`` s) for new lines; parse them; run the detector if due."""
        now = self._clock()
        due = self._next_idle_deadline()
        if due is not None:
            timeout = min(timeout, max(0.0, due - now))
        if self._detector is not None and self._pending_detect:
            timeout = min(timeout, max(0.0, self._next_detect - now))
        batch = Batch()
        self._take(self.follower.read(timeout), batch)
        now = self._clock()
        self._flush_idle(now, batch)
        self._detect(now, batch, force=False)
        if now >= self._next_save:
            self.follower.save()
            self._next_save = now + self._ckpt_interval
        return batch

    def close(self) -> Batch:
        """Read what is left, emit complete records, run the detector, save, stop watching.

        A second call does nothing.
        """
        batch = Batch()
        if self._closed:
            return batch
        self._closed = True
        try:
            self._take(self.follower.wind_down(), batch)
            for src in list(self._sources.values()):
                if not self.follower.has_partial(src.stream):
                    self._flush(src, batch)
            self._detect(self._clock(), batch, force=True)
            self.follower.save()
        finally:
            self.follower.stop()
        return batch

    # -- lines to records ----------------------------------------------------------------------

    def _take(self, events: list[Opened | Line | Closed | Notice], batch: Batch) -> None:
        now = self._clock()
        for e in events:
            if isinstance(e, Line):
                if self._rotated and e.stream not in self._rotated:
                    self._settle_rotated(e.stream, batch)
                self._line(e, now, batch)
            elif isinstance(e, Opened):
                self._open(e)
            elif isinstance(e, Closed):
                self._rotated.discard(e.stream)
                src = self._sources.get(e.stream)
                if src is not None:
                    self._flush(src, batch)
                    if e.gone:
                        del self._sources[e.stream]
            else:
                if e.stream is not None and e.kind in ("rotated", "copy"):
                    self._rotated.add(e.stream)
                batch.notices.append(e)

    def _settle_rotated(self, stream: int, batch: Batch) -> None:
        """A newer file has a line: emit the last record of rotated files before it.

        A rotated file gets no new records (late writes in its grace period aside), so its last
        record is complete once the file was drained, and it comes before the lines of the
        files that replaced it. Not while a partial line is pending there (its grace period
        decides).
        """
        for s in sorted(self._rotated):
            src = self._sources.get(s)
            if (
                s < stream
                and src is not None
                and src.open_start is not None
                and not self.follower.has_partial(s)
            ):
                self._flush(src, batch)

    def _open(self, e: Opened) -> None:
        if e.stream in self._sources:
            return  # a stream that moved to a copy of its file keeps its parser
        name = os.path.basename(e.path)
        if e.root_is_dir:
            rel = os.path.relpath(e.path, e.root).replace(os.sep, "/")
            node = self._node or node_from_path(rel, os.path.basename(e.root) or "unknown")
        else:
            rel = e.path
            node = self._node or node_from_path(e.path, "unknown", anchors_only=True)
        fmt = detect_format(self.formats, name, rel, e.head)
        parser = LineParser(fmt, file=e.path, node=node, zone=self.zone)
        self._sources[e.stream] = _Source(e.stream, parser, node)
        self.stats.files += 1

    def _line(self, e: Line, now: float, batch: Batch) -> None:
        src = self._sources.get(e.stream)
        if src is None:
            return
        st = src.parser.stats
        records, malformed = st.records, st.malformed
        done = src.parser.feed(e.text, e.lineno)
        self.stats.lines += 1
        if st.records > records:  # a header: the record before it (if any) is complete
            self.follower.ack(e.stream, e.start, e.lineno - 1)
            src.open_start = (e.start, e.lineno - 1)
        elif st.malformed > malformed:  # a line before the file's first header
            self.stats.malformed += 1
            self.follower.ack(e.stream, e.end, e.lineno)
        src.last_end = (e.end, e.lineno)
        src.last_at = now
        self._emit(done, batch)

    def _flush(self, src: _Source, batch: Batch) -> None:
        if src.open_start is None:
            self.follower.ack(src.stream, *src.last_end)
            return
        self._emit(src.parser.flush(), batch)
        src.open_start = None
        self.follower.ack(src.stream, *src.last_end)

    def _next_idle_deadline(self) -> float | None:
        due = [s.last_at + self._idle for s in self._sources.values() if s.open_start is not None]
        return min(due) if due else None

    def _flush_idle(self, now: float, batch: Batch) -> None:
        for src in list(self._sources.values()):
            if (
                src.open_start is not None
                and now - src.last_at >= self._idle
                and not self.follower.has_partial(src.stream)
            ):
                self._flush(src, batch)

    def _emit(self, records: list[Record], batch: Batch) -> None:
        if not records:
            return
        batch.events.extend(records)
        for r in records:
            self.stats.events += 1
            self.stats.kinds[r.kind] += 1
            self.stats.nodes[r.node] += 1
            if self._detector is not None:
                self._window.append(r.as_row())
        self._pending_detect = self._detector is not None

    # -- findings ------------------------------------------------------------------------------

    def window_frame(self) -> pl.DataFrame:
        """The sliding window of recent events as a frame (event table columns)."""
        rows = list(self._window)
        if self._window_span is not None:
            times = [t for r in rows if isinstance(t := r["time"], datetime)]
            if times:
                cut = max(times) - self._window_span
                rows = [r for r in rows if not isinstance(t := r["time"], datetime) or t >= cut]
        if not rows:
            return pl.DataFrame(schema=POLARS_SCHEMA)
        return pl.DataFrame(rows, schema=POLARS_SCHEMA)

    def _detect(self, now: float, batch: Batch, *, force: bool) -> None:
        if self._detector is None or not self._pending_detect:
            return
        if not force and now < self._next_detect:
            return
        self._pending_detect = False
        self._next_detect = now + self._detect_interval
        try:
            found = self._detector(self.window_frame())
        except Exception as exc:  # a rule's bug must not stop the tail
            self.stats.detector_errors += 1
            batch.notices.append(
                Notice("detector", "detector", f"the detector failed: {type(exc).__name__}: {exc}")
            )
            return
        for f in found:
            key = finding_key(f)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.findings.append(f)
            batch.findings.append(f)
            self.stats.findings += 1
