"""Checkpoints of the follower: where each followed file was left, written atomically.

A checkpoint is one small JSON document. For every file the follower held when it was saved
it records the file's identity (device, inode, the length and hash of its first bytes) and
the position just after the last line the consumer acknowledged (byte offset, line number and a
hash of the bytes just before it). On restart a file is resumed only if all of that still
holds, so an inode reused by a new file, a file truncated while the tailer was down, or a
copy of the file under another name are told apart from the file itself.

Writes are atomic: the document goes to a temporary file in the same folder, is fsynced, then
renamed over the old one (and the folder is fsynced), so a crash leaves either the old or the
new checkpoint, never a torn one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["VERSION", "Checkpoint", "CheckpointError", "Entry", "digest", "load", "save"]

VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read; the message names the file and the problem."""


def digest(data: bytes) -> str:
    """The hash used for fingerprints (hex, 128 bits)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One followed file in a checkpoint."""

    path: str
    dev: int
    ino: int
    head_len: int
    """How many first bytes ``head_hash`` covers (up to the follower's fingerprint length)."""
    head_hash: str
    offset: int
    """Byte offset just after the last acknowledged line: reading resumes here."""
    line: int
    """Lines before ``offset`` (the next line read is ``line + 1``)."""
    tail_len: int
    """How many bytes just before ``offset`` ``tail_hash`` covers."""
    tail_hash: str
    root: str
    """The followed path (folder or file) this file was found under."""
    rotated: bool = False
    """The file had been rotated (renamed, deleted or copy-truncated) when saved."""
    size: int = 0
    """The file's size when saved."""


@dataclass(frozen=True)
class Checkpoint:
    """A saved follower state: the roots it followed and one entry per file it held."""

    roots: tuple[str, ...]
    entries: tuple[Entry, ...]
    saved_at: float = field(default_factory=time.time)


_ENTRY_FIELDS = {
    "path": str,
    "dev": int,
    "ino": int,
    "head_len": int,
    "head_hash": str,
    "offset": int,
    "line": int,
    "tail_len": int,
    "tail_hash": str,
    "root": str,
}


def load(path: Path) -> Checkpoint | None:
    """Read a checkpoint; ``None`` if the file does not exist. Raises CheckpointError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc.strerror or exc})") from None
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not a logdoctor checkpoint (bad JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("logdoctor_tail") != VERSION:
        raise CheckpointError(
            f"{path}: not a logdoctor tail checkpoint (version {VERSION} expected)"
        )
    roots = doc.get("roots")
    entries = doc.get("files")
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise CheckpointError(f"{path}: field 'roots' must be a list of paths")
    if not isinstance(entries, list):
        raise CheckpointError(f"{path}: field 'files' must be a list")
    out: list[Entry] = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise CheckpointError(f"{path}: files[{i}] must be an object")
        kwargs: dict[str, Any] = {}
        for name, typ in _ENTRY_FIELDS.items():
            value = e.get(name)
            if not isinstance(value, typ) or isinstance(value, bool):
                raise CheckpointError(
                    f"{path}: files[{i}].{name} must be {'an integer' if typ is int else 'text'}"
                )
            if isinstance(value, int) and value < 0:
                raise CheckpointError(f"{path}: files[{i}].{name} must not be negative")
            kwargs[name] = value
        kwargs["rotated"] = e.get("rotated") is True
        size = e.get("size", 0)
        kwargs["size"] = size if isinstance(size, int) and not isinstance(size, bool) else 0
        out.append(Entry(**kwargs))
    saved = doc.get("saved_at", 0.0)
    return Checkpoint(
        roots=tuple(roots),
        entries=tuple(out),
        saved_at=float(saved) if isinstance(saved, (int, float)) else 0.0,
    )


def save(path: Path, roots: Sequence[str], entries: Sequence[Entry]) -> None:
    """Write a checkpoint atomically (temp file in the same folder, fsync, rename, fsync dir)."""
    doc = {
        "logdoctor_tail": VERSION,
        "saved_at": time.time(),
        "roots": list(roots),
        "files": [asdict(e) for e in entries],
    }
    data = json.dumps(doc, indent=1).encode("utf-8")
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dfd)
    finally:
        os.close(dfd)
