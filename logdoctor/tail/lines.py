"""Line assembly: the bytes read from one file, cut into whole lines. Pure: no file, no clock.

A :class:`LineState` is fed the bytes of its file in order (:meth:`LineState.feed`) and appends
a :class:`~logdoctor.tail.follow_events.Line` for each newline-terminated line; the bytes after
the last newline wait in :attr:`LineState.pending` until their newline arrives, or until the
follower decides the line is complete anyway (:meth:`LineState.finish_line`: a rotated file's
grace period is over, or its file was truncated). A line without a newline longer than
:data:`MAX_LINE` is emitted in pieces. NUL bytes (the hole a writer without ``O_APPEND`` leaves
after a truncation) are removed from lines, and a line that was only NULs is dropped (it still
counts as a line of the file: line numbers and offsets stay those of the file). A UTF-8
byte-order mark at the start of the file is not text: it is removed from the first line, and a
file that holds nothing else has no line (as in the parse engines).

The state also keeps what identifies the file's content for the follower: its first bytes
(:attr:`LineState.head`, up to :data:`FP_LEN`) and the bytes just before the end of the last
whole line (:attr:`LineState.tail`, up to :data:`TAIL_LEN`), which a checkpoint or a copy must
still hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from logdoctor.ingest.decoding import UTF8_BOM
from logdoctor.tail.follow_events import FollowEvent, FollowStats, Line

__all__ = ["FP_LEN", "MAX_LINE", "TAIL_LEN", "LineState"]

FP_LEN = 1024
"""Bytes of a file's start kept as its fingerprint (the *head*)."""
TAIL_LEN = 64
"""Bytes before a checkpointed position that must still be there to resume at it."""
MAX_LINE = 1 << 20
"""A line longer than this without a newline is emitted in pieces (counted in ``split_lines``)."""


@dataclass(slots=True, eq=False)
class LineState:
    """Where the line assembly of one file stands."""

    seq: int
    """The stream number the lines are emitted with."""
    pos: int
    """Offset just after the bytes fed so far."""
    lineno: int
    """Lines of the file before :attr:`consumed` (emitted, or dropped as NUL-only)."""
    head: bytes
    tail: bytes
    pending: bytes = b""
    """Bytes after the last newline (a line still being written)."""
    acked_off: int = 0
    """Offset just after the last line the consumer acknowledged."""
    acked_line: int = 0
    auto_ack: bool = False
    """Every emitted line counts as acknowledged at once."""

    @property
    def consumed(self) -> int:
        """Offset just after the last whole line emitted."""
        return self.pos - len(self.pending)

    def feed(self, data: bytes, out: list[FollowEvent], stats: FollowStats) -> None:
        """The next bytes of the file: append the lines they complete to ``out``."""
        start = self.pos
        if len(self.head) < FP_LEN:
            self.head += data[: FP_LEN - len(self.head)]
        self.pos += len(data)
        stats.bytes += len(data)
        buf = self.pending + data if self.pending else data
        off = start - len(self.pending)
        parts = buf.split(b"\n")
        self.pending = parts.pop()
        for raw in parts:
            end = off + len(raw) + 1
            self.lineno += 1
            self._emit(raw, off, end, out, stats)
            off = end
        if parts:
            done = len(buf) - len(self.pending)
            self.tail = (self.tail + buf[max(0, done - TAIL_LEN) : done])[-TAIL_LEN:]
        if len(self.pending) > MAX_LINE:
            stats.split_lines += 1
            self.finish_line(out, stats)

    def finish_line(self, out: list[FollowEvent], stats: FollowStats) -> None:
        """Emit the partial last line as a whole line (its file gets no more bytes, or it is
        too long to wait for)."""
        if not self.pending:
            return
        raw, self.pending = self.pending, b""
        start = self.pos - len(raw)
        if start == 0 and raw == UTF8_BOM:
            return  # only a byte-order mark: no line
        self.lineno += 1
        self.tail = (self.tail + raw)[-TAIL_LEN:]
        self._emit(raw, start, self.pos, out, stats)

    def rewind(self) -> None:
        """Forget the partial last line: the next byte fed is the one after the last whole
        line (reading goes on in a copy of the file that may hold that line whole)."""
        self.pos, self.pending = self.consumed, b""
        self.head = self.head[: min(FP_LEN, self.pos)]  # the head never runs past the position

    def _emit(
        self, raw: bytes, start: int, end: int, out: list[FollowEvent], stats: FollowStats
    ) -> None:
        if start == 0 and raw.startswith(UTF8_BOM):
            raw = raw[len(UTF8_BOM) :]
        if b"\x00" in raw:
            stats.nul_bytes += raw.count(b"\x00")
            raw = raw.replace(b"\x00", b"")
            if not raw:
                if self.auto_ack:
                    self.acked_off, self.acked_line = end, self.lineno
                return
        stats.lines += 1
        out.append(Line(self.seq, self.lineno, start, end, raw.decode("utf-8", "replace")))
        if self.auto_ack:
            self.acked_off, self.acked_line = end, self.lineno
