"""Reading under caps: a file or decompressing stream read to its end within the size and
ratio caps of :class:`~logdoctor.ingest.inputs.Limits` (a truncated stream keeps what could be
read, :class:`~logdoctor.ingest.inputs.PartialRead`), gzip / bzip2 / xz recognized by magic
bytes, and regular files opened without ever blocking on a FIFO or device."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from logdoctor.ingest.inputs import Limits, PartialRead, SourceError

__all__ = ["head_and_size", "open_regular", "read_whole"]

_CHUNK = 1 << 20
_HEAD = 1 << 16


_STREAM_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    tarfile.TarError,
)
"""What a decompressing or archive-member stream raises on corrupt or truncated data."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, tarfile.TarError):
        return f"truncated or corrupt archive ({exc})"
    return f"corrupt or truncated compressed data ({exc})"


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def _bounded(
    stream: _Readable,
    label: str,
    limits: Limits,
    packed: int | Callable[[], int] | None,
) -> bytes:
    """Read a decompressing stream to its end under the size and ratio caps.

    ``packed`` is the compressed size the output is measured against (a callable: the bytes
    consumed so far, for a member of a compressed stream). Reading stops at the first corrupt
    or truncated byte: what came before is salvaged in a :class:`PartialRead`.
    """
    buf = bytearray()
    read = getattr(stream, "read1", stream.read)
    while True:
        try:
            chunk = read(_CHUNK)
        except _STREAM_ERRORS as exc:
            if buf:
                raise PartialRead(
                    f"{label}: partly read, {_reason(exc)} after {len(buf):,} bytes",
                    bytes(buf),
                ) from None
            raise SourceError(f"{label}: {_reason(exc)}") from None
        if not chunk:
            break
        buf += chunk
        if len(buf) > limits.max_file_bytes:
            raise SourceError(
                f"{label}: refused, expands beyond {limits.max_file_bytes} bytes "
                "(decompression bomb?)"
            )
        if len(buf) <= limits.ratio_floor or packed is None:
            continue
        size = packed() if callable(packed) else packed
        if len(buf) > max(size, 1) * limits.max_ratio:
            raise SourceError(
                f"{label}: refused, expands more than {limits.max_ratio}:1 (decompression bomb?)"
            )
    return bytes(buf)


def _compression(head: bytes) -> str | None:
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh":
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return None


def _decompressor(kind: str, fileobj: Any) -> io.BufferedIOBase:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=fileobj, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(fileobj)
    return lzma.LZMAFile(fileobj)


def _decompress(data: bytes, label: str, limits: Limits) -> bytes:
    """Undo gzip / bzip2 / xz compression recognized by magic bytes (bounded; a truncated
    stream gives a :class:`PartialRead` with what could be read)."""
    kind = _compression(data[:6])
    if kind is None:
        return data
    with _decompressor(kind, io.BytesIO(data)) as stream:
        return _bounded(stream, label, limits, len(data))


def _peek(data: bytes) -> bytes:
    """The first 64 KiB of ``data``, decompressed if it is compressed (b"" if that fails)."""
    kind = _compression(data[:6])
    if kind is None:
        return data[:_HEAD]
    try:
        with _decompressor(kind, io.BytesIO(data)) as stream:
            return stream.read(_HEAD)
    except _STREAM_ERRORS:
        return b""


_KINDS = {
    stat.S_IFIFO: "named pipe",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFDIR: "folder",
}


def _not_regular(mode: int) -> str:
    return f"not a regular file ({_KINDS.get(stat.S_IFMT(mode), 'special file')})"


def open_regular(path: Path) -> io.BufferedReader:
    """Open a regular file for reading; a FIFO, device, socket or folder is refused without
    blocking or reading (:class:`SourceError` naming it), so nothing can hang or read forever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise SourceError(f"{path}: is a folder") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SourceError(f"{path}: {_not_regular(mode)}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def head_and_size(fh: io.BufferedReader, n: int) -> tuple[bytes, int]:
    """The first ``n`` bytes of an open regular file (rewound after) and its size."""
    head = fh.read(n)
    fh.seek(0)
    return head, os.fstat(fh.fileno()).st_size


def read_whole(fh: io.BufferedReader, label: str, limits: Limits, size: int) -> bytes:
    """An open file of ``size`` bytes read whole; over the file cap: :class:`SourceError`."""
    if size > limits.max_file_bytes:
        raise SourceError(f"{label}: refused, larger than {limits.max_file_bytes} bytes")
    return fh.read(limits.max_file_bytes + 1)


def _read_file(path: Path, limits: Limits) -> bytes:
    """A regular file's content, decompressed if it is gzip / bzip2 / xz (bounded)."""
    label = str(path)
    try:
        with open_regular(path) as fh:
            head, size = head_and_size(fh, 6)
            kind = _compression(head)
            if kind is not None:
                with _decompressor(kind, fh) as stream:
                    return _bounded(stream, label, limits, size)
            return read_whole(fh, label, limits, size)
    except SourceError:
        raise
    except OSError as exc:
        raise SourceError(f"{label}: cannot read ({exc.strerror or exc})") from None
