"""Opening an input file for the parse: its bytes (or its path, when the engine can map it), its
head for format detection, and what reading it counted (decode errors, a partial read); a file
that cannot be read or is not text comes back as a ParseStats carrying the error.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from logdoctor.ingest.capped import open_regular
from logdoctor.ingest.decoding import UTF8_BOM, to_utf8, wide_encoding
from logdoctor.ingest.detect import detect, is_binary, sniff_lines
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.inflate import Inflated
from logdoctor.ingest.inputs import Limits, LogFile, PartialRead, SourceError
from logdoctor.ingest.nodenames import is_download_time
from logdoctor.ingest.parse.bulk import CHUNK_BYTES
from logdoctor.ingest.parse.line import zone_from_head
from logdoctor.table import ParseStats
from logdoctor.timestamps import Zone

__all__ = ["Opened", "data_size", "is_big", "mentions", "open_file", "stated_zones", "syslog_owner"]


@dataclass
class Opened:
    """A file ready to parse: its data (bytes, or its path when the engine can read it
    directly), its head (for format detection), and what reading it already counted."""

    data: bytes | Path | Inflated
    head: bytes
    decode_errors: int = 0
    partial: str | None = None

    def notes(self) -> tuple[int, str | None]:
        """The decode errors and the partial-read note of the reading (a compressed file's,
        once it has been parsed to its end)."""
        if isinstance(self.data, Inflated):
            return self.decode_errors + self.data.decode_errors, self.partial or self.data.partial
        return self.decode_errors, self.partial

    def account(self, st: ParseStats) -> ParseStats:
        """Add what the reading counted to the parse statistics of the file."""
        errors, st.partial = self.notes()
        st.decode_errors += errors
        return st


def _binary(head: bytes) -> bool:
    """Not text: NUL runs (a hole a writer left after a truncation) are allowed between the
    lines (the parser drops them and counts them), nothing but NULs or control bytes is not."""
    if b"\x00" not in head:
        return is_binary(head)
    rest = head.replace(b"\x00", b"")
    return not rest or is_binary(rest)


def open_file(lf: LogFile, limits: Limits) -> Opened | ParseStats:
    """The file's data and head; a ParseStats carrying the error when it cannot be read or is
    not text. A truncated compressed file gives what could be read, counted as one decode
    error and noted as ``partial``; UTF-16/32 with a byte order mark is decoded to UTF-8."""
    data: bytes | Path
    opened: Opened
    try:
        local = lf.local
        if local is not None:
            with open_regular(local) as fh:
                if os.fstat(fh.fileno()).st_size > limits.max_file_bytes:
                    local = None
                else:
                    head = fh.read(1 << 16)
        if local is not None:
            opened = Opened(local, head)
        elif lf.packed is not None:
            inflated = Inflated(lf.packed, limits, lf.display)
            opened = Opened(inflated, inflated.head)
        else:
            try:
                data = lf.read()
                opened = Opened(data, data[: 1 << 16])
            except PartialRead as exc:
                note = str(exc).removeprefix(f"{lf.display}: ")
                opened = Opened(exc.data, exc.data[: 1 << 16], 1, note)
        if wide_encoding(opened.head) is not None:
            raw = _read_all(opened.data)
            errors, partial = opened.notes()
            text, bad = to_utf8(raw)
            opened = Opened(text, text[: 1 << 16], errors + bad, partial)
    except SourceError as exc:
        st = ParseStats(path=lf.display, node=lf.node)
        st.error = str(exc).removeprefix(f"{lf.display}: ")
        return st
    except OSError as exc:
        st = ParseStats(path=lf.display, node=lf.node)
        st.error = f"cannot read ({exc.strerror or exc})"
        return st
    if _binary(opened.head):
        if isinstance(opened.data, Inflated):
            opened.data.close()
        st = ParseStats(path=lf.display, node=lf.node, bytes=len(opened.head))
        st.error = "binary content (NUL or control bytes), not a text log"
        return st
    opened.head = opened.head.removeprefix(UTF8_BOM)
    return opened


def _read_all(data: bytes | Path | Inflated) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, Inflated):
        return data.read_all()
    with open_regular(data) as fh:
        return fh.read()


def data_size(data: bytes | Path | Inflated) -> int:
    """The bytes of an opened file's data (a compressed file's once it has been parsed)."""
    if isinstance(data, Inflated):
        return data.size
    return data.stat().st_size if isinstance(data, Path) else len(data)


def syslog_owner(relpath: str) -> str | None:
    """The folder that holds a file's ``syslog/`` folder (``<node>/syslog/CiscoSyslog``; a
    download-time folder between them, RTMT's ``<node>/<time>/syslog``, is skipped)."""
    folders = PurePosixPath(relpath.replace("\\", "/")).parts[:-1]
    low = [f.lower() for f in folders]
    if "syslog" not in low:
        return None
    i = low.index("syslog") - 1
    while i >= 0 and is_download_time(folders[i]):
        i -= 1
    return folders[i] if i >= 0 else None


def mentions(lf: LogFile, literals: Sequence[bytes], limits: Limits) -> bool:
    """True when the file's text holds one of ``literals`` (or cannot be read: the parse then
    reports it)."""
    try:
        if lf.local is not None:
            with open_regular(lf.local) as fh:
                if os.fstat(fh.fileno()).st_size == 0:
                    return False
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    return any(data.find(lit) != -1 for lit in literals)
        if lf.packed is not None:
            return Inflated(lf.packed, limits, lf.display).mentions(literals)
        blob = lf.read()
    except (SourceError, OSError, ValueError):
        return True
    return any(lit in blob for lit in literals)


def is_big(lf: LogFile) -> bool:
    """True for a file on disk bigger than one parse chunk (it is streamed, not read whole)."""
    try:
        if lf.packed is not None:  # a compressed file expands some 4 to 10 times
            return lf.packed.stat().st_size > CHUNK_BYTES // 4
        return lf.local is not None and lf.local.stat().st_size > CHUNK_BYTES
    except OSError:
        return False


def stated_zones(
    files: Sequence[LogFile],
    formats: Sequence[Format],
    limits: Limits,
    canonical: Callable[[str], str],
) -> Iterator[tuple[str, Zone, str]]:
    """(node, zone, file) for each zone a node's own CiscoSyslog states: read from the heads
    of the files whose name fits a format with two clocks, a file's statement kept when the
    file is the node's (its syslog folder, or every node its lines name, is the node) and the
    node named by ``canonical`` (its canonical name)."""
    stating = [f for f in formats if f.states_zone]
    for lf in files if stating else ():
        if not any(f.matches_name(lf.name) or f.matches_path(lf.relpath) for f in stating):
            continue
        opened = open_file(lf, limits)
        if isinstance(opened, ParseStats):
            continue  # reported when the file is parsed
        lines = sniff_lines(opened.head)
        head = zone_from_head(detect(formats, lf.name, lf.relpath, lines).format, lines)
        folder = syslog_owner(lf.relpath)
        node = canonical(lf.node)
        names = {lf.node.lower(), node.lower()}
        own = folder is not None and folder.lower() in names
        stated = {n.lower() for n in head.nodes}
        if head.zone is not None and (own or (stated and stated <= names)):
            yield node, head.zone, lf.display
