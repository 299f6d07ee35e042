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

import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from logdoctor.tail import checkpoint as ckpt
from logdoctor.tail.follow_events import (
    Closed,
    FileState,
    FollowError,
    FollowEvent,
    Notice,
)
from logdoctor.tail.identity import Ghost, Identity, Stream
from logdoctor.tail.lines import TAIL_LEN
from logdoctor.tail.scan import CHUNK, Found, Root
from logdoctor.tail.watch import make_observer

__all__ = ["Follower"]

PASS_BYTES = 1 << 20
"""Bytes read from one file in one pass; the rest is read by the next pass, at once."""


class Follower(Identity):
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
        super().__init__(roots, match, from_start=from_start, auto_ack=auto_ack)
        self._state = Path(state) if state is not None else None
        self._poll = poll
        self._poll_interval = max(0.01, poll_interval)
        self._grace = max(0.0, rotate_grace)
        self._clock = clock
        self._wake = threading.Event()
        self._observer: Any = None
        self._last_full = 0.0
        self._started = False
        self._held: list[FollowEvent] = []

    # -- lifecycle ---------------------------------------------------------------------------------

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
                    self._ghosts.append(Ghost(self._next_seq, e, root))
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
        return make_observer(
            self._roots,
            poll=poll,
            poll_interval=self._poll_interval,
            wake=self._wake,
            want_scan=self._want_scan,
            waiting=lambda: self._waiting,
        )

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

    # -- consumer API ------------------------------------------------------------------------------

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

    # -- passes ------------------------------------------------------------------------------------

    def _next_deadline(self) -> float | None:
        due = [
            s.rotated_at + self._grace
            for s in self._streams
            if s.rotated_at is not None and self._in_grace(s)
        ]
        return min(due) if due else None

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

    # -- reading -----------------------------------------------------------------------------------

    def _intact(self, s: Stream, fd: int, need: int) -> bool:
        """The file is at least ``need`` bytes long and still starts with its head."""
        if os.fstat(fd).st_size < need:
            return False
        return not s.head or os.pread(fd, len(s.head), 0) == s.head

    def _read(self, s: Stream, out: list[FollowEvent], now: float, *, final: bool = False) -> None:
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
            s.feed(data, out, self.stats)

    def _finish(self, s: Stream, out: list[FollowEvent], now: float) -> None:
        """The grace period of a rotated stream is over: drain it, emit its partial line."""
        self._read(s, out, now, final=True)
        if s.dropped:
            return
        s.finish_line(out, self.stats)
        s.finished = True
        if s.visible:
            out.append(Closed(s.seq, False))
        else:
            self._drop(s, out)
