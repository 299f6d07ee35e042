"""The follower: read growing and rotating log files line by line, losing none.

A :class:`Follower` watches folders (and single files) and hands out whole lines in the order
they were written, across appends, rotations and restarts. It never prints; it returns events
(:class:`Opened`, :class:`Line`, :class:`Closed`, :class:`Notice`) from :meth:`Follower.read`.

How it stays exact
------------------
* File-system events (watchdog: inotify, or a polling observer with ``poll=True``) are only
  *hints* that something changed: inotify coalesces them, so every hint, and a periodic timer
  as the safety net, triggers a *pass* that re-reads each held file up to its end.
* A followed file is a *stream*: an open file descriptor plus the content read so far.
  Holding the descriptor means a renamed or deleted file is still read to its end, and its
  inode cannot be reused by a new file while it is held. Files are identified by device +
  inode + the first bytes of their content (the *head*, up to :data:`FP_LEN` bytes).
* Rename rotation: a held file whose path now names another file (or nothing) is *rotated*.
  It is drained to its end right away, then kept for ``rotate_grace`` seconds for late writes.
  A partial last line (no newline yet) is emitted when its newline arrives, or when the grace
  period ends. Until then, files that appeared after the rotation wait, so lines keep the
  order they were written in.
* Copy-truncate: a held file is *truncated* when it is shorter than the read position **or**
  its head changed (a size check alone misses a file that was truncated and refilled past the
  old position before the next pass). Before reading the file's new content, the follower
  looks for the copy (a file whose head and the bytes before the read position match) and
  reads the lines the copy holds beyond the position; the file's new content is then a new
  stream, read from its start.
* Delete and recreate, new files: a file that appears under a followed folder is read from its
  start (files present when the tailer starts: from their end, or start with ``from_start``).
  A file whose head equals that of a held file is a copy of it and is not read again.
* Partial lines are only emitted with their newline (or at the end of a rotated file's grace),
  so a line is never split by a read that lands in the middle of a write. NUL runs (the hole a
  writer without O_APPEND leaves after a truncation) are removed from lines; a line that was
  only NULs is dropped.

Checkpoints
-----------
The consumer *acknowledges* lines with :meth:`Follower.ack` (or ``auto_ack=True``); a
checkpoint (:mod:`logdoctor.tail.checkpoint`) stores, per file, the position after the last
acknowledged line. :meth:`Follower.snapshot` takes those positions and :meth:`Follower.save`
writes them, so a consumer can save a snapshot only once the lines it covers are written
(the tailer does: a checkpoint never runs ahead of its output). On restart each checkpointed
file is found again by inode and content (or, if it was copy-truncated while the tailer was
down, by its copy) and resumed exactly there; files that appeared under a checkpointed folder
while the tailer was down are read from their start, oldest first (by modification time, then
the rotation suffix: ``x.log.2`` before ``x.log.1`` before ``x.log``). A resumed file that was
rotated meanwhile is drained to its end before any file newer than it is read, and
:class:`Opened` says it is rotated, so the consumer can complete its last record before the
next file's lines.

The one race no reader can close: with copy-truncate, lines written to the file after the
copy was taken and before the truncation are in neither file. They are lost unless a pass read
them from the file in between. See the README ("Live tail").
"""

from __future__ import annotations

import bisect
import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logdoctor.tail import checkpoint as ckpt
from logdoctor.tail.events import (
    Closed,
    FileState,
    FollowError,
    FollowEvent,
    Line,
    Notice,
    Opened,
)
from logdoctor.tail.scan import (
    CHUNK,
    ROTATED,
    Found,
    Root,
    compat,
    count_lines,
    holds,
    last_boundary,
    rotation_rank,
    scan,
)

__all__ = [
    "FP_LEN",
    "Closed",
    "FileState",
    "FollowError",
    "FollowEvent",
    "Follower",
    "Line",
    "Notice",
    "Opened",
]

FP_LEN = 1024
"""Bytes of a file's start kept as its fingerprint (the *head*)."""
FP_MIN = 32
"""A head shorter than this is not trusted to tell a copy from a new file on its own."""
TAIL_LEN = 64
"""Bytes before a checkpointed position that must still be there to resume at it."""
MAX_LINE = 1 << 20
"""A line longer than this without a newline is emitted in pieces (counted in ``split_lines``)."""
PASS_BYTES = 1 << 20
"""Bytes read from one file in one pass; the rest is read by the next pass, at once."""
RETIRED_KEPT = 256
SAMPLE_LEN = 1 << 16
"""Bytes of a file's start whose whole lines are handed out for format detection."""


@dataclass(slots=True, eq=False)
class _Stream:
    seq: int
    path: str
    root: Root
    fd: int | None
    dev: int
    ino: int
    pos: int
    lineno: int
    head: bytes
    tail: bytes
    born: float
    pending: bytes = b""
    acked_off: int = 0
    acked_line: int = 0
    rotated_at: float | None = None
    finished: bool = False
    visible: bool = True
    dropped: bool = False

    @property
    def consumed(self) -> int:
        """Offset just after the last whole line emitted."""
        return self.pos - len(self.pending)


@dataclass(slots=True)
class _Ghost:
    """Content known from a checkpoint whose file was not found by inode."""

    seq: int
    entry: ckpt.Entry
    root: Root


@dataclass(slots=True)
class _Retired:
    head_len: int
    head_hash: str


@dataclass
class FollowStats:
    """Counters of what the follower did."""

    lines: int = 0
    bytes: int = 0
    files: int = 0
    rotations: int = 0
    truncations: int = 0
    copies: int = 0
    lost: int = 0
    nul_bytes: int = 0
    split_lines: int = 0
    passes: int = 0
    scans: int = 0


def _opened(s: _Stream, *, resumed: bool) -> Opened:
    sample = b""
    if s.fd is not None:
        with contextlib.suppress(OSError):
            data = os.pread(s.fd, SAMPLE_LEN, 0)
            sample = data[: data.rfind(b"\n") + 1]
    return Opened(
        s.seq,
        s.path,
        s.root.path,
        s.root.is_dir,
        s.head,
        resumed,
        s.dev,
        s.ino,
        sample=sample,
        rotated=s.rotated_at is not None,
    )


class Follower:
    """Follow log files under folders (recursively) and single files; see the module doc.

    ``match(name, relpath)`` decides which files found in a folder are followed (files named
    directly are always followed). Use as a context manager or call :meth:`start` and
    :meth:`stop`; :meth:`read` returns the next events (waiting up to ``timeout`` seconds).
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        match: Callable[[str, str], bool],
        state: str | Path | None = None,
        from_start: bool = False,
        poll: bool = False,
        poll_interval: float = 1.0,
        rotate_grace: float = 1.0,
        auto_ack: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not paths:
            raise FollowError("nothing to follow: give log files or folders")
        roots: list[Root] = []
        for p in paths:
            ap = os.path.abspath(os.fspath(p))
            if os.path.isdir(ap):
                roots.append(Root(ap, True))
            elif os.path.isfile(ap):
                roots.append(Root(ap, False))
            elif os.path.exists(ap):
                raise FollowError(f"{p}: not a regular file or folder")
            else:
                raise FollowError(f"{p}: no such file or folder")
        self._roots = roots
        self._match = match
        self._state = Path(state) if state is not None else None
        self._from_start = from_start
        self._poll = poll
        self._poll_interval = max(0.01, poll_interval)
        self._grace = max(0.0, rotate_grace)
        self._auto_ack = auto_ack
        self._clock = clock
        self._streams: list[_Stream] = []
        self._by_seq: dict[int, _Stream] = {}
        self._ghosts: list[_Ghost] = []
        self._retired: list[_Retired] = []
        self._ckpt_roots: set[str] = set()
        self._next_seq = 0
        self._wake = threading.Event()
        self._want_scan = threading.Event()
        self._observer: Any = None
        self._first = True
        self._more = False
        self._last_full = 0.0
        self._started = False
        self._held: list[FollowEvent] = []
        self._deferred = False
        """A file was left for a later pass (a rotation in progress, a rotated file unsettled)."""
        self._waiting: frozenset[str] = frozenset()
        """Files left for later until they change (empty ones): a hint about one means a scan."""
        self.stats = FollowStats()

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> Follower:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def observer_kind(self) -> str:
        """``inotify`` (or the platform's native observer), ``polling``, or ``none``."""
        if self._observer is None:
            return "none"
        name = type(self._observer).__name__
        return "polling" if "Polling" in name else name.replace("Observer", "").lower()

    def start(self) -> list[Notice]:
        """Load the checkpoint (if any), start watching and take the first look at the files.

        The events of that first look are returned by the first :meth:`read`.
        """
        notices: list[Notice] = []
        if self._state is not None:
            saved = ckpt.load(self._state)
            if saved is not None:
                self._ckpt_roots = set(saved.roots)
                by_root = {r.path: r for r in self._roots}
                for e in saved.entries:
                    root = by_root.get(e.root)
                    if root is None or e.offset == 0:
                        # Not followed this time; or nothing of it was handled, so it carries
                        # no position: it is read from its start like any new file.
                        continue
                    self._ghosts.append(_Ghost(self._next_seq, e, root))
                    self._next_seq += 1
        try:
            self._observer = self._make_observer(self._poll)
            self._observer.start()
        except OSError as exc:
            if self._poll:
                raise
            notices.append(
                Notice(
                    "observer",
                    self._roots[0].path,
                    f"file-system events unavailable ({exc.strerror or exc}); polling instead",
                )
            )
            self._observer = self._make_observer(True)
            self._observer.start()
        self._started = True
        # The first pass happens now, so "files present at start" means present at this call.
        self._pass(True, self._held, self._clock())
        self._more = self._more or bool(self._held)
        return notices

    def _make_observer(self, poll: bool) -> Any:
        from watchdog.events import (
            DirCreatedEvent,
            DirDeletedEvent,
            DirMovedEvent,
            FileClosedEvent,
            FileCreatedEvent,
            FileDeletedEvent,
            FileModifiedEvent,
            FileMovedEvent,
            FileSystemEvent,
            FileSystemEventHandler,
        )

        wake, want_scan = self._wake, self._want_scan
        follower = self

        class _Hints(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type not in ("modified", "closed") or (
                    os.fsdecode(event.src_path) in follower._waiting
                ):
                    want_scan.set()
                wake.set()

        if poll:
            from watchdog.observers.polling import PollingObserver

            observer: Any = PollingObserver(timeout=self._poll_interval)
        else:
            from watchdog.observers import Observer

            observer = Observer()
        handler = _Hints()
        filt: list[type[FileSystemEvent]] = [
            FileModifiedEvent,
            FileClosedEvent,
            FileCreatedEvent,
            FileDeletedEvent,
            FileMovedEvent,
            DirCreatedEvent,
            DirDeletedEvent,
            DirMovedEvent,
        ]
        watched: set[str] = set()
        for r in self._roots:
            folder = r.path if r.is_dir else os.path.dirname(r.path)
            if folder in watched:
                continue
            watched.add(folder)
            observer.schedule(handler, folder, recursive=r.is_dir, event_filter=filt)
        return observer

    def stop(self) -> None:
        """Stop watching and close every file (does not save: call :meth:`save` first)."""
        if self._observer is not None:
            try:
                self._observer.stop()
                self._observer.join(timeout=5)
            except RuntimeError:
                pass
            self._observer = None
        for s in self._streams:
            self._close_fd(s)
        self._streams.clear()
        self._by_seq.clear()
        self._started = False

    # -- consumer API --------------------------------------------------------------------------

    def ack(self, stream: int, offset: int, line: int) -> None:
        """Everything of ``stream`` before byte ``offset`` (``line`` lines) is handled."""
        s = self._by_seq.get(stream)
        if s is not None and offset >= s.acked_off:
            s.acked_off, s.acked_line = offset, line

    def has_partial(self, stream: int) -> bool:
        """True if the stream has bytes after its last newline (a line still being written)."""
        s = self._by_seq.get(stream)
        return s is not None and bool(s.pending)

    def path_of(self, stream: int) -> str | None:
        """Where the stream's file is now (None once it is no longer held)."""
        s = self._by_seq.get(stream)
        return None if s is None else s.path

    def files(self) -> list[FileState]:
        """The files held now, oldest first (safe to call from another thread)."""
        return [
            FileState(
                s.seq, s.path, s.dev, s.ino, s.pos, s.lineno, s.rotated_at is not None, s.head
            )
            for s in list(self._streams)
            if s.fd is not None and not s.dropped
        ]

    def wake(self) -> None:
        """Make a waiting :meth:`read` return at once (e.g. to stop)."""
        self._wake.set()

    def read(self, timeout: float = 1.0) -> list[FollowEvent]:
        """Wait for a change (at most ``timeout`` seconds), then read: the events, in order."""
        if not self._started:
            raise RuntimeError("Follower.read() before start()")
        now = self._clock()
        if not self._more:
            wait = min(timeout, max(0.0, self._last_full + self._poll_interval - now))
            due = self._next_deadline()
            if due is not None:
                wait = min(wait, max(0.0, due - now))
            if wait > 0:
                self._wake.wait(wait)
        self._wake.clear()
        now = self._clock()
        full = self._first or now >= self._last_full + self._poll_interval
        if self._want_scan.is_set():
            self._want_scan.clear()
            full = True
        if self._deferred:
            full = True
        due = self._next_deadline()
        if due is not None and now >= due:
            full = True
        out, self._held = self._held, []
        self._pass(full, out, now)
        return out

    def wind_down(self) -> list[FollowEvent]:
        """Read every file to its end and finish rotated ones (their partial lines are emitted).

        Call before the last :meth:`save` of a clean stop.
        """
        out: list[FollowEvent] = []
        now = self._clock()
        self._reconcile(self._scan_now(), out, now)  # notice renames and deletions not seen yet
        for s in list(self._streams):
            if s.rotated_at is not None and not s.finished:
                self._finish(s, out, now)
        self._read_all(out, now)
        self._purge()
        return out

    def snapshot(self) -> tuple[ckpt.Entry, ...]:
        """The checkpoint entries of now: each held file at its last acknowledged position.

        Taken when the consumer has everything acknowledged so far in hand, and saved with
        :meth:`save` once that is written (so a checkpoint never runs ahead of the output).
        """
        if not self._started:
            return ()
        entries: list[ckpt.Entry] = []
        for s in self._streams:
            if s.fd is None or s.dropped:
                continue
            off = s.acked_off if not self._auto_ack else s.consumed
            if off == 0:
                continue  # nothing handled yet: on restart it is read from its start anyway
            line = s.acked_line if not self._auto_ack else s.lineno
            tl = min(TAIL_LEN, off)
            try:
                tail = os.pread(s.fd, tl, off - tl) if tl else b""
                size = os.fstat(s.fd).st_size
            except OSError:
                continue
            entries.append(
                ckpt.Entry(
                    path=s.path,
                    dev=s.dev,
                    ino=s.ino,
                    head_len=len(s.head),
                    head_hash=ckpt.digest(s.head),
                    offset=off,
                    line=line,
                    tail_len=len(tail),
                    tail_hash=ckpt.digest(tail),
                    root=s.root.path,
                    rotated=s.rotated_at is not None or s.finished,
                    size=size,
                )
            )
        # Checkpointed files that were not found (yet) are kept: they may still turn up.
        for g in self._ghosts:
            entries.append(g.entry)
        return tuple(entries)

    def save(self, entries: Sequence[ckpt.Entry] | None = None) -> None:
        """Write the checkpoint: ``entries`` from an earlier :meth:`snapshot`, or a new one.

        No-op without ``state``; without ``entries``, also once stopped (it would be empty).
        """
        if self._state is None:
            return
        if entries is None:
            if not self._started:
                return
            entries = self.snapshot()
        ckpt.save(self._state, [r.path for r in self._roots], entries)

    # -- passes --------------------------------------------------------------------------------

    def _next_deadline(self) -> float | None:
        due = [
            s.rotated_at + self._grace
            for s in self._streams
            if s.rotated_at is not None and self._in_grace(s)
        ]
        return min(due) if due else None

    @staticmethod
    def _in_grace(s: _Stream) -> bool:
        return s.rotated_at is not None and not s.finished and not s.dropped

    def _pass(self, full: bool, out: list[FollowEvent], now: float) -> None:
        self.stats.passes += 1
        self._more = False
        scan: dict[tuple[int, int], Found] | None = None
        if full:
            scan = self._scan_now()
            self._last_full = now
            if self._first:
                self._resolve_checkpoint(scan, out, now)
            self._reconcile(scan, out, now)
        for s in list(self._streams):
            if self._in_grace(s) and s.rotated_at is not None and now >= s.rotated_at + self._grace:
                self._finish(s, out, now)
        self._read_all(out, now)
        if scan is not None:
            self._claim_new(scan, out, now)
        if self._first:
            self._first = False
            for g in self._ghosts:
                if g.entry.rotated and g.entry.offset >= g.entry.size:
                    continue  # a rotated file read to its end: its removal loses nothing
                out.append(
                    Notice(
                        "lost",
                        g.entry.path,
                        f"{g.entry.path}: checkpointed file not found (deleted or moved away "
                        f"while the tailer was down); lines after line {g.entry.line} that "
                        "were not read are lost",
                    )
                )
                self.stats.lost += 1
        self._purge()

    def _read_all(self, out: list[FollowEvent], now: float) -> None:
        i = 0
        while i < len(self._streams):  # _read may append streams (a truncated file's new content)
            s = self._streams[i]
            if not s.dropped:
                self._read(s, out, now)
            i += 1

    def _purge(self) -> None:
        if any(s.dropped for s in self._streams):
            for s in self._streams:
                if s.dropped:
                    self._by_seq.pop(s.seq, None)
            self._streams = [s for s in self._streams if not s.dropped]

    def _scan_now(self) -> dict[tuple[int, int], Found]:
        self.stats.scans += 1
        return scan(self._roots, self._match)

    def _resolve_checkpoint(
        self, scan: dict[tuple[int, int], Found], out: list[FollowEvent], now: float
    ) -> None:
        """First pass: find each checkpointed file by inode and content, resume it exactly."""
        left: list[_Ghost] = []
        for g in self._ghosts:
            e = g.entry
            f = scan.get((e.dev, e.ino))
            fd = self._open(f.path, (e.dev, e.ino)) if f is not None else None
            if f is None or fd is None or not holds(fd, e):
                if fd is not None:
                    os.close(fd)
                left.append(g)
                continue
            s = self._adopt(fd, f, g, now, rotated=e.rotated or f.path != e.path)
            out.append(_opened(s, resumed=True))
        self._ghosts = left

    def _adopt(self, fd: int, f: Found, g: _Ghost, now: float, *, rotated: bool) -> _Stream:
        e = g.entry
        head = os.pread(fd, min(FP_LEN, e.offset), 0)
        tl = min(TAIL_LEN, e.offset)
        s = _Stream(
            seq=g.seq,
            path=f.path,
            root=f.root,
            fd=fd,
            dev=f.st.st_dev,
            ino=f.st.st_ino,
            pos=e.offset,
            lineno=e.line,
            head=head,
            tail=os.pread(fd, tl, e.offset - tl) if tl else b"",
            born=now,
            acked_off=e.offset,
            acked_line=e.line,
            rotated_at=now if rotated else None,
        )
        self._insert(s)
        self.stats.files += 1
        return s

    def _insert(self, s: _Stream) -> None:
        keys = [x.seq for x in self._streams]
        self._streams.insert(bisect.bisect(keys, s.seq), s)
        self._by_seq[s.seq] = s

    def _reconcile(
        self, scan: dict[tuple[int, int], Found], out: list[FollowEvent], now: float
    ) -> None:
        """Match held files to what the scan found: follow renames, notice rotations."""
        for s in self._streams:
            if s.fd is None or s.dropped:
                continue
            f = scan.pop((s.dev, s.ino), None)
            if f is not None:
                s.visible = True
                if f.path != s.path:
                    old, s.path = s.path, f.path
                    if s.rotated_at is None and not s.finished:
                        s.rotated_at = now
                        self.stats.rotations += 1
                        out.append(Notice("rotated", old, f"{old} rotated to {f.path}", s.seq))
                continue
            s.visible = False
            if s.finished:
                self._drop(s, out)
            elif s.rotated_at is None:
                s.rotated_at = now
                self.stats.rotations += 1
                out.append(Notice("rotated", s.path, f"{s.path} was deleted or moved away", s.seq))

    def _unsettled(self, b: _Stream) -> bool:
        """A rotated stream in its grace period that has a partial line or bytes not yet read."""
        if not self._in_grace(b) or b.fd is None:
            return False
        if b.pending:
            return True
        try:
            return os.fstat(b.fd).st_size > b.pos
        except OSError:
            return False

    def _blocked(self, s: _Stream) -> bool:
        """A file that appeared after a rotation waits until the rotated one is settled."""
        return any(
            b.seq < s.seq and s.born >= (b.rotated_at or 0.0) and self._unsettled(b)
            for b in self._streams
            if b is not s
        )

    def _claim_new(
        self, scan: dict[tuple[int, int], Found], out: list[FollowEvent], now: float
    ) -> None:
        """Files the scan found that no stream holds: continuations, copies, or new files."""
        held = {(x.dev, x.ino) for x in self._streams if x.fd is not None and not x.dropped}
        scan = {k: f for k, f in scan.items() if k not in held}
        self._deferred = False
        waiting: set[str] = set()
        try:
            self._claim(scan, out, now, waiting)
        finally:
            self._waiting = frozenset(waiting)

    def _claim(
        self,
        scan: dict[tuple[int, int], Found],
        out: list[FollowEvent],
        now: float,
        waiting: set[str],
    ) -> None:
        if not scan:
            return
        items = sorted(
            scan.items(),
            key=lambda kv: (kv[1].st.st_mtime_ns, rotation_rank(kv[1].path), kv[1].path),
        )
        opened: list[tuple[int, Found, bytes, os.stat_result]] = []
        for key, f in items:
            fd = self._open(f.path, key)
            if fd is None:
                # Renamed or removed since the scan (a rotation in progress): files newer than
                # it wait for the next pass, so none is read before an older one.
                self._want_scan.set()
                self._more = True
                self._deferred = True
                break
            st = os.fstat(fd)
            opened.append((fd, f, os.pread(fd, FP_LEN, 0), st))
        rest: list[tuple[int, Found, bytes, os.stat_result]] = []
        # Continuations of checkpointed files first (copies made while the tailer was down).
        for fd, f, head, st in opened:
            g = self._ghost_for(fd, st)
            if g is None:
                rest.append((fd, f, head, st))
                continue
            self._ghosts.remove(g)
            s = self._adopt(fd, f, g, now, rotated=True)
            self.stats.copies += 1
            out.append(_opened(s, resumed=True))
            out.append(
                Notice("copy", f.path, f"{g.entry.path}: continued in its copy {f.path}", s.seq)
            )
            self._read(s, out, now, final=True)
        live = [
            s
            for s in self._streams
            if s.fd is not None and s.visible and s.rotated_at is None and not s.finished
        ]
        for fd, f, head, st in rest:
            if not head:
                os.close(fd)  # nothing to read yet (and a copy being made starts empty)
                waiting.add(f.path)
                continue
            if any(self._is_copy_of(head, t.head) for t in live):
                # A copy of a held file (or too short to tell yet): looked at again when the
                # held file is truncated, or when it changes.
                os.close(fd)
                waiting.add(f.path)
                continue
            if len(head) >= FP_MIN and self._was_read(head):
                s = self._new_stream(fd, f, st, now, at_end=True)
                out.append(_opened(s, resumed=False))
                out.append(
                    Notice("skipped", f.path, f"{f.path}: a copy of a file already read", s.seq)
                )
                continue
            if any(self._unsettled(b) for b in self._streams):
                os.close(fd)  # wait until the rotated file before it is settled
                self._deferred = True
                continue
            at_end = self._first and not self._from_start and f.root.path not in self._ckpt_roots
            s = self._new_stream(fd, f, st, now, at_end=at_end)
            if ROTATED.search(f.path):
                # Named like a rotated file (x.log.1): no longer written, so its partial last
                # line is emitted after the grace period like that of any rotated file.
                s.rotated_at = now
            out.append(_opened(s, resumed=False))
            self._read(s, out, now)

    @staticmethod
    def _is_copy_of(head: bytes, held: bytes) -> bool:
        n = compat(head, held)
        return bool(n) and (n >= FP_MIN or len(head) <= len(held))

    def _was_read(self, head: bytes) -> bool:
        for r in self._retired:
            if len(head) >= r.head_len and ckpt.digest(head[: r.head_len]) == r.head_hash:
                return True
        return False

    def _ghost_for(self, fd: int, st: os.stat_result) -> _Ghost | None:
        for g in self._ghosts:
            # Found by content alone: only a head long enough to tell files apart counts.
            if g.entry.head_len >= FP_MIN and holds(fd, g.entry, st):
                return g
        return None

    def _new_stream(
        self, fd: int, f: Found, st: os.stat_result, now: float, *, at_end: bool
    ) -> _Stream:
        pos = lineno = 0
        if at_end and st.st_size:
            pos = last_boundary(fd, st.st_size)
            lineno = count_lines(fd, pos)
        tl = min(TAIL_LEN, pos)
        s = _Stream(
            seq=self._next_seq,
            path=f.path,
            root=f.root,
            fd=fd,
            dev=st.st_dev,
            ino=st.st_ino,
            pos=pos,
            lineno=lineno,
            head=os.pread(fd, min(FP_LEN, pos), 0) if pos else b"",
            tail=os.pread(fd, tl, pos - tl) if tl else b"",
            born=now,
            acked_off=pos,
            acked_line=lineno,
        )
        self._next_seq += 1
        self._streams.append(s)
        self._by_seq[s.seq] = s
        self.stats.files += 1
        return s

    @staticmethod
    def _open(path: str, key: tuple[int, int]) -> int | None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != key:
            os.close(fd)  # replaced between the scan and the open: the next pass sees it
            return None
        return fd

    # -- reading -------------------------------------------------------------------------------

    def _intact(self, s: _Stream, fd: int, need: int) -> bool:
        """The file is at least ``need`` bytes long and still starts with its head."""
        if os.fstat(fd).st_size < need:
            return False
        return not s.head or os.pread(fd, len(s.head), 0) == s.head

    def _read(self, s: _Stream, out: list[FollowEvent], now: float, *, final: bool = False) -> None:
        fd = s.fd
        if fd is None or s.dropped or (not final and self._blocked(s)):
            return
        # A final read (a rotated file's last drain) goes to the end whatever its size: what
        # follows it (its partial line, the next file) must not overtake unread lines.
        budget = PASS_BYTES if not final else 1 << 62
        while True:
            if not self._intact(s, fd, s.pos):
                self._on_truncate(s, out, now)
                return
            size = os.fstat(fd).st_size
            if size <= s.pos:
                return
            if budget <= 0:
                self._more = True
                return
            data = os.pread(fd, min(CHUNK, size - s.pos, budget), s.pos)
            if not data:
                return
            # Read, then check nothing was truncated meanwhile: a read that raced a truncation
            # cannot be told from the new content, so it is dropped (the copy, if any, has it).
            if not self._intact(s, fd, s.pos + len(data)):
                self._on_truncate(s, out, now)
                return
            budget -= len(data)
            self._consume(s, data, out)

    def _consume(self, s: _Stream, data: bytes, out: list[FollowEvent]) -> None:
        start = s.pos
        if len(s.head) < FP_LEN:
            s.head += data[: FP_LEN - len(s.head)]
        s.pos += len(data)
        self.stats.bytes += len(data)
        buf = s.pending + data if s.pending else data
        off = start - len(s.pending)
        parts = buf.split(b"\n")
        s.pending = parts.pop()
        for raw in parts:
            end = off + len(raw) + 1
            s.lineno += 1
            self._emit(s, raw, off, end, out)
            off = end
        if parts:
            done = len(buf) - len(s.pending)
            s.tail = (s.tail + buf[max(0, done - TAIL_LEN) : done])[-TAIL_LEN:]
        if len(s.pending) > MAX_LINE:
            self.stats.split_lines += 1
            self._emit_pending(s, out)

    def _emit(self, s: _Stream, raw: bytes, start: int, end: int, out: list[FollowEvent]) -> None:
        if b"\x00" in raw:
            n = raw.count(b"\x00")
            self.stats.nul_bytes += n
            raw = raw.replace(b"\x00", b"")
            if not raw:
                if self._auto_ack:
                    s.acked_off, s.acked_line = end, s.lineno
                return
        self.stats.lines += 1
        out.append(Line(s.seq, s.lineno, start, end, raw.decode("utf-8", "replace")))
        if self._auto_ack:
            s.acked_off, s.acked_line = end, s.lineno

    def _emit_pending(self, s: _Stream, out: list[FollowEvent]) -> None:
        """Emit the partial last line as a whole line (rotation grace over, or too long)."""
        if not s.pending:
            return
        raw, s.pending = s.pending, b""
        start = s.pos - len(raw)
        s.lineno += 1
        s.tail = (s.tail + raw)[-TAIL_LEN:]
        self._emit(s, raw, start, s.pos, out)

    def _finish(self, s: _Stream, out: list[FollowEvent], now: float) -> None:
        """The grace period of a rotated stream is over: drain it, emit its partial line."""
        self._read(s, out, now, final=True)
        if s.dropped:
            return
        self._emit_pending(s, out)
        s.finished = True
        if s.visible:
            out.append(Closed(s.seq, False))
        else:
            self._drop(s, out)

    def _drop(self, s: _Stream, out: list[FollowEvent]) -> None:
        self._close_fd(s)
        if len(s.head) >= FP_MIN:
            self._retired.append(_Retired(len(s.head), ckpt.digest(s.head)))
            del self._retired[:-RETIRED_KEPT]
        s.dropped = True
        out.append(Closed(s.seq, True))

    @staticmethod
    def _close_fd(s: _Stream) -> None:
        if s.fd is not None:
            with contextlib.suppress(OSError):
                os.close(s.fd)
            s.fd = None

    def _on_truncate(self, s: _Stream, out: list[FollowEvent], now: float) -> None:
        """``s``'s file was truncated: finish its old content (from a copy), then the new one."""
        fd = s.fd
        assert fd is not None
        self.stats.truncations += 1
        st = os.fstat(fd)
        found = Found(s.path, s.root, st)
        copy = self._find_copy(s)
        was_rotated = s.rotated_at is not None
        s.fd = None
        if copy is not None:
            cfd, cf = copy
            old_path = s.path
            s.fd, s.dev, s.ino, s.path = cfd, cf.st.st_dev, cf.st.st_ino, cf.path
            s.pos, s.pending, s.visible = s.consumed, b"", True
            s.head = s.head[: min(FP_LEN, s.pos)]  # the head never runs past the position
            if s.rotated_at is None:
                s.rotated_at = now
            self.stats.copies += 1
            out.append(
                Notice(
                    "copy",
                    old_path,
                    f"{old_path} was truncated (copy-truncate); read its copy {cf.path} first",
                    s.seq,
                )
            )
            self._read(s, out, now, final=True)
        else:
            self._emit_pending(s, out)
            out.append(
                Notice(
                    "truncated",
                    s.path,
                    f"{s.path} was truncated and no copy of it was found; lines written "
                    "between the last read and the truncation, if any, are lost",
                    s.seq,
                )
            )
            if len(s.head) >= FP_MIN:
                self._retired.append(_Retired(len(s.head), ckpt.digest(s.head)))
            s.dropped = True
            out.append(Closed(s.seq, True))
        n = self._new_stream(fd, found, st, now, at_end=False)
        if was_rotated:
            n.rotated_at = now  # the file had been renamed or deleted: so has its new content
        out.append(_opened(n, resumed=False))
        self._read(n, out, now)

    def _find_copy(self, s: _Stream) -> tuple[int, Found] | None:
        """A file that holds ``s``'s old content up to (at least) its read position."""
        held = {(x.dev, x.ino) for x in self._streams if x.fd is not None and not x.dropped}
        need = s.consumed
        cands = [
            (k, f)
            for k, f in self._scan_now().items()
            if k not in held and k != (s.dev, s.ino) and f.st.st_size >= need and f.st.st_size
        ]
        folder = os.path.dirname(s.path)
        cands.sort(key=lambda kf: (os.path.dirname(kf[1].path) != folder, kf[1].path))
        for key, f in cands:
            fd = self._open(f.path, key)
            if fd is None:
                continue
            n = min(len(s.head), f.st.st_size)
            ok = n > 0 and os.pread(fd, n, 0) == s.head[:n]
            if ok and s.tail:
                ok = os.pread(fd, len(s.tail), need - len(s.tail)) == s.tail
            if ok:
                return fd, Found(f.path, f.root, os.fstat(fd))
            os.close(fd)
        return None
