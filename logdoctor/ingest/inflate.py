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
import mmap
import os
import queue
import threading
import zlib
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import BinaryIO

from logdoctor.ingest.capped import (
    _STREAM_ERRORS,
    _compression,
    _decompressor,
    _reason,
    open_regular,
)
from logdoctor.ingest.inputs import Limits, SourceError

try:
    from isal import isal_zlib as _isal_zlib

    HAVE_ISAL = True
except ImportError:  # pragma: no cover - a dependency; without it gzip goes through zlib
    HAVE_ISAL = False


__all__ = ["PIECE_BYTES", "Inflated"]

PIECE_BYTES = 4 << 20
"""Decompressed bytes per piece handed from the decompressing thread to the parser."""

_AHEAD = 4
"""Pieces decompressed ahead of the parser at most (bounds memory)."""

_HEAD = 1 << 16

_ISAL_READ = 512 << 10
"""Compressed bytes ISA-L reads from the file at a time (the ``igzip`` module's own size)."""


def _isal_gzip(fh: BinaryIO) -> _isal_zlib._GzipReader:
    """ISA-L's gzip reader over ``fh`` (what :class:`isal.igzip.IGzipFile` wraps in a
    buffered reader): it decompresses straight into a given buffer (``readinto``)."""
    return _isal_zlib._GzipReader(fh, _ISAL_READ)


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
            self._stream: _isal_zlib._GzipReader | io.BufferedIOBase = (
                _isal_gzip(fh) if self._fast else _decompressor(kind, fh)
            )
        except BaseException:
            fh.close()
            raise
        self._fh = fh
        self._crc = 0  # CRC-32 of the bytes ISA-L gave (see _resume_with_zlib)
        self._done = False
        self._streaming = False
        head = bytearray(_HEAD)
        self.head = bytes(head[: self._fill(memoryview(head))])

    def _fill(self, view: memoryview) -> int:
        """Decompress into ``view`` until it is full or the stream ends: the bytes written (0
        at the end, or where the stream or a cap stopped it). ISA-L writes into ``view``
        directly; the standard library's streams are read with ``read1``, a block at a time,
        so that the bytes before a corrupt or truncated block are kept (a plain ``read``
        would raise them away with the error)."""
        if self._done:
            return 0
        want = len(view)
        got = 0
        while got < want:
            try:
                n = self._inflate_into(view[got:])
            except Exception as exc:
                fast = self._fast  # ISA-L raises its own errors too: zlib judges the stream
                if fast and self._resume_with_zlib(self.size + got):
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
            if not n:
                self._done = True
                break
            if self._fast:
                self._crc = _isal_zlib.crc32(view[got : got + n], self._crc)
            got += n
        self.size += got
        limits = self.limits
        if self.size > limits.max_file_bytes:
            return self._refuse(f"expands beyond {limits.max_file_bytes} bytes")
        if self.size > limits.ratio_floor and self.size > max(self.packed, 1) * limits.max_ratio:
            return self._refuse(f"expands more than {limits.max_ratio}:1")
        return got

    def _inflate_into(self, view: memoryview) -> int:
        """One step of decompression into ``view``: the bytes written (0 at the end)."""
        stream = self._stream
        if not isinstance(stream, io.BufferedIOBase):  # ISA-L's reader
            return stream.readinto(view)
        block = stream.read1(len(view))
        view[: len(block)] = block
        return len(block)

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

    def _refuse(self, why: str) -> int:
        """Stop at a cap: the whole file is refused while its head is read; later, the pieces
        already handed out stay parsed and ``partial`` says why the rest was not read."""
        self._done = True
        message = f"refused, {why} (decompression bomb?)"
        if not self._streaming:
            self.close()
            raise SourceError(f"{self.label}: {message}")
        self.partial = f"{message}, after {self.size:,} bytes"
        return 0

    def pieces(self) -> Generator[memoryview, None, None]:
        """The decompressed bytes, in order, piece by piece; the pieces after the first 64 KiB
        are decompressed on a thread while the caller works on the ones before.

        A piece is a view of a buffer that is decompressed into again once the caller asks for
        a later piece: use or copy it before. Reusing a few buffers (anonymous memory maps,
        whose pages are touched only where written) keeps the kernel from mapping fresh pages
        for every piece."""
        if self.head:
            try:
                yield memoryview(self.head)
            except GeneratorExit:  # the caller stopped at the head (``mentions`` may)
                self.close()
                raise
        if self._done:
            self.close()
            return
        ahead: queue.Queue[tuple[mmap.mmap, int] | None] = queue.Queue()
        free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(_AHEAD + 1):  # _AHEAD filled or being filled, one with the caller
            free.put(mmap.mmap(-1, PIECE_BYTES))
        stop = threading.Event()
        self._streaming = True

        def run() -> None:
            try:
                while not stop.is_set():
                    buf = free.get()
                    if stop.is_set():
                        break
                    with memoryview(buf) as view:
                        n = self._fill(view)
                    if not n:
                        break
                    ahead.put((buf, n))
            except Exception as exc:  # reported as where reading stopped
                self.partial = f"partly read, stopped after {self.size:,} bytes ({exc})"
            finally:
                ahead.put(None)

        worker = threading.Thread(target=run, name="logdoctor-inflate", daemon=True)
        worker.start()
        try:
            while (item := ahead.get()) is not None:
                buf, n = item
                yield memoryview(buf)[:n]
                free.put(buf)
        finally:
            stop.set()
            free.put(mmap.mmap(-1, 1))  # the thread may wait for a buffer: it then sees stop
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
        return b"".join([bytes(piece) for piece in self.pieces()])

    def close(self) -> None:
        """Release the file (idempotent)."""
        with contextlib.suppress(Exception):
            self._stream.close()
        with contextlib.suppress(Exception):
            self._fh.close()
