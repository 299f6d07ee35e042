"""The bytes of a stream (a compressed file decompressed piece by piece) that the bulk engine
holds until a chunk's end is decided: one buffer reused for the whole file (replaced by a
larger one only when a piece does not fit, as a record longer than the buffer may need).

Joining the pieces into a new ``bytes`` each round and keeping the unparsed tail as another
copy made the kernel map fresh pages for every copy (page faults cost a compressed file about
0.1 CPU-s per 100 MB over the plain file). The window is an anonymous memory map, written
where the pieces arrive and moved down in place once the chunks before are parsed, so its
pages are faulted in once.
"""

from __future__ import annotations

import mmap

__all__ = ["Window"]


class Window:
    """Held bytes ``buf[:size]``, the stream's bytes from offset ``base`` on; what lies in
    ``buf`` after ``size`` is stale."""

    def __init__(self, capacity: int) -> None:
        self.buf = mmap.mmap(-1, max(capacity, 1))
        self.size = 0
        self.base = 0

    def add(self, piece: bytes | memoryview) -> None:
        """Append ``piece`` (the buffer grows when it does not fit)."""
        n = len(piece)
        end = self.size + n
        if end > len(self.buf):
            bigger = mmap.mmap(-1, max(end, 2 * len(self.buf)))
            bigger[: self.size] = self.buf[: self.size]
            self.buf.close()
            self.buf = bigger
        self.buf[self.size : end] = piece
        self.size = end

    def drop(self, keep: int) -> None:
        """Forget the held bytes before ``keep`` (parsed); the rest moves to the start."""
        rest = self.size - keep
        if rest:
            self.buf.move(0, keep, rest)
        self.size = rest
        self.base += keep

    def close(self) -> None:
        """Release the buffer."""
        self.buf.close()
