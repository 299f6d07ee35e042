"""Which parser reads a followed file: its format, node and time zone (for the tailer).

Each followed file gets its own :class:`~logdoctor.ingest.parse.LineParser` (the same compiled
patterns as the bulk engine), with the format :func:`~logdoctor.ingest.detect.detect` picks from the
file's name, path and whole lines (those of its first 64 KiB, wherever reading starts; a file
with no whole line yet is decided on its first lines as they arrive), and the node
:func:`~logdoctor.ingest.nodenames.node_from_path` reads from the bundle layout. A file that no
format fits gets a notice. A node whose CiscoSyslog states its zone has its zone-less files read
in that zone (it outranks ``tz``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from logdoctor.ingest.detect import detect, sniff_lines
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.nodenames import node_from_path
from logdoctor.ingest.parse import LineParser
from logdoctor.ingest.parse.line import zone_from_head
from logdoctor.tail.follow_events import FollowEvent, Line, Notice, Opened
from logdoctor.timestamps import Zone

__all__ = ["FileSources", "Source", "Undecided"]

_SNIFF_LINES = 200


@dataclass(eq=False)
class Source:
    """A followed file being parsed: its stream, parser, node and open record."""

    stream: int
    parser: LineParser
    node: str
    open_start: tuple[int, int] | None = None
    """(offset, lines before) of the open record's header line; None when no record is open."""
    last_end: tuple[int, int] = (0, 0)
    last_at: float = 0.0
    warned: bool = False
    """The unrecognized-records notice was given."""


@dataclass(frozen=True)
class Undecided:
    """A file opened with no whole line yet: its format is picked from its first lines."""

    path: str
    name: str
    rel: str
    node: str


class FileSources:
    """The parsers of the followed files, by stream, and the zones their nodes state."""

    def __init__(self, formats: Sequence[Format], zone: Zone, node: str | None) -> None:
        """``zone`` reads zone-less times unless a node states its own; ``node`` names the
        node of every file (else it comes from each file's path)."""
        self.formats = formats
        self.zone = zone
        self.node = node
        self.sources: dict[int, Source] = {}
        self.undecided: dict[int, Undecided] = {}
        self.stated: dict[str, Zone] = {}
        """Node -> the zone its own CiscoSyslog states (two clocks); it outranks ``tz``."""

    def open(self, e: Opened, notices: list[Notice]) -> bool:
        """Take a newly opened file; False when its stream is known already (a stream that
        moved to a copy of its file keeps its parser)."""
        if e.stream in self.sources or e.stream in self.undecided:
            return False
        name = os.path.basename(e.path)
        if e.root_is_dir:
            rel = os.path.relpath(e.path, e.root).replace(os.sep, "/")
            node = self.node or node_from_path(rel, os.path.basename(e.root) or "unknown")
        else:
            rel = e.path
            node = self.node or node_from_path(e.path, "unknown", anchors_only=True)
        file = Undecided(e.path, name, rel, node)
        lines = sniff_lines(e.sample)
        if lines:
            self._use(e.stream, file, lines, notices)
        else:
            self.undecided[e.stream] = file  # no whole line yet: decided on its first ones
        return True

    def decide(self, stream: int, events: list[FollowEvent], i: int, notices: list[Notice]) -> None:
        """Pick the format of an undecided file from its lines in this read (from ``i`` on)."""
        file = self.undecided.pop(stream)
        mine = (x.text for x in events[i:] if isinstance(x, Line) and x.stream == stream)
        self._use(stream, file, list(islice(mine, _SNIFF_LINES)), notices)

    def _use(self, stream: int, file: Undecided, lines: list[str], notices: list[Notice]) -> None:
        found = detect(self.formats, file.name, file.rel, lines)
        fmt = found.format
        if found.lines and found.ratio == 0.0:
            notices.append(
                Notice(
                    "format",
                    file.path,
                    f"{file.path}: none of its first {found.lines} line(s) fits a known log "
                    f"format; read as {fmt.name} (by its name), its lines count as malformed "
                    "(add a format with --formats-dir)",
                    stream,
                )
            )
        if fmt.states_zone:
            self._state_zone(file.node, zone_from_head(fmt, lines).zone, notices)
        elif fmt.zoneless and file.node not in self.stated:
            self._state_zone(file.node, self._peek_zone(file), notices)
        parser = LineParser(fmt, file=file.path, node=file.node, zone=self._zone_of(fmt, file.node))
        self.sources[stream] = Source(stream, parser, file.node)

    def _zone_of(self, fmt: Format, node: str) -> Zone:
        """The zone a file's zone-less times are read in: its node's stated one, else ``tz``."""
        return self.stated.get(node, self.zone) if fmt.zoneless else self.zone

    def _peek_zone(self, file: Undecided) -> Zone | None:
        """The zone the node's CiscoSyslog states, read from the head of the file next to this
        one in the node's folder (``<node>/syslog/CiscoSyslog``), before its lines come."""
        here = Path(file.path).parent
        while here.name and here.name != file.node:
            here = here.parent
        if not here.name:
            return None
        for log in sorted((here / "syslog").glob("CiscoSyslog*"))[:1]:
            try:
                with log.open("rb") as fh:
                    head = fh.read(1 << 16)
            except OSError:
                return None
            lines = sniff_lines(head)
            fmt = detect(self.formats, log.name, log.name, lines).format
            if fmt.states_zone:
                return zone_from_head(fmt, lines).zone
        return None

    def _state_zone(self, node: str, zone: Zone | None, notices: list[Notice]) -> None:
        """A node's CiscoSyslog states its zone (the first statement wins): the node's files
        not read yet are read in it; one already read says so in a notice."""
        if zone is None or node in self.stated:
            return
        self.stated[node] = zone
        for src in self.sources.values():
            fmt = src.parser.fmt
            if src.node != node or not fmt.zoneless:
                continue
            if src.parser.stats.lines == 0:
                src.parser = LineParser(fmt, file=src.parser.file, node=node, zone=zone)
            else:
                notices.append(
                    Notice(
                        "format",
                        src.parser.file,
                        f"{src.parser.file}: its first lines were read in {self.zone.name}; "
                        f"{node}'s CiscoSyslog states {zone.name} (restart the tail to re-read)",
                        src.stream,
                    )
                )
