"""What input discovery yields: the log files found (:class:`LogFile`), the inputs that could
not be read (:class:`InputError`) or were skipped (:class:`Ignored`), the read errors and the
caps (:class:`Limits`), and :class:`Found`, the lists a walk of the inputs fills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from logdoctor.ingest.decoding import to_utf8
from logdoctor.ingest.nodenames import node_from_path
from logdoctor.ucm.prt import prt_identity

__all__ = [
    "Found",
    "Ignored",
    "InputError",
    "Limits",
    "LogFile",
    "PartialRead",
    "SourceError",
    "text",
]

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_TEXT_SUFFIXES = (".log", ".txt", ".out")


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


@dataclass
class Found:
    """What a walk of the inputs found: the log files, the inputs that failed, the files
    skipped; ``node`` overrides every file's node when set."""

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
        """One log file found (its display, path in the bundle and node made valid text)."""
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
