"""Inputs: files, folders, globs, gzip files and archives, turned into a list of log files.

Archives (zip, tar, tar.gz/.bz2/.xz) are read in memory, member by member, never extracted to
disk. Members with absolute paths or ``..`` components, links, devices, and members that
expand beyond the size or ratio caps are refused with an error naming the member; the other
members are still read. Each log file gets a node name from the bundle layout (the folder that
holds ``platform/`` or ``tomcat/`` in an RTMT collection, :func:`logdoctor.nodes.node_from_path`),
unless ``--node`` overrides it.
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
from typing import IO

from logdoctor.nodes import archive_stem, default_node, node_from_path

__all__ = [
    "Ignored",
    "InputError",
    "Limits",
    "LogFile",
    "SourceError",
    "discover",
    "node_from_path",
]

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_TEXT_SUFFIXES = (".log", ".txt", ".out")
_CHUNK = 1 << 20


class SourceError(Exception):
    """An input that cannot be read; the message is one line naming the file or member."""


@dataclass(frozen=True)
class Limits:
    """Caps against decompression bombs and runaway inputs."""

    max_file_bytes: int = 2 << 30
    """Largest decompressed size of one file or member."""
    max_total_bytes: int = 16 << 30
    """Largest decompressed size of everything read from one archive."""
    max_ratio: int = 200
    """Largest expansion ratio, checked once a member passes ``ratio_floor`` bytes."""
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
    explicit: bool = False
    """Named on the command line (always parsed) rather than found in a folder or archive."""
    local: Path | None = None
    """The file on disk when it is a plain (uncompressed) file: the engine can read it itself."""


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
    """An input that could not be read at all."""

    path: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", text(self.path))
        object.__setattr__(self, "message", text(self.message))


@dataclass(frozen=True)
class Ignored:
    """A file seen in a folder or archive that is not one of the log families."""

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


def _bounded(
    stream: IO[bytes] | io.BufferedIOBase,
    label: str,
    compressed: int | None,
    limits: Limits,
) -> bytes:
    """Read a decompressing stream to its end under the size and ratio caps."""
    buf = bytearray()
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise SourceError(f"{label}: corrupt or truncated compressed data ({exc})") from None
        if not chunk:
            break
        buf += chunk
        if len(buf) > limits.max_file_bytes:
            raise SourceError(
                f"{label}: refused, expands beyond {limits.max_file_bytes} bytes "
                "(decompression bomb?)"
            )
        if (
            compressed
            and len(buf) > limits.ratio_floor
            and len(buf) > compressed * limits.max_ratio
        ):
            raise SourceError(
                f"{label}: refused, expands more than {limits.max_ratio}:1 (decompression bomb?)"
            )
    return bytes(buf)


def _decompress(data: bytes, label: str, limits: Limits) -> bytes:
    """Undo gzip / bzip2 / xz compression recognized by magic bytes (bounded)."""
    if data[:2] == b"\x1f\x8b":
        return _bounded(gzip.GzipFile(fileobj=io.BytesIO(data)), label, len(data), limits)
    if data[:3] == b"BZh":
        return _bounded(bz2.BZ2File(io.BytesIO(data)), label, len(data), limits)
    if data[:6] == b"\xfd7zXZ\x00":
        return _bounded(lzma.LZMAFile(io.BytesIO(data)), label, len(data), limits)
    return data


def _read_file(path: Path, limits: Limits) -> bytes:
    label = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(6)
            fh.seek(0)
            if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
                compressed = path.stat().st_size
                stream: io.BufferedIOBase
                if head[:2] == b"\x1f\x8b":
                    stream = gzip.GzipFile(fileobj=fh)
                elif head[:3] == b"BZh":
                    stream = bz2.BZ2File(fh)
                else:
                    stream = lzma.LZMAFile(fh)  # noqa: SIM115
                with stream:
                    return _bounded(stream, label, compressed, limits)
            size = path.stat().st_size
            if size > limits.max_file_bytes:
                raise SourceError(f"{label}: refused, larger than {limits.max_file_bytes} bytes")
            return fh.read()
    except SourceError:
        raise
    except IsADirectoryError:
        raise SourceError(f"{label}: is a folder") from None
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
    ) -> None:
        display, rel, default_node = text(display), text(rel), text(default_node)
        name = _strip_compression(PurePosixPath(rel.replace("\\", "/")).name)
        node = self.node or node_from_path(rel, default_node, anchors_only=explicit)
        self.files.append(LogFile(display, name, rel, node, read, explicit, local))

    # -- archives ------------------------------------------------------------------------------
    def archive(
        self, data: bytes, label: str, rel_prefix: str, default_node: str, depth: int
    ) -> None:
        if depth > self.limits.max_depth:
            self.errors.append(InputError(label, "refused, archives nested too deep"))
            return
        if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
            self._zip(data, label, rel_prefix, default_node, depth)
            return
        try:
            tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            self.errors.append(InputError(label, f"not a readable archive ({exc})"))
            return
        self._tar(tar, label, rel_prefix, default_node, depth)

    def _member(
        self,
        label: str,
        member: str,
        rel_prefix: str,
        default_node: str,
        data_fn: Callable[[], bytes],
        compressed: int | None,
        depth: int,
    ) -> None:
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
                self.errors.append(InputError(mlabel, str(exc).split(": ", 1)[-1]))
                return
            self.archive(inner, mlabel, posixpath.dirname(rel), default_node, depth + 1)
            return
        stripped = _strip_compression(base)
        wanted = self.formats_match(stripped, rel)
        if not wanted and stripped.lower().endswith(_TEXT_SUFFIXES):
            try:
                head = _decompress(data_fn()[: 1 << 16], mlabel, self.limits)[: 1 << 16]
            except SourceError:
                head = b""
            wanted = self.sniff(head)
        if not wanted:
            self.ignored.append(Ignored(mlabel, "not a ssoApp, ssosp or certMgmt log"))
            return

        def read() -> bytes:
            return _decompress(data_fn(), mlabel, self.limits)

        self.add(mlabel, rel, default_node, read)

    def _zip(self, data: bytes, label: str, rel_prefix: str, default_node: str, depth: int) -> None:
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            self.errors.append(InputError(label, f"not a readable zip archive ({exc})"))
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

            def data_fn(info: zipfile.ZipInfo = info, zf: zipfile.ZipFile = zf) -> bytes:
                mlabel = f"{label}!{info.filename}"
                try:
                    with zf.open(info) as fh:
                        return _bounded(fh, mlabel, info.compress_size, self.limits)
                except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
                    raise SourceError(f"{mlabel}: cannot read member ({exc})") from None

            self._member(
                label, info.filename, rel_prefix, default_node, data_fn, info.compress_size, depth
            )

    def _tar(
        self, tar: tarfile.TarFile, label: str, rel_prefix: str, default_node: str, depth: int
    ) -> None:
        total = 0
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            self.errors.append(InputError(label, f"not a readable archive ({exc})"))
            return
        for m in members:
            if m.isdir():
                continue
            if not m.isfile():
                self.errors.append(
                    InputError(f"{label}!{m.name}", "refused, member is a link or device")
                )
                continue
            total += m.size
            if m.size > self.limits.max_file_bytes or total > self.limits.max_total_bytes:
                self.errors.append(InputError(f"{label}!{m.name}", "refused, size exceeds the cap"))
                continue

            def data_fn(m: tarfile.TarInfo = m, tar: tarfile.TarFile = tar) -> bytes:
                mlabel = f"{label}!{m.name}"
                try:
                    fh = tar.extractfile(m)
                    if fh is None:
                        raise SourceError(f"{mlabel}: cannot read member")
                    return _bounded(fh, mlabel, None, self.limits)
                except (tarfile.TarError, OSError) as exc:
                    raise SourceError(f"{mlabel}: cannot read member ({exc})") from None

            self._member(label, m.name, rel_prefix, default_node, data_fn, None, depth)

    # -- the file system -----------------------------------------------------------------------
    def _reader(self, p: Path) -> Callable[[], bytes]:
        limits = self.limits

        def read() -> bytes:
            return _read_file(p, limits)

        return read

    def path(self, p: Path, explicit: bool) -> None:
        if p.is_symlink() and not p.exists():
            self.errors.append(InputError(str(p), "broken symbolic link"))
            return
        if p.is_dir():
            self.folder(p)
            return
        if not p.exists():
            self.errors.append(InputError(str(p), "no such file or folder"))
            return
        if _is_archive_name(p.name) or _looks_like_archive(p):
            try:
                data = _read_file(p, self.limits)
            except SourceError as exc:
                self.errors.append(InputError(str(p), str(exc).split(": ", 1)[-1]))
                return
            self.archive(data, str(p), "", default_node(archive_stem(p.name)), 1)
            return
        absparts = p.resolve().as_posix()
        self.add(str(p), absparts, "unknown", self._reader(p), explicit=explicit, local=_plain(p))

    def folder(self, root: Path) -> None:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            for fname in sorted(filenames):
                fp = Path(dirpath) / fname
                rel = fp.relative_to(root).as_posix()
                if fp.is_symlink():
                    self.ignored.append(Ignored(str(fp), "symbolic link (not followed)"))
                    continue
                if _is_archive_name(fname):
                    try:
                        data = _read_file(fp, self.limits)
                    except SourceError as exc:
                        self.errors.append(InputError(str(fp), str(exc).split(": ", 1)[-1]))
                        continue
                    rel_dir = posixpath.dirname(rel)
                    self.archive(data, str(fp), rel_dir, default_node(archive_stem(fname)), 1)
                    continue
                stripped = _strip_compression(fname)
                wanted = self.formats_match(stripped, rel)
                if not wanted and stripped.lower().endswith(_TEXT_SUFFIXES):
                    wanted = self.sniff(_head(fp, self.limits))
                if not wanted:
                    self.ignored.append(Ignored(str(fp), "not a ssoApp, ssosp or certMgmt log"))
                    continue
                self.add(
                    str(fp),
                    rel,
                    default_node(str(root.resolve())),
                    self._reader(fp),
                    local=_plain(fp),
                )


def _plain(p: Path) -> Path | None:
    """``p`` if it is a regular, uncompressed file (the engine may read it directly)."""
    try:
        if not p.is_file():
            return None
        with p.open("rb") as fh:
            head = fh.read(6)
    except OSError:
        return None
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        return None
    return p


def _looks_like_archive(p: Path) -> bool:
    try:
        with p.open("rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head in (b"PK\x03\x04", b"PK\x05\x06")


def _head(p: Path, limits: Limits) -> bytes:
    try:
        with p.open("rb") as fh:
            raw = fh.read(1 << 16)
        if raw[:2] == b"\x1f\x8b":
            return gzip.GzipFile(fileobj=io.BytesIO(raw)).read(1 << 16) if raw else b""
        return raw
    except (OSError, EOFError, zlib.error):
        return b""


def expand_globs(paths: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Yield each path; a pattern that names no existing path is expanded with glob."""
    for raw in paths:
        if not os.path.exists(raw) and any(ch in raw for ch in "*?["):
            hits = sorted(glob.glob(raw, recursive=True))
            if not hits:
                yield raw, True
            for h in hits:
                yield h, True
        else:
            yield raw, True


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
    ``sniff(head_bytes)`` whether unnamed content looks like one.
    """
    walk = _Walk(formats_match=formats_match, sniff=sniff, limits=limits or Limits(), node=node)
    for raw, explicit in expand_globs(paths):
        walk.path(Path(raw), explicit)
    return walk.files, walk.errors, walk.ignored
