"""A compressed log file (gzip, bzip2, xz) on disk, decompressed on a thread ahead of the
parser: the parse engine reads it piece by piece (:func:`logdoctor.ingest.parse.iter_chunks`)
while the next pieces are being decompressed, instead of waiting for the whole file.

The caps of :class:`~logdoctor.ingest.inputs.Limits` hold as for a file read whole. A stream
that is corrupt or truncated ends at the last byte that decompressed: what came before is
parsed, and :attr:`Inflated.partial` says where it stopped (one decode error, as
:class:`~logdoctor.ingest.inputs.PartialRead` does for a file read whole). A cap exceeded
part way through also ends the stream there, with the reason in ``partial``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Generator, Sequence
from pathlib import Path

from logdoctor.ingest.capped import (
    _STREAM_ERRORS,
    _compression,
    _decompressor,
    _reason,
    open_regular,
)
from logdoctor.ingest.inputs import Limits, SourceError

__all__ = ["PIECE_BYTES", "Inflated"]

PIECE_BYTES = 4 << 20
"""Decompressed bytes per piece handed from the decompressing thread to the parser."""

_AHEAD = 4
"""Pieces decompressed ahead of the parser at most (bounds memory)."""

_HEAD = 1 << 16


class Inflated:
    """A compressed file's content as pieces of bytes, decompressed on a thread.

    The first 64 KiB are decompressed when it is opened (:attr:`head`, for format detection); a
    file that does not decompress at all raises :class:`SourceError` then. :meth:`pieces` may
    be iterated once; after it, :attr:`size` is the decompressed size and :attr:`partial` /
    :attr:`decode_errors` say whether the stream ended early.
    """

    def __init__(self, path: Path, limits: Limits, label: str | None = None) -> None:
        self.label = label or str(path)
        self.limits = limits
        self.partial: str | None = None
        self.decode_errors = 0
        self.size = 0
        fh = open_regular(path)
        try:
            self.packed = os.fstat(fh.fileno()).st_size
            kind = _compression(fh.read(6))
            fh.seek(0)
            if kind is None:
                raise SourceError(f"{self.label}: not compressed")
            self._stream = _decompressor(kind, fh)
        except BaseException:
            fh.close()
            raise
        self._fh = fh
        self._first: list[bytes] = []
        self._done = False
        self._streaming = False
        got = 0
        while got < _HEAD and not self._done:
            piece = self._read(first=True)
            if piece:
                self._first.append(piece)
                got += len(piece)
        self.head = b"".join(self._first)[:_HEAD]

    def _read(self, *, first: bool = False) -> bytes:
        """The next piece (b"" at the end, or where the stream or a cap stopped it). Read with
        ``read1`` a block at a time, so that the bytes before a corrupt or truncated block
        are kept (a plain ``read`` would raise them away with the error)."""
        if self._done:
            return b""
        want = _HEAD if first else PIECE_BYTES
        read = getattr(self._stream, "read1", self._stream.read)
        parts: list[bytes] = []
        got = 0
        while got < want:
            try:
                block = read(want - got)
            except _STREAM_ERRORS as exc:
                self._done = True
                total = self.size + got
                if total == 0:
                    self.close()
                    raise SourceError(f"{self.label}: {_reason(exc)}") from None
                self.partial = f"partly read, {_reason(exc)} after {total:,} bytes"
                self.decode_errors = 1
                break
            if not block:
                self._done = True
                break
            parts.append(block)
            got += len(block)
        piece = parts[0] if len(parts) == 1 else b"".join(parts)
        self.size += len(piece)
        limits = self.limits
        if self.size > limits.max_file_bytes:
            return self._refuse(f"expands beyond {limits.max_file_bytes} bytes")
        if self.size > limits.ratio_floor and self.size > max(self.packed, 1) * limits.max_ratio:
            return self._refuse(f"expands more than {limits.max_ratio}:1")
        return piece

    def _refuse(self, why: str) -> bytes:
        """Stop at a cap: the whole file is refused while its head is read; later, the pieces
        already handed out stay parsed and ``partial`` says why the rest was not read."""
        self._done = True
        message = f"refused, {why} (decompression bomb?)"
        if not self._streaming:
            self.close()
            raise SourceError(f"{self.label}: {message}")
        self.partial = f"{message}, after {self.size:,} bytes"
        return b""

    def pieces(self) -> Generator[bytes, None, None]:
        """The decompressed bytes, in order, piece by piece; the pieces after the first 64 KiB
        are decompressed on a thread while the caller works on the ones before."""
        yield from self._first
        self._first = []
        if self._done:
            self.close()
            return
        ahead: queue.Queue[bytes | None] = queue.Queue(_AHEAD)
        stop = threading.Event()
        self._streaming = True

        def run() -> None:
            try:
                while not stop.is_set():
                    piece = self._read()
                    if not piece:
                        break
                    ahead.put(piece)
            except Exception as exc:  # reported as where reading stopped
                self.partial = f"partly read, stopped after {self.size:,} bytes ({exc})"
            finally:
                ahead.put(None)

        worker = threading.Thread(target=run, name="logdoctor-inflate", daemon=True)
        worker.start()
        try:
            while (piece := ahead.get()) is not None:
                yield piece
        finally:
            stop.set()
            with contextlib.suppress(queue.Empty):
                while True:  # unblock the thread if the caller stopped early
                    ahead.get_nowait()
            worker.join()
            self.close()

    def mentions(self, literals: Sequence[bytes]) -> bool:
        """True when the content holds one of ``literals`` (stops decompressing at the first)."""
        reach = max((len(lit) for lit in literals), default=1) - 1
        tail = b""
        pieces = self.pieces()
        try:
            for piece in pieces:
                window = tail + piece
                if any(lit in window for lit in literals):
                    return True
                tail = window[-reach:] if reach else b""
            return False
        finally:
            pieces.close()

    def read_all(self) -> bytes:
        """The whole decompressed content at once."""
        return b"".join(self.pieces())

    def close(self) -> None:
        """Release the file (idempotent)."""
        with contextlib.suppress(Exception):
            self._stream.close()
        with contextlib.suppress(Exception):
            self._fh.close()
