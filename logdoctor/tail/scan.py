"""Finding followed files and telling them apart: folder scans, fingerprints, positions."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from logdoctor.tail import checkpoint as ckpt

__all__ = [
    "CHUNK",
    "Found",
    "Root",
    "compat",
    "count_lines",
    "holds",
    "last_boundary",
    "scan",
]

CHUNK = 1 << 20
SKIP_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".tgz", ".tar", ".tmp", ".swp", ".lck")


@dataclass(frozen=True, slots=True)
class Root:
    """A followed path: a folder (followed recursively) or a file."""

    path: str
    is_dir: bool


@dataclass(slots=True)
class Found:
    """A file a scan found: where, under which root, its stat."""

    path: str
    root: Root
    st: os.stat_result


def scan(roots: Sequence[Root], match: Callable[[str, str], bool]) -> dict[tuple[int, int], Found]:
    """Every followed file now, by (device, inode).

    A folder is listed in one go, then each entry is stat'ed; if an entry's inode is not the
    one the listing gave (it was renamed or replaced in between, as in the middle of a
    rotation that renames several files), the folder is listed again, so a file being
    renamed is never missed under both of its names.
    """
    found: dict[tuple[int, int], Found] = {}
    for root in roots:
        if not root.is_dir:
            try:
                st = os.stat(root.path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found.setdefault((st.st_dev, st.st_ino), Found(root.path, root, st))
            continue
        todo = [root.path]
        while todo:
            folder = todo.pop()
            for _attempt in range(20):
                files, dirs, stable = _list(root, folder, match)
                if stable:
                    break
            todo.extend(dirs)
            for key, f in files.items():
                found.setdefault(key, f)
    return found


def _list(
    root: Root, folder: str, match: Callable[[str, str], bool]
) -> tuple[dict[tuple[int, int], Found], list[str], bool]:
    files: dict[tuple[int, int], Found] = {}
    dirs: list[str] = []
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError:
        return files, dirs, True
    stable = True
    for entry in entries:
        name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                dirs.append(entry.path)
                continue
        except OSError:
            continue
        if name.startswith(".") or name.lower().endswith(SKIP_SUFFIXES):
            continue
        rel = os.path.relpath(entry.path, root.path).replace(os.sep, "/")
        if not match(name, rel):
            continue
        try:
            st = os.lstat(entry.path)
        except FileNotFoundError:
            stable = False
            continue
        except OSError:
            continue
        if st.st_ino != entry.inode():
            stable = False
        if stat.S_ISREG(st.st_mode):
            files.setdefault((st.st_dev, st.st_ino), Found(entry.path, root, st))
    return files, dirs, stable


def compat(a: bytes, b: bytes) -> int:
    """Length of the common prefix both start with, if one is a prefix of the other; else 0."""
    n = min(len(a), len(b))
    return n if n and a[:n] == b[:n] else 0


def holds(fd: int, e: ckpt.Entry, st: os.stat_result | None = None) -> bool:
    """The open file still has the checkpointed content: its head and the bytes before offset."""
    st = st or os.fstat(fd)
    if st.st_size < max(e.offset, e.head_len):
        return False
    if e.head_len and ckpt.digest(os.pread(fd, e.head_len, 0)) != e.head_hash:
        return False
    if e.head_len == 0 and e.offset > 0:
        return False
    tail = os.pread(fd, e.tail_len, e.offset - e.tail_len) if e.tail_len else b""
    return ckpt.digest(tail) == e.tail_hash


def last_boundary(fd: int, size: int) -> int:
    """Offset just after the last newline before ``size`` (0 if none)."""
    end = size
    while end > 0:
        start = max(0, end - CHUNK)
        chunk = os.pread(fd, end - start, start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        end = start
    return 0


def count_lines(fd: int, upto: int) -> int:
    """Newlines in the first ``upto`` bytes."""
    n = pos = 0
    while pos < upto:
        chunk = os.pread(fd, min(CHUNK * 4, upto - pos), pos)
        if not chunk:
            break
        n += chunk.count(b"\n")
        pos += len(chunk)
    return n
