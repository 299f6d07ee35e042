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
collection, :func:`logdoctor.ingest.nodenames.node_from_path`), unless ``--node`` overrides it.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from logdoctor.ingest.archives import _ZIP_MAGIC, Archives
from logdoctor.ingest.capped import (
    _HEAD,
    _compression,
    _not_regular,
    _peek,
    _read_file,
    open_regular,
)
from logdoctor.ingest.inputs import (
    _TEXT_SUFFIXES,
    Ignored,
    InputError,
    Limits,
    LogFile,
    SourceError,
    _is_archive_name,
    _strip_compression,
)
from logdoctor.ingest.nodenames import archive_stem, default_node

__all__ = ["discover"]


class _Walk(Archives):
    """The inputs' walk: files, folders and globs (archives: :class:`Archives`)."""

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
    return _distinct(walk.files), walk.errors, walk.ignored


def _distinct(files: list[LogFile]) -> list[LogFile]:
    """``files`` with a display name each of its own: a second file shown as ``x`` (an
    archive holding two members of one name, or names that differ only in bytes that are not
    UTF-8) is shown as ``x (2)``. A record is named by its file and line (evidence, and the
    message text fetched back for it), so two files must never share a name."""
    taken = {lf.display for lf in files}
    seen: set[str] = set()
    out = []
    for lf in files:
        if lf.display in seen:
            n = 2
            while f"{lf.display} ({n})" in taken:
                n += 1
            lf = dataclasses.replace(lf, display=f"{lf.display} ({n})")
            taken.add(lf.display)
        seen.add(lf.display)
        out.append(lf)
    return out
