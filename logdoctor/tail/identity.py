"""Which file is this? The follower's streams and how files found on disk map onto them.

A followed file is a :class:`Stream`: an open descriptor, device + inode, and the line state
of its content (:class:`~logdoctor.tail.lines.LineState`, whose *head* is the file's
fingerprint). :class:`Identity` holds the streams and decides, for what a scan of the followed
roots finds, what each file is:

* a held file under its own or a new name (:meth:`Identity._reconcile`: a rename or a deletion
  rotates its stream);
* a checkpointed file, found again by inode and content on the first pass
  (:meth:`Identity._resolve_checkpoint`), or by content alone in a copy made while the tailer
  was down (a *ghost* continued in its copy);
* a copy of a held file (not read again), or a copy of a file already read and dropped (a
  *retired* head: skipped);
* a new file, read from its start (or from its end, for files present when the tailer starts).

It also answers when a held file was truncated: :meth:`Identity._on_truncate` looks for the copy
that holds the old content (:meth:`Identity._find_copy`) and continues there, then reads the
file's new content as a new stream. How the bytes are read is the follower's
(:meth:`Identity._read`, implemented by :class:`~logdoctor.tail.follow.Follower`).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from logdoctor.tail import checkpoint as ckpt
from logdoctor.tail.follow_events import Closed, FollowEvent, FollowStats, Notice, Opened
from logdoctor.tail.lines import FP_LEN, TAIL_LEN, LineState
from logdoctor.tail.scan import (
    Found,
    Root,
    compat,
    count_lines,
    holds,
    last_boundary,
    scan,
)
from logdoctor.ucm.naming import SUFFIXED, suffix_rank

__all__ = ["FP_MIN", "Ghost", "Identity", "Stream", "opened"]

FP_MIN = 32
"""A head shorter than this is not trusted to tell a copy from a new file on its own."""
RETIRED_KEPT = 256
"""Heads of dropped files remembered (a file that shows up again with one is not read again)."""
SAMPLE_LEN = 1 << 16
"""Bytes of a file's start whose whole lines are handed out for format detection."""

_Candidate = tuple[int, Found, bytes, os.stat_result]
"""A file opened by a scan pass: descriptor, where it was found, its head, its stat."""


@dataclass(slots=True, eq=False, kw_only=True)
class Stream(LineState):
    """A followed file: its descriptor and identity, and where its reading stands."""

    path: str
    """Where the file is now (its last name seen)."""
    root: Root
    fd: int | None
    dev: int
    ino: int
    born: float
    """When the follower started holding it."""
    rotated_at: float | None = None
    """When it was renamed or deleted (it gets no new lines; its grace period runs)."""
    finished: bool = False
    """Its grace period is over and its partial line was emitted."""
    visible: bool = True
    """The last scan found it under a followed root."""
    dropped: bool = False
    """No longer held (its descriptor is closed)."""


@dataclass(slots=True)
class Ghost:
    """Content known from a checkpoint whose file was not found by inode."""

    seq: int
    entry: ckpt.Entry
    root: Root


@dataclass(slots=True)
class _Retired:
    head_len: int
    head_hash: str


def opened(s: Stream, *, resumed: bool) -> Opened:
    """The :class:`Opened` event of a stream (with the whole lines of its file's start)."""
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


class Identity:
    """The streams of a follower, and which file each one is (see the module doc)."""

    def __init__(
        self,
        roots: list[Root],
        match: Callable[[str, str], bool],
        *,
        from_start: bool,
        auto_ack: bool,
    ) -> None:
        self._roots = roots
        self._match = match
        self._from_start = from_start
        self._auto_ack = auto_ack
        self._streams: list[Stream] = []
        self._by_seq: dict[int, Stream] = {}
        self._ghosts: list[Ghost] = []
        self._retired: list[_Retired] = []
        self._ckpt_roots: set[str] = set()
        self._next_seq = 0
        self._want_scan = threading.Event()
        """A pass must scan the roots (a file appeared, vanished, or was left for later)."""
        self._first = True
        """The next pass is the first one (files present now are read from their end)."""
        self._more = False
        """A file has more to read at once (left for the next pass)."""
        self._deferred = False
        """A file was left for a later pass (a rotation in progress, a rotated file unsettled)."""
        self._waiting: frozenset[str] = frozenset()
        """Files left for later until they change (empty ones): a hint about one means a scan."""
        self.stats = FollowStats()

    def _read(self, s: Stream, out: list[FollowEvent], now: float, *, final: bool = False) -> None:
        """Read ``s``'s new bytes into lines (``final``: to its end, whatever the budget)."""
        raise NotImplementedError  # the follower reads

    def _scan_now(self) -> dict[tuple[int, int], Found]:
        self.stats.scans += 1
        return scan(self._roots, self._match)

    # -- making streams --------------------------------------------------------------------------

    def _adopt(self, fd: int, f: Found, g: Ghost, now: float, *, rotated: bool) -> Stream:
        """Resume a checkpointed file (found in ``f``) exactly at its checkpointed position."""
        e = g.entry
        s = self._hold(fd, f, f.st, g.seq, e.offset, e.line, now)
        s.rotated_at = now if rotated else None
        keys = [x.seq for x in self._streams]
        self._streams.insert(bisect.bisect(keys, s.seq), s)
        self._by_seq[s.seq] = s
        return s

    def _new_stream(
        self, fd: int, f: Found, st: os.stat_result, now: float, *, at_end: bool
    ) -> Stream:
        """Hold a file not held before, read from its start (or from its last whole line)."""
        pos = lineno = 0
        if at_end and st.st_size:
            pos = last_boundary(fd, st.st_size)
            lineno = count_lines(fd, pos)
        s = self._hold(fd, f, st, self._next_seq, pos, lineno, now)
        self._next_seq += 1
        self._streams.append(s)
        self._by_seq[s.seq] = s
        return s

    def _hold(
        self, fd: int, f: Found, st: os.stat_result, seq: int, pos: int, lineno: int, now: float
    ) -> Stream:
        """A stream of ``fd`` reading on at ``pos`` (``lineno`` lines before it, acknowledged)."""
        tl = min(TAIL_LEN, pos)
        self.stats.files += 1
        return Stream(
            seq=seq,
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
            auto_ack=self._auto_ack,
        )

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

    # -- held files ------------------------------------------------------------------------------

    def _resolve_checkpoint(
        self, scan: dict[tuple[int, int], Found], out: list[FollowEvent], now: float
    ) -> None:
        """First pass: find each checkpointed file by inode and content, resume it exactly."""
        left: list[Ghost] = []
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
            out.append(opened(s, resumed=True))
        self._ghosts = left

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

    @staticmethod
    def _in_grace(s: Stream) -> bool:
        return s.rotated_at is not None and not s.finished and not s.dropped

    def _unsettled(self, b: Stream) -> bool:
        """A rotated stream in its grace period that has a partial line or bytes not yet read."""
        if not self._in_grace(b) or b.fd is None:
            return False
        if b.pending:
            return True
        try:
            return os.fstat(b.fd).st_size > b.pos
        except OSError:
            return False

    def _blocked(self, s: Stream) -> bool:
        """A file that appeared after a rotation waits until the rotated one is settled."""
        return any(
            b.seq < s.seq and s.born >= (b.rotated_at or 0.0) and self._unsettled(b)
            for b in self._streams
            if b is not s
        )

    def _drop(self, s: Stream, out: list[FollowEvent]) -> None:
        self._close_fd(s)
        self._retire(s)
        s.dropped = True
        out.append(Closed(s.seq, True))

    def _retire(self, s: Stream) -> None:
        """Remember the head of a file no longer held (a copy of it is not read again)."""
        if len(s.head) >= FP_MIN:
            self._retired.append(_Retired(len(s.head), ckpt.digest(s.head)))
            del self._retired[:-RETIRED_KEPT]

    @staticmethod
    def _close_fd(s: Stream) -> None:
        if s.fd is not None:
            with contextlib.suppress(OSError):
                os.close(s.fd)
            s.fd = None

    # -- files not held --------------------------------------------------------------------------

    def _claim_new(
        self, scan: dict[tuple[int, int], Found], out: list[FollowEvent], now: float
    ) -> None:
        """Files the scan found that no stream holds: continuations, copies, or new files."""
        held = {(x.dev, x.ino) for x in self._streams if x.fd is not None and not x.dropped}
        scan = {k: f for k, f in scan.items() if k not in held}
        self._deferred = False
        waiting: set[str] = set()
        try:
            if scan:
                rest = self._continue_ghosts(self._open_found(scan), out, now)
                self._claim(rest, out, now, waiting)
        finally:
            self._waiting = frozenset(waiting)

    def _open_found(self, scan: dict[tuple[int, int], Found]) -> list[_Candidate]:
        """Open the files of a scan, oldest first, up to the first one that is gone."""
        items = sorted(
            scan.items(),
            key=lambda kv: (kv[1].st.st_mtime_ns, suffix_rank(kv[1].path), kv[1].path),
        )
        found: list[_Candidate] = []
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
            found.append((fd, f, os.pread(fd, FP_LEN, 0), st))
        return found

    def _continue_ghosts(
        self, found: list[_Candidate], out: list[FollowEvent], now: float
    ) -> list[_Candidate]:
        """Continue checkpointed files in their copies (made while the tailer was down), read
        them to their end; the other files."""
        rest: list[_Candidate] = []
        for fd, f, head, st in found:
            g = self._ghost_for(fd, st)
            if g is None:
                rest.append((fd, f, head, st))
                continue
            self._ghosts.remove(g)
            s = self._adopt(fd, f, g, now, rotated=True)
            self.stats.copies += 1
            out.append(opened(s, resumed=True))
            out.append(
                Notice("copy", f.path, f"{g.entry.path}: continued in its copy {f.path}", s.seq)
            )
            self._read(s, out, now, final=True)
        return rest

    def _claim(
        self, rest: list[_Candidate], out: list[FollowEvent], now: float, waiting: set[str]
    ) -> None:
        """Hold and read the new files among ``rest``; copies and empty files wait."""
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
                out.append(opened(s, resumed=False))
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
            if SUFFIXED.search(f.path):
                # Named like a rotated file (x.log.1): no longer written, so its partial last
                # line is emitted after the grace period like that of any rotated file.
                s.rotated_at = now
            out.append(opened(s, resumed=False))
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

    def _ghost_for(self, fd: int, st: os.stat_result) -> Ghost | None:
        for g in self._ghosts:
            # Found by content alone: only a head long enough to tell files apart counts.
            if g.entry.head_len >= FP_MIN and holds(fd, g.entry, st):
                return g
        return None

    # -- truncation ------------------------------------------------------------------------------

    def _on_truncate(self, s: Stream, out: list[FollowEvent], now: float) -> None:
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
            s.rewind()
            s.visible = True
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
            s.finish_line(out, self.stats)
            out.append(
                Notice(
                    "truncated",
                    s.path,
                    f"{s.path} was truncated and no copy of it was found; lines written "
                    "between the last read and the truncation, if any, are lost",
                    s.seq,
                )
            )
            self._retire(s)
            s.dropped = True
            out.append(Closed(s.seq, True))
        n = self._new_stream(fd, found, st, now, at_end=False)
        if was_rotated:
            n.rotated_at = now  # the file had been renamed or deleted: so has its new content
        out.append(opened(n, resumed=False))
        self._read(n, out, now)

    def _find_copy(self, s: Stream) -> tuple[int, Found] | None:
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
