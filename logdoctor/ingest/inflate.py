"""A compressed log file (gzip, bzip2, xz) on disk, decompressed on a thread ahead of the
parser: the parse engine reads it piece by piece (:func:`logdoctor.ingest.parse.iter_chunks`)
while the next pieces are being decompressed, instead of waiting for the whole file.

The caps of :class:`~logdoctor.ingest.inputs.Limits` hold as for a file read whole. A stream
that is corrupt or truncated ends at the last byte that decompressed: what came before is
parsed, and :attr:`Inflated.partial` says where it stopped (one decode error, as
:class:`~logdoctor.ingest.inputs.PartialRead` does for a file read whole). A cap exceeded
part way through also ends the stream there, with the reason in ``partial``.

gzip is inflated with ISA-L (the ``isal`` package, about 3.5x less CPU than zlib) when it is
installed, else with the standard library. ISA-L and zlib stop at a damaged block after
different amounts of output and with different messages, so when ISA-L raises, the stream
is taken over by the standard library: it inflates the file again up to the bytes already
handed out (checked by their CRC-32) and goes on from there. A damaged file therefore reads
exactly as it does with zlib alone; only an intact one is read by ISA-L to its end.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import queue
import threading
import zlib
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

from logdoctor.ingest.capped import (
    _STREAM_ERRORS,
    _compression,
    _decompressor,
    _reason,
    open_regular,
)
from logdoctor.ingest.inputs import Limits, SourceError

try:
    from isal import igzip as _igzip
    from isal import isal_zlib as _isal_zlib

    HAVE_ISAL = True
except ImportError:  # pragma: no cover - a dependency; without it gzip goes through zlib
    HAVE_ISAL = False


def _isal_gzip(fh: BinaryIO) -> io.BufferedIOBase:
    """An ISA-L gzip reader over ``fh`` (the same interface as :class:`gzip.GzipFile`)."""
    return cast(io.BufferedIOBase, _igzip.IGzipFile(fileobj=fh, mode="rb"))  # type: ignore[no-untyped-call]


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
            self._fast = kind == "gzip" and HAVE_ISAL
            self._stream = _isal_gzip(fh) if self._fast else _decompressor(kind, fh)
        except BaseException:
            fh.close()
            raise
        self._fh = fh
        self._crc = 0  # CRC-32 of the bytes ISA-L gave (see _resume_with_zlib)
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
            except Exception as exc:
                fast = self._fast  # ISA-L raises its own errors too: zlib judges the stream
                if fast and self._resume_with_zlib(self.size + got):
                    read = self._stream.read1
                    continue
                if not fast and not isinstance(exc, _STREAM_ERRORS):
                    raise
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
            if self._fast:
                self._crc = _isal_zlib.crc32(block, self._crc)
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

    def _resume_with_zlib(self, offset: int) -> bool:
        """Hand the stream from ISA-L, which raised after ``offset`` bytes, to the standard
        library's gzip: it inflates the file from its start up to ``offset`` and takes over if
        those bytes are the ones given so far (same CRC-32). False (stay on ISA-L's error)
        when it cannot reach them; zlib reads every stream ISA-L reads, so that is not
        expected."""
        self._fast = False
        stream = None
        try:
            self._fh.seek(0)
            stream = gzip.GzipFile(fileobj=self._fh, mode="rb")
            crc, left = 0, offset
            while left:
                block = stream.read1(min(left, 1 << 20))
                if not block:
                    return False
                crc = zlib.crc32(block, crc)
                left -= len(block)
        except _STREAM_ERRORS:
            return False
        if crc != self._crc:
            return False
        with contextlib.suppress(Exception):
            self._stream.close()
        self._stream = stream
        return True

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
