"""The tailer: lines from the follower become events (line engine) and findings (detector).

Each followed file gets its own line parser, with the format, node and time zone
:mod:`logdoctor.tail.sources` picks for it. A file that no format fits, or whose records mostly
match no event pattern (LD901's thresholds), gets a notice.

A record (a header line plus its continuation lines) is complete when the next header line
arrives. So that the last event of a quiet file is not held back forever, an open record is
also emitted after ``idle_flush`` seconds (0.2 s by default) without a new line in its file,
unless a partial line is pending there (it may be a continuation line still being written).
log4j writes a record, stack trace included, with one write, so a continuation line that
arrives after the idle delay is rare; it is then counted as a malformed line of the file.

Checkpoints are acknowledged per record: the position saved for a file is the start of its
open record (or the end of its last line when no record is open), so a restart re-reads an
incomplete record whole instead of losing or splitting it. A checkpoint is saved only once the
batches it covers are written: the tailer hands each batch to a :class:`BatchSink` (the CLI's
output), asks it to make them durable, and only then saves (at most every
``checkpoint_interval`` seconds, and at :meth:`Tailer.close`). Without a sink, the caller
writes each batch and then calls :meth:`Tailer.commit` with it. A crash therefore re-emits at
most the batches written since the last save, and never loses one.

Findings come from a pluggable *detector*: any ``Callable[[polars.DataFrame], list[Finding]]``
over a sliding window of the most recent events (at most ``window`` events, and none older
than ``window_seconds`` before the newest event's time). It runs at most every
``detect_interval`` seconds when new events arrived; a finding is reported once per
(rule, title, subjects) (:mod:`logdoctor.tail.window`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import polars as pl

from logdoctor.ingest.formats.catalog import formats_matcher, load_formats
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.parse import Record
from logdoctor.model import Finding
from logdoctor.rules.loghealth import UNRECOGNIZED_MIN_RECORDS, UNRECOGNIZED_RATIO
from logdoctor.tail.checkpoint import Entry
from logdoctor.tail.follow import Follower
from logdoctor.tail.follow_events import Closed, FileState, FollowEvent, Line, Notice, Opened
from logdoctor.tail.sources import FileSources, Source
from logdoctor.tail.window import Detector, DetectorWindow
from logdoctor.timestamps import Zone, resolve_zone

__all__ = ["Batch", "BatchSink", "Detector", "Mark", "TailStats", "Tailer"]

_UNRECOGNIZED_FLOOR = UNRECOGNIZED_MIN_RECORDS * UNRECOGNIZED_RATIO
"""Fewer unrecognized records than this cannot make the share LD901 reports."""


@dataclass(frozen=True)
class Mark:
    """The checkpoint that covers a batch and every batch before it (saved by a commit)."""

    serial: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Batch:
    """What one :meth:`Tailer.step` produced, in order of arrival."""

    events: list[Record] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    mark: Mark | None = None
    """Set when a checkpoint is due: it is saved once the batch is written (a commit)."""


class BatchSink(Protocol):
    """Where a tailer's batches go (the CLI's output: the library never prints)."""

    def write(self, batch: Batch) -> None:
        """Write the batch, whole lines only; return once the OS has it (flushed)."""

    def sync(self) -> None:
        """Make everything written so far durable (fsync a file): a checkpoint follows."""


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


class Tailer:
    """Follow UCM logs and turn them into events and findings; never prints.

    Call :meth:`start`, then :meth:`step` in a loop, then :meth:`close` (also a context
    manager). Options are those of ``logdoctor tail`` (see the README). With ``state``, give a
    ``sink``: each batch is written to it before the checkpoint that covers the batch is saved
    (without one, call :meth:`commit` with each batch once it is written).
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
        sink: BatchSink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Load the formats and take the options (see the class doc); watching starts in
        :meth:`start`."""
        self.formats: list[Format] = (
            list(formats) if formats is not None else load_formats(formats_dirs)
        )
        self.zone: Zone = resolve_zone(tz)
        self._files = FileSources(self.formats, self.zone, node)
        self.follower = Follower(
            paths,
            match=formats_matcher(self.formats),
            state=state,
            from_start=from_start,
            poll=poll,
            poll_interval=poll_interval,
            rotate_grace=rotate_grace,
            clock=clock,
        )
        self._idle = max(0.0, idle_flush)
        self._window = DetectorWindow(
            detector, size=window, span=window_seconds, interval=detect_interval
        )
        self._ckpt_interval = max(0.0, checkpoint_interval)
        self._clock = clock
        self.state_path = str(state) if state is not None else None
        """The checkpoint file, if any."""
        self._sink = sink
        self._sources = self._files.sources
        self._undecided = self._files.undecided
        self._rotated: set[int] = set()
        self._last_stream = -1
        self._closed = False
        self._broken = False
        """Something failed mid-step or in the sink: no checkpoint may be saved any more."""
        self._serial = 0
        self._committed = 0
        self._next_save = 0.0
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
        """Wait (at most ``timeout`` s) for new lines; parse them; run the detector if due.

        The batch goes to the sink (if any), then the checkpoint is saved if one is due; it is
        also returned. An exception (from the sink or anywhere in the step) stops all further
        checkpoints: the tailer's position may then be ahead of what was written.
        """
        if self._closed:
            raise RuntimeError("Tailer.step() after close()")
        try:
            now = self._clock()
            due = self._next_idle_deadline()
            if due is not None:
                timeout = min(timeout, max(0.0, due - now))
            due = self._window.due()
            if due is not None:
                timeout = min(timeout, max(0.0, due - now))
            batch = Batch()
            self._take(self.follower.read(timeout), batch)
            now = self._clock()
            self._flush_idle(now, batch)
            self._detect(now, batch, force=False)
            batch = self._seal(batch, force=now >= self._next_save)
            self._deliver(batch)
        except BaseException:
            self._broken = True
            raise
        return batch

    def commit(self, batch: Batch) -> None:
        """Save the checkpoint that covers ``batch`` (and every batch before it), if it has one.

        Call it only once ``batch`` is written: a checkpoint saved before would let a crash lose
        the batch. With a sink the tailer does it itself. Older marks, and anything after a
        failure, are ignored.
        """
        mark = batch.mark
        if mark is None or self._broken or mark.serial <= self._committed:
            return
        self.follower.save(mark.entries)
        self._committed = mark.serial
        self._next_save = self._clock() + self._ckpt_interval

    def close(self) -> Batch:
        """Read what is left, emit complete records, run the detector, stop watching.

        The last batch goes to the sink, then the checkpoint is saved (without a sink: call
        :meth:`commit` with the returned batch once it is written). A second call, or a call
        after a failure, only stops watching.
        """
        batch = Batch()
        if self._closed:
            return batch
        self._closed = True
        if self._broken:
            self.follower.stop()
            return batch
        try:
            try:
                self._take(self.follower.wind_down(), batch)
                for src in list(self._sources.values()):
                    if not self.follower.has_partial(src.stream):
                        self._flush(src, batch)
                self._detect(self._clock(), batch, force=True)
                batch = self._seal(batch, force=True)
            finally:
                self.follower.stop()
            self._deliver(batch)
        except BaseException:
            self._broken = True
            raise
        return batch

    def abort(self) -> None:
        """Stop watching at once: nothing more is emitted and no checkpoint is saved."""
        self._broken = True
        self._closed = True
        self.follower.stop()

    def _seal(self, batch: Batch, *, force: bool) -> Batch:
        """Attach the checkpoint of now to ``batch`` when one is due (and a state file set)."""
        if self.state_path is None or not force:
            return batch
        self._serial += 1
        return replace(batch, mark=Mark(self._serial, self.follower.snapshot()))

    def _deliver(self, batch: Batch) -> None:
        if self._sink is None:
            return
        self._sink.write(batch)
        if batch.mark is not None:
            self._sink.sync()
            self.commit(batch)

    # -- lines to records ----------------------------------------------------------------------

    def _take(self, events: list[FollowEvent], batch: Batch) -> None:
        now = self._clock()
        undecided = self._undecided
        for e in events:
            if isinstance(e, Line):
                if e.stream != self._last_stream:
                    self._last_stream = e.stream
                    if self._rotated:
                        self._settle_rotated(e.stream, batch)
                if undecided and e.stream in undecided:
                    self._files.decide(e.stream, events, events.index(e), batch.notices)
                self._line(e, now, batch)
            elif isinstance(e, Opened):
                self._open(e, batch)
            elif isinstance(e, Closed):
                self._rotated.discard(e.stream)
                if e.gone:
                    self._undecided.pop(e.stream, None)
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
        """Lines of another file come: emit the last record of rotated files opened before it.

        A rotated file gets no new records (late writes in its grace period aside), so its last
        record is complete once the file was drained, and it comes before the lines of the
        files that replaced it (the newer rotated files among them, after a restart that found
        several). Not while a partial line is pending there (its grace period decides).
        """
        for s in sorted(self._rotated):
            if s >= stream:
                break
            src = self._sources.get(s)
            if src is not None and src.open_start is not None and not self.follower.has_partial(s):
                self._flush(src, batch)

    def _open(self, e: Opened, batch: Batch) -> None:
        if e.rotated:
            self._rotated.add(e.stream)
        if self._files.open(e, batch.notices):
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
        if done:
            self._emit(done, batch)
            if not src.warned and st.unrecognized > _UNRECOGNIZED_FLOOR:
                self._check_unrecognized(src, batch)

    def _flush(self, src: Source, batch: Batch) -> None:
        if src.open_start is None:
            self.follower.ack(src.stream, *src.last_end)
            return
        self._emit(src.parser.flush(), batch)
        src.open_start = None
        self.follower.ack(src.stream, *src.last_end)
        self._check_unrecognized(src, batch)

    def _check_unrecognized(self, src: Source, batch: Batch) -> None:
        """A notice, once per file, when its records mostly match no event pattern (LD901)."""
        st = src.parser.stats
        if src.warned or st.unrecognized <= _UNRECOGNIZED_FLOOR:
            return
        built = sum(st.kinds.values())
        if built < UNRECOGNIZED_MIN_RECORDS or st.unrecognized <= built * UNRECOGNIZED_RATIO:
            return
        src.warned = True
        batch.notices.append(
            Notice(
                "unrecognized",
                src.parser.file,
                f"{src.parser.file}: {st.unrecognized} of its first {built} records match no "
                f"event pattern of the {src.parser.fmt.name} format it is read with: findings "
                "may miss what they say (logdoctor check reports it as LD901)",
                src.stream,
            )
        )

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
        self._window.add(records)

    # -- findings ------------------------------------------------------------------------------

    @property
    def findings(self) -> list[Finding]:
        """Every finding raised so far, once each, in order."""
        return self._window.findings

    def window_frame(self) -> pl.DataFrame:
        """The sliding window of recent events as a frame (event table columns)."""
        return self._window.frame()

    def _detect(self, now: float, batch: Batch, *, force: bool) -> None:
        new, notices = self._window.run(now, force=force)
        self.stats.detector_errors += len(notices)
        batch.notices.extend(notices)
        batch.findings.extend(new)
        self.stats.findings += len(new)
