"""Archives read in memory, never extracted to disk: a zip member by member (each member has its
own reader), a tar as one stream, once, each wanted member decompressed into its own bytes as
the stream passes it. Members with absolute paths or ``..`` components, links, devices, and
members that expand beyond the caps are refused with an error naming the member; the other
members are still read (see :mod:`logdoctor.ingest.sources`)."""

from __future__ import annotations

import io
import posixpath
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from logdoctor.ingest.capped import (
    _CHUNK,
    _STREAM_ERRORS,
    _bounded,
    _compression,
    _decompress,
    _decompressor,
    _peek,
    _reason,
    head_and_size,
    open_regular,
    read_whole,
)
from logdoctor.ingest.inputs import (
    _TEXT_SUFFIXES,
    Found,
    Ignored,
    InputError,
    PartialRead,
    SourceError,
    _is_archive_name,
    _strip_compression,
)

__all__ = ["Archives"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


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


class Archives(Found):
    """A walk's archive reading: zips, tars and the archives they hold."""

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
                head, size = head_and_size(fh, 4)
                if head in _ZIP_MAGIC or p.name.lower().endswith(".zip"):
                    data = read_whole(fh, label, self.limits, size)
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
        self._keep(mlabel, rel, default_node, data_fn, eager=eager)

    def _keep(
        self,
        mlabel: str,
        rel: str,
        default_node: str,
        data_fn: Callable[[], bytes],
        *,
        eager: bool,
    ) -> None:
        """A wanted member as a log file; ``eager``: its bytes are taken now (a member of a
        stream that moves on), an error or truncation kept for when it is read."""
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
            refusal = self._zip_refusal(info, total)
            if refusal is not None:
                self.errors.append(InputError(f"{label}!{info.filename}", refusal))
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

    def _zip_refusal(self, info: zipfile.ZipInfo, total: int) -> str | None:
        """Why a zip member is refused on its declared sizes (``total``: the archive's declared
        output so far, this member included), or None."""
        if info.file_size > self.limits.max_file_bytes or total > self.limits.max_total_bytes:
            return "refused, declared size exceeds the cap (decompression bomb?)"
        if (
            info.file_size > self.limits.ratio_floor
            and info.file_size > max(info.compress_size, 1) * self.limits.max_ratio
        ):
            return f"refused, expands more than {self.limits.max_ratio}:1 (decompression bomb?)"
        return None

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
        tar = self._open_tar(fwd, kind, label)
        if tar is None:
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

    def _open_tar(self, fwd: _Forward, kind: str | None, label: str) -> tarfile.TarFile | None:
        """The tar reader over ``fwd`` (``kind``: its compression), or None (the error noted)."""
        try:
            return tarfile.open(fileobj=cast(Any, fwd), mode="r:")
        except _Budget:
            self.errors.append(InputError(label, "refused, expands beyond its caps"))
            return None
        except tarfile.ReadError as exc:
            if kind is None:
                self.errors.append(InputError(label, f"not a tar archive ({exc or 'empty'})"))
            else:
                self.errors.append(InputError(label, f"not a compressed tar archive ({exc})"))
            return None
        except _STREAM_ERRORS as exc:
            self.errors.append(InputError(label, _reason(exc)))
            return None

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
