"""What the follower hands out: the events of a pass, the state of the files it holds, and its
counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Closed",
    "FileState",
    "FollowError",
    "FollowEvent",
    "FollowStats",
    "Line",
    "Notice",
    "NoticeKind",
    "Opened",
]

NoticeKind = Literal[
    "rotated",
    "truncated",
    "copy",
    "lost",
    "skipped",
    "observer",
    "detector",
    "format",
    "unrecognized",
]
"""``format``: no known format fits a file's lines; ``unrecognized``: many of a file's records
match no event pattern (both from the tailer); the others come from the follower."""


class FollowError(ValueError):
    """A path that cannot be followed; the message names it."""


@dataclass(frozen=True, slots=True)
class Opened:
    """A file the follower starts reading (or resumes, ``resumed=True``)."""

    stream: int
    path: str
    root: str
    """The followed folder or file it was found under."""
    root_is_dir: bool
    head: bytes
    """Its first bytes (up to FP_LEN): its fingerprint."""
    resumed: bool
    dev: int
    ino: int
    sample: bytes = b""
    """Whole lines from the file's start (up to 64 KiB, cut after the last newline), for format
    detection whatever the position reading starts at; empty if the file has no whole line yet."""
    rotated: bool = False
    """The file is a rotated one (renamed, deleted, or named ``x.log.N``): it gets no new lines."""


@dataclass(frozen=True, slots=True)
class Line:
    """One whole line of a stream (without its newline; a trailing CR is kept)."""

    stream: int
    lineno: int
    """1-based line number in the file."""
    start: int
    """Byte offset of the line's first byte."""
    end: int
    """Byte offset just after the line's newline."""
    text: str


@dataclass(frozen=True, slots=True)
class Closed:
    """A rotated stream ended: every line of it has been emitted."""

    stream: int
    gone: bool
    """True if the file is no longer held (deleted, moved away, or its content truncated)."""


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know about a file (rotation, truncation, lost data)."""

    kind: NoticeKind
    path: str
    message: str
    stream: int | None = None


FollowEvent = Opened | Line | Closed | Notice


@dataclass(frozen=True, slots=True)
class FileState:
    """A held file: where it is and how far it has been read."""

    stream: int
    path: str
    dev: int
    ino: int
    offset: int
    """Bytes read (including a partial last line not emitted yet)."""
    lines: int
    """Lines emitted."""
    rotated: bool
    head: bytes


@dataclass
class FollowStats:
    """Counters of what the follower did."""

    lines: int = 0
    bytes: int = 0
    files: int = 0
    rotations: int = 0
    truncations: int = 0
    copies: int = 0
    lost: int = 0
    nul_bytes: int = 0
    split_lines: int = 0
    passes: int = 0
    scans: int = 0
