"""Inputs: files, folders, globs, gzip files and archives, turned into a list of log files.

Archives (zip, tar, tar.gz/.bz2/.xz) are read in memory, never extracted to disk: a zip member
by member (each member has its own reader), a tar as one stream, once, each wanted member
decompressed into its own bytes as the stream passes it. Members with absolute paths or ``..``
components, links, devices, and members that expand beyond the size or ratio caps are refused
with an error naming the member; the other members are still read. Every decompression layer
(a .gz file, a zip member, a tar stream and each of its members, an archive in an archive) has
the caps of :class:`Limits`. A truncated compressed file keeps what could be read
(:class:`PartialRead`). FIFOs, sockets and devices are never opened. Each log file gets a node
name from the bundle layout (the folder that holds ``platform/`` or ``tomcat/`` in an RTMT
collection, :func:`logdoctor.ingest.nodes.node_from_path`), unless ``--node`` overrides it.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import io
import lzma
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol, cast

from logdoctor.ingest.nodes import archive_stem, default_node, node_from_path
from logdoctor.ucm.prt import prt_identity

__all__ = [
    "Ignored",
    "InputError",
    "Limits",
    "LogFile",
    "PartialRead",
    "SourceError",
    "discover",
    "node_from_path",
    "open_regular",
    "to_utf8",
    "wide_encoding",
]

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_TEXT_SUFFIXES = (".log", ".txt", ".out")
_CHUNK = 1 << 20
_HEAD = 1 << 16
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


class SourceError(Exception):
    """An input that cannot be read; the message is one line naming the file or member."""


class PartialRead(SourceError):
    """Only the first part of an input could be read (a truncated or corrupt compressed stream);
    ``data`` holds that part, the message says where reading stopped."""

    def __init__(self, message: str, data: bytes) -> None:
        super().__init__(message)
        self.data = data


@dataclass(frozen=True)
class Limits:
    """Caps against decompression bombs and runaway inputs."""

    max_file_bytes: int = 2 << 30
    """Largest decompressed size of one file or member."""
    max_total_bytes: int = 16 << 30
    """Largest decompressed size of everything read from one archive (a tar stream counts the
    members it skips too)."""
    max_ratio: int = 200
    """Largest expansion ratio, checked once a file or member passes ``ratio_floor`` bytes; a
    compressed tar may not expand more than this as a whole either (once past the floor)."""
    ratio_floor: int = 64 << 20
    max_depth: int = 3
    """How deep archives may nest (a zip holding a tar.gz holding .gz files is depth 3)."""


@dataclass(frozen=True)
class LogFile:
    """One log file to parse: where it came from, its node, and how to get its bytes."""

    display: str
    """Path as shown to users; archive members as ``archive.zip!member/path``."""
    name: str
    """Base name without a compression suffix (used for family detection)."""
    relpath: str
    """Path inside the bundle (used for detection hints and node naming)."""
    node: str
    read: Callable[[], bytes] = field(repr=False, compare=False)
    """The file's content (decompressed); raises SourceError, or PartialRead with what could
    be read."""
    explicit: bool = False
    """Named on the command line (always parsed) rather than found in a folder or archive."""
    local: Path | None = None
    """The file on disk when it is a plain (uncompressed) file: the engine can read it itself."""
    packed: Path | None = None
    """The file on disk when it is compressed (gzip, bzip2, xz): the engine parses it as it is
    decompressed (:class:`logdoctor.ingest.inflate.Inflated`)."""


def text(s: str) -> str:
    """A path as valid text: bytes that were not UTF-8 in a file name (kept by Python as lone
    surrogates) become U+FFFD, so no output or engine chokes on them (a backslash escape would
    read as a Windows path separator)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return s


@dataclass(frozen=True)
class InputError:
    """An input that could not be read, or only partly (a folder that cannot be listed, a
    truncated compressed file, a refused member...)."""

    path: str
    message: str
    partial: bool = False
    """Only partly read: what could be read was parsed (``message`` says where it stopped)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", text(self.path))
        object.__setattr__(self, "message", text(self.message))

    @property
    def line(self) -> str:
        """``path: not read: why`` or, when partly read, ``path: partly read, where ...``."""
        return (
            f"{self.path}: {self.message}"
            if self.partial
            else f"{self.path}: not read: {self.message}"
        )


@dataclass(frozen=True)
class Ignored:
    """A file seen in a folder, archive or glob that is not read: not one of the log families,
    a symbolic link, or not a regular file (FIFO, socket, device)."""

    path: str
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", text(self.path))


def _strip_compression(name: str) -> str:
    low = name.lower()
    for suf in (".gz", ".bz2", ".xz"):
        if low.endswith(suf):
            return name[: -len(suf)]
    return name


def _is_archive_name(name: str) -> bool:
    low = name.lower()
    return low.endswith(_ARCHIVE_SUFFIXES)


# -- encodings -----------------------------------------------------------------------------------

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
UTF8_BOM = b"\xef\xbb\xbf"


def wide_encoding(head: bytes) -> str | None:
    """The codec of a UTF-16 or UTF-32 text that starts with its byte order mark, else None."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    return None


def to_utf8(data: bytes) -> tuple[bytes, int]:
    """A log's content as UTF-8: UTF-16/32 with a byte order mark is decoded (a code unit that
    does not decode becomes U+FFFD and is counted), a UTF-8 byte order mark dropped.

    Returns the bytes and how many code units did not decode; other content is returned as is.
    """
    codec = wide_encoding(data)
    if codec is None:
        return data.removeprefix(UTF8_BOM), 0
    bom = next(b for b, c in _BOMS if c == codec)
    body = data[len(bom) :]
    try:
        return body.decode(codec).encode("utf-8"), 0
    except UnicodeDecodeError:
        out = body.decode(codec, errors="replace")
        legit = body.count("\ufffd".encode(codec))
        return out.encode("utf-8"), max(out.count("\ufffd") - legit, 0)


# -- reading under caps --------------------------------------------------------------------------

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


def _read_file(path: Path, limits: Limits) -> bytes:
    """A regular file's content, decompressed if it is gzip / bzip2 / xz (bounded)."""
    label = str(path)
    try:
        with open_regular(path) as fh:
            head = fh.read(6)
            fh.seek(0)
            size = os.fstat(fh.fileno()).st_size
            kind = _compression(head)
            if kind is not None:
                with _decompressor(kind, fh) as stream:
                    return _bounded(stream, label, limits, size)
            if size > limits.max_file_bytes:
                raise SourceError(f"{label}: refused, larger than {limits.max_file_bytes} bytes")
            return fh.read(limits.max_file_bytes + 1)
    except SourceError:
        raise
    except OSError as exc:
        raise SourceError(f"{label}: cannot read ({exc.strerror or exc})") from None


def _safe_member(name: str) -> str | None:
    """The member's normalized relative path, or None if it is absolute or climbs out."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        return None
    norm = posixpath.normpath(clean)
    if norm == ".." or norm.startswith("../") or "/../" in f"/{clean}/":
        return None
    return norm


class _Counted:
    """A binary stream that counts the bytes read through it (the compressed side)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True


class _Budget(Exception):
    """An archive expanded beyond what it may decompress to as a whole."""


class _Forward:
    """A decompressed stream as tarfile needs it: ``tell`` and forward-only ``seek`` (skipping
    is reading), with every byte that comes out counted against the archive's budget.

    When the stream breaks (truncated or corrupt), the bytes decompressed before the break are
    returned first; the error is raised by the next read, and kept in ``error``.
    """

    def __init__(self, raw: Any, budget: int) -> None:
        self.raw = raw
        self._read = getattr(raw, "read1", raw.read)
        self.budget = budget
        self.pos = 0
        self.error: BaseException | None = None

    def read(self, n: int = -1) -> bytes:
        if self.error is not None:
            raise self.error
        if n is None or n < 0:
            n = self.budget + 1 - self.pos
        parts: list[bytes] = []
        got = 0
        while got < n:
            try:
                chunk = self._read(min(n - got, _CHUNK))
            except _STREAM_ERRORS as exc:
                self.error = exc
                if not parts:
                    raise
                break
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
            self.pos += len(chunk)
            if self.pos > self.budget:
                raise _Budget
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence != 0 or pos < self.pos:
            raise io.UnsupportedOperation("a compressed archive is read forward only")
        while self.pos < pos:
            if not self.read(min(_CHUNK, pos - self.pos)):
                break
        return self.pos


class _Member:
    """The data of the tar member the stream is at: ``size`` bytes from the current position
    (a short stream is an error, raised after the bytes that came)."""

    def __init__(self, fwd: _Forward, size: int) -> None:
        self.fwd = fwd
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        if n <= 0:
            return b""
        data = self.fwd.read(n)
        if not data:
            raise tarfile.ReadError("the archive ends inside this member")
        self.left -= len(data)
        return data


# -- the walk ------------------------------------------------------------------------------------


@dataclass
class _Walk:
    formats_match: Callable[[str, str], bool]
    sniff: Callable[[bytes], bool]
    limits: Limits
    node: str | None
    files: list[LogFile] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)

    def add(
        self,
        display: str,
        rel: str,
        default_node: str,
        read: Callable[[], bytes],
        *,
        explicit: bool = False,
        local: Path | None = None,
        packed: Path | None = None,
    ) -> None:
        display, rel, default_node = text(display), text(rel), text(default_node)
        name = _strip_compression(PurePosixPath(rel.replace("\\", "/")).name)
        prt = prt_identity(display)  # a Jabber PRT's client, however the input was named
        node = self.node or (
            prt[1] if prt else node_from_path(rel, default_node, anchors_only=explicit)
        )
        self.files.append(LogFile(display, name, rel, node, read, explicit, local, packed))

    def _error(self, path: str, exc: SourceError) -> None:
        self.errors.append(InputError(path, str(exc).removeprefix(f"{path}: ")))

    def _sniff(self, head: bytes) -> bool:
        return self.sniff(to_utf8(head)[0])

    # -- archives ------------------------------------------------------------------------------
    def archive(
        self, data: bytes, label: str, rel_prefix: str, default_node: str, depth: int
    ) -> None:
        """An archive held in memory (a member of another archive)."""
        if depth > self.limits.max_depth:
            self.errors.append(InputError(label, "refused, archives nested too deep"))
            return
        if data[:4] in _ZIP_MAGIC or label.lower().endswith(".zip"):
            self._zip(data, label, rel_prefix, default_node, depth)
            return
        self._tar(io.BytesIO(data), len(data), label, rel_prefix, default_node, depth)

    def archive_file(self, p: Path, rel_prefix: str, default_node: str) -> None:
        """An archive on disk: a zip is read whole (bounded), a tar is streamed member by member."""
        label = str(p)
        try:
            with open_regular(p) as fh:
                head = fh.read(4)
                fh.seek(0)
                size = os.fstat(fh.fileno()).st_size
                if head in _ZIP_MAGIC or p.name.lower().endswith(".zip"):
                    if size > self.limits.max_file_bytes:
                        raise SourceError(
                            f"{label}: refused, larger than {self.limits.max_file_bytes} bytes"
                        )
                    data = fh.read(self.limits.max_file_bytes + 1)
                else:
                    self._tar(fh, size, label, rel_prefix, default_node, 1)
                    return
        except SourceError as exc:
            self._error(label, exc)
            return
        except OSError as exc:
            self.errors.append(InputError(label, f"cannot read ({exc.strerror or exc})"))
            return
        self._zip(data, label, rel_prefix, default_node, 1)

    def _member(
        self,
        label: str,
        member: str,
        rel_prefix: str,
        default_node: str,
        data_fn: Callable[[], bytes],
        depth: int,
        *,
        eager: bool,
    ) -> None:
        """One archive member: a nested archive, a log (``eager``: its bytes are taken now,
        for a member of a stream that moves on), or an ignored file."""
        safe = _safe_member(member)
        mlabel = f"{label}!{member}"
        if safe is None:
            self.errors.append(
                InputError(mlabel, "refused, member path is absolute or leaves the archive")
            )
            return
        rel = posixpath.join(rel_prefix, safe) if rel_prefix else safe
        base = PurePosixPath(safe).name
        if _is_archive_name(base):
            try:
                inner = data_fn()
            except SourceError as exc:
                self._error(mlabel, exc)
                return
            self.archive(inner, mlabel, posixpath.dirname(rel), default_node, depth + 1)
            return
        stripped = _strip_compression(base)
        wanted = self.formats_match(stripped, rel)
        if not wanted and stripped.lower().endswith(_TEXT_SUFFIXES):
            try:
                head = _peek(data_fn())
            except PartialRead as exc:
                head = _peek(exc.data)
            except SourceError:
                head = b""
            wanted = self._sniff(head)
        if not wanted:
            self.ignored.append(Ignored(mlabel, "not a log of a family logdoctor reads"))
            return
        limits = self.limits
        if not eager:

            def read() -> bytes:
                return _decompress(data_fn(), mlabel, limits)

            self.add(mlabel, rel, default_node, read)
            return
        note: PartialRead | None = None
        try:
            payload = data_fn()
        except PartialRead as exc:
            payload, note = exc.data, exc
        except SourceError as exc:
            self._error(mlabel, exc)
            return

        def read_kept() -> bytes:
            out = _decompress(payload, mlabel, limits)
            if note is not None:
                raise PartialRead(str(note), out)
            return out

        self.add(mlabel, rel, default_node, read_kept)

    def _zip(self, data: bytes, label: str, rel_prefix: str, default_node: str, depth: int) -> None:
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = zf.infolist()
        except zipfile.BadZipFile as exc:
            if data[:4] not in _ZIP_MAGIC:
                reason = "not a zip archive (it does not start with a zip signature)"
            elif "not a zip file" in str(exc).lower():
                reason = "truncated or corrupt zip (no central directory)"
            else:
                reason = f"corrupt zip ({exc})"
            self.errors.append(InputError(label, reason))
            return
        except (OSError, ValueError, EOFError) as exc:
            self.errors.append(InputError(label, f"corrupt zip ({exc})"))
            return
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            mode = (info.external_attr >> 16) & 0o170000
            if mode and not stat.S_ISREG(mode):
                self.errors.append(
                    InputError(f"{label}!{info.filename}", "refused, member is a link or device")
                )
                continue
            total += info.file_size
            if info.file_size > self.limits.max_file_bytes or total > self.limits.max_total_bytes:
                self.errors.append(
                    InputError(
                        f"{label}!{info.filename}",
                        "refused, declared size exceeds the cap (decompression bomb?)",
                    )
                )
                continue
            if (
                info.file_size > self.limits.ratio_floor
                and info.file_size > max(info.compress_size, 1) * self.limits.max_ratio
            ):
                self.errors.append(
                    InputError(
                        f"{label}!{info.filename}",
                        f"refused, expands more than {self.limits.max_ratio}:1 "
                        "(decompression bomb?)",
                    )
                )
                continue

            # ZipFile serializes its members' reads (a lock around seek + read), so each
            # member's reader may run on its own thread.
            def data_fn(info: zipfile.ZipInfo = info, zf: zipfile.ZipFile = zf) -> bytes:
                mlabel = f"{label}!{info.filename}"
                try:
                    with zf.open(info) as fh:
                        return _bounded(fh, mlabel, self.limits, info.compress_size)
                except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                    raise SourceError(f"{mlabel}: cannot read member ({exc})") from None

            self._member(
                label, info.filename, rel_prefix, default_node, data_fn, depth, eager=False
            )

    def _tar(
        self,
        src: IO[bytes],
        packed_size: int,
        label: str,
        rel_prefix: str,
        default_node: str,
        depth: int,
    ) -> None:
        """Stream a tar (plain, gzip, bzip2 or xz) once, member by member.

        Each wanted member is decompressed into its own bytes as the stream passes it, so no
        two files share a reader. Caps: a member's declared size, its own expansion ratio
        (measured on the compressed bytes its data consumed), and the archive's whole output
        (``max_total_bytes``, and ``max_ratio`` times its compressed size): a refused member is
        skipped and the next ones are read while the archive's budget lasts.
        """
        lim = self.limits
        head = src.read(6)
        src.seek(0)
        kind = _compression(head)
        counted = _Counted(src)
        raw: Any = counted if kind is None else _decompressor(kind, counted)
        budget = lim.max_total_bytes
        if kind is not None:
            budget = min(budget, max(lim.ratio_floor, packed_size * lim.max_ratio))
        fwd = _Forward(raw, budget)
        try:
            tar = tarfile.open(fileobj=cast(Any, fwd), mode="r:")  # noqa: SIM115
        except _Budget:
            self.errors.append(InputError(label, "refused, expands beyond its caps"))
            return
        except tarfile.ReadError as exc:
            if kind is None:
                self.errors.append(InputError(label, f"not a tar archive ({exc or 'empty'})"))
            else:
                self.errors.append(InputError(label, f"not a compressed tar archive ({exc})"))
            return
        except _STREAM_ERRORS as exc:
            self.errors.append(InputError(label, _reason(exc)))
            return
        current: str | None = None  # the member being read or skipped
        try:
            for m in tar:
                current = m.name
                self._tar_member(tar, fwd, m, counted, label, rel_prefix, default_node, depth)
            if fwd.error is not None:  # tarfile takes a header cut short for the end
                raise fwd.error
        except _Budget:
            cap = (
                f"{lim.max_total_bytes} bytes"
                if budget == lim.max_total_bytes
                else f"{lim.max_ratio}:1 of its size"
            )
            where = f"from member {current} on" if current else "whole"
            self.errors.append(
                InputError(
                    label,
                    f"refused {where}: the archive expands beyond {cap} (decompression bomb?)",
                )
            )
        except _STREAM_ERRORS as exc:
            where = f"in or after member {current}" if current else "at its start"
            why = exc if isinstance(exc, tarfile.TarError) else _reason(exc)
            self.errors.append(InputError(label, f"truncated or corrupt archive {where} ({why})"))

    def _tar_member(
        self,
        tar: tarfile.TarFile,
        fwd: _Forward,
        m: tarfile.TarInfo,
        counted: _Counted,
        label: str,
        rel_prefix: str,
        default_node: str,
        depth: int,
    ) -> None:
        mlabel = f"{label}!{m.name}"
        if m.isdir():
            return
        if not m.isfile():
            self.errors.append(InputError(mlabel, "refused, member is a link or device"))
            return
        if m.size > self.limits.max_file_bytes:
            self.errors.append(
                InputError(mlabel, "refused, size exceeds the cap (decompression bomb?)")
            )
            return
        start = counted.count
        taken: list[bytes | SourceError] = []  # the stream passes once: keep what it gave

        def packed() -> int:
            return counted.count - start

        def data_fn() -> bytes:
            if not taken:
                try:
                    if m.sparse is None:  # read straight from the stream: salvage is exact
                        fwd.seek(m.offset_data)
                        data = _bounded(_Member(fwd, m.size), mlabel, self.limits, packed)
                    else:
                        fh = tar.extractfile(m)
                        if fh is None:
                            raise SourceError(f"{mlabel}: cannot read member")
                        with fh:
                            data = _bounded(fh, mlabel, self.limits, packed)
                    taken.append(data)
                except SourceError as exc:
                    taken.append(exc)
            if isinstance(taken[0], SourceError):
                raise taken[0]
            return taken[0]

        self._member(label, m.name, rel_prefix, default_node, data_fn, depth, eager=True)

    # -- the file system -----------------------------------------------------------------------
    def _reader(self, p: Path) -> Callable[[], bytes]:
        limits = self.limits

        def read() -> bytes:
            return _read_file(p, limits)

        return read

    def path(self, p: Path, *, globbed: bool) -> None:
        """An input named on the command line (or a glob's match)."""
        try:
            mode = p.stat().st_mode
        except OSError as exc:
            if p.is_symlink():
                self.errors.append(InputError(str(p), "broken symbolic link"))
            elif isinstance(exc, FileNotFoundError):
                self.errors.append(InputError(str(p), "no such file or folder"))
            else:
                self.errors.append(InputError(str(p), f"cannot read ({exc.strerror or exc})"))
            return
        if stat.S_ISDIR(mode):
            self.folder(p)
            return
        if not stat.S_ISREG(mode):
            # Never opened: a FIFO would block, a device would read forever.
            if globbed:
                self.ignored.append(Ignored(str(p), _not_regular(mode)))
            else:
                self.errors.append(InputError(str(p), _not_regular(mode)))
            return
        if _is_archive_name(p.name) or _looks_like_zip(p):
            self.archive_file(p, "", default_node(archive_stem(p.name)))
            return
        absparts = p.resolve().as_posix()
        local, packed = _on_disk(p)
        self.add(
            str(p), absparts, "unknown", self._reader(p), explicit=True, local=local, packed=packed
        )

    def folder(self, root: Path) -> None:
        """Every file under ``root`` (sorted, depth first); links and special files are listed as
        ignored and never followed or opened; a folder that cannot be listed is an error."""
        default = default_node(str(root.resolve()))
        stack = [root]
        while stack:
            d = stack.pop()
            try:
                with os.scandir(d) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.errors.append(
                    InputError(str(d), f"cannot read folder ({exc.strerror or exc})")
                )
                continue
            subdirs = []
            for entry in entries:
                fp = Path(entry.path)
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError as exc:
                    self.errors.append(InputError(str(fp), f"cannot read ({exc.strerror or exc})"))
                    continue
                if stat.S_ISLNK(mode):
                    self.ignored.append(Ignored(str(fp), "symbolic link (not followed)"))
                elif stat.S_ISDIR(mode):
                    subdirs.append(fp)
                elif not stat.S_ISREG(mode):
                    self.ignored.append(Ignored(str(fp), _not_regular(mode)))
                else:
                    self._folder_file(root, fp, default)
            stack.extend(reversed(subdirs))

    def _folder_file(self, root: Path, fp: Path, folder_node: str) -> None:
        rel = fp.relative_to(root).as_posix()
        if _is_archive_name(fp.name):
            self.archive_file(fp, posixpath.dirname(rel), default_node(archive_stem(fp.name)))
            return
        stripped = _strip_compression(fp.name)
        wanted = self.formats_match(stripped, rel)
        if not wanted and stripped.lower().endswith(_TEXT_SUFFIXES):
            wanted = self._sniff(_head(fp))
        if not wanted:
            self.ignored.append(Ignored(str(fp), "not a log of a family logdoctor reads"))
            return
        local, packed = _on_disk(fp)
        self.add(str(fp), rel, folder_node, self._reader(fp), local=local, packed=packed)


def _on_disk(p: Path) -> tuple[Path | None, Path | None]:
    """``(p, None)`` if it is a regular, uncompressed file (the engine may read it directly),
    ``(None, p)`` if it is a compressed one (the engine parses it as it is decompressed)."""
    try:
        with open_regular(p) as fh:
            head = fh.read(6)
    except (SourceError, OSError):
        return None, None
    return (None, p) if _compression(head) else (p, None)


def _looks_like_zip(p: Path) -> bool:
    try:
        with open_regular(p) as fh:
            head = fh.read(4)
    except (SourceError, OSError):
        return False
    return head in _ZIP_MAGIC


def _head(p: Path) -> bytes:
    """The first 64 KiB of a file's content (decompressed), b"" if it cannot be read."""
    try:
        with open_regular(p) as fh:
            return _peek(fh.read(_HEAD))
    except (SourceError, OSError):
        return b""


def expand_globs(paths: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Yield each path; a pattern that names no existing path is expanded with glob."""
    for raw, _globbed in _expand(paths):
        yield raw, True


def _expand(paths: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Each path, and whether it came from a glob pattern."""
    for raw in paths:
        if not os.path.exists(raw) and any(ch in raw for ch in "*?["):
            hits = sorted(glob.glob(raw, recursive=True))
            if not hits:
                yield raw, False
            for h in hits:
                yield h, True
        else:
            yield raw, False


def discover(
    paths: Sequence[str],
    *,
    formats_match: Callable[[str, str], bool],
    sniff: Callable[[bytes], bool],
    node: str | None = None,
    limits: Limits | None = None,
) -> tuple[list[LogFile], list[InputError], list[Ignored]]:
    """Every log file under ``paths``, plus the inputs that failed and the files skipped.

    ``formats_match(name, relpath)`` says whether a file name belongs to a known family;
    ``sniff(head_bytes)`` whether unnamed content looks like one. A FIFO, socket or device
    is never opened: found in a folder or by a glob it is listed as ignored, named on the
    command line it is an error. A folder that cannot be listed is an error.
    """
    walk = _Walk(formats_match=formats_match, sniff=sniff, limits=limits or Limits(), node=node)
    for raw, globbed in _expand(paths):
        walk.path(Path(raw), globbed=globbed)
    return walk.files, walk.errors, walk.ignored
