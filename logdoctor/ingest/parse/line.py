"""The line-at-a-time engine (Python ``re``): the live tail and the format check feed it
lines and get :class:`Record` s, the same rows the bulk engine (:mod:`.bulk`) gives; and
:func:`zone_from_head`, which reads a file's first lines for the zone its records state.

Line semantics and the size bounds are the bulk engine's (see :mod:`logdoctor.ingest.parse`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from logdoctor.ingest.clocks import (
    HEAD_LINES,
    offset_minutes,
    offset_text,
    stated_zone,
)
from logdoctor.ingest.formats.types import EXTRACT_COLUMNS, EventPattern, Format, HeaderPattern
from logdoctor.ingest.parse.common import MAX_RECORD_BYTES, pct_decode
from logdoctor.model import EventKind
from logdoctor.table import (
    FIELD_COLUMNS,
    NODE_FIELD,
    ParseStats,
)
from logdoctor.timestamps import Zone, resolve_zone

__all__ = [
    "HeadClocks",
    "LineParser",
    "Record",
    "classify_message",
    "match_event",
    "zone_from_head",
]

_UNRECOGNIZED = EventKind.UNRECOGNIZED.value


@dataclass
class Record:
    """One record produced by the line engine (the same columns as a row of the event table)."""

    time: datetime | None
    node: str
    family: str
    file: str
    line: int
    level: str | None
    thread: str | None
    logger: str | None
    kind: str
    fields: dict[str, str | None]
    message: str
    basis: str | None = None

    def as_row(self) -> dict[str, object]:
        """The record as a dict keyed by the event table's column names."""
        row: dict[str, object] = {
            "time": self.time,
            "node": self.node,
            "family": self.family,
            "file": self.file,
            "line": self.line,
            "level": self.level,
            "thread": self.thread,
            "logger": self.logger,
            "kind": self.kind,
            "basis": self.basis,
        }
        for c in FIELD_COLUMNS:
            row[c] = self.fields.get(c)
        row["message"] = self.message
        return row


class _OpenRecord:
    """The record the line engine is folding lines into."""

    __slots__ = ("cont", "cut", "header", "line", "match", "size")

    def __init__(self, header: int, line: int, match: re.Match[str], cut: bool) -> None:
        self.header = header
        self.line = line
        self.match = match
        self.cont: list[str] = []
        self.size = 0  # bytes of continuation kept (each line plus its newline)
        self.cut = cut


def _cap_line(text: str) -> tuple[str, bool]:
    """``text`` cut to MAX_RECORD_BYTES bytes of UTF-8 (at a character boundary), as the bulk
    engine cuts a line; and whether it was cut."""
    if len(text) * 4 <= MAX_RECORD_BYTES:
        return text, False
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) <= MAX_RECORD_BYTES:
        return text, False
    return raw[:MAX_RECORD_BYTES].decode("utf-8", "ignore"), True


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


class LineParser:
    """Parse lines one at a time with the same compiled patterns as the bulk engine.

    ``feed`` returns the records that a new line completes (a header line completes the record
    before it); ``flush`` returns the last open record. Lines before the first header are
    counted as malformed in ``stats``. NUL bytes and over-long lines and records are handled as
    by the bulk engine (see the module's docstring).
    """

    def __init__(self, fmt: Format, *, file: str, node: str, zone: Zone | None = None) -> None:
        self.fmt = fmt
        self.file = file
        self.node = node
        zone = zone or resolve_zone(None)
        self._to_utc = zone.to_utc()
        self.stats = ParseStats(path=file, family=fmt.family, node=node)
        self._kinds: Counter[str] = Counter()
        self.stats.kinds = self._kinds  # the counter itself: no copy per record
        self._open: _OpenRecord | None = None
        self._seen = 0  # lines fed, those of nothing but NULs included (the numbering)
        self._zones = [h.zone.to_utc() if h.zone is not None else self._to_utc for h in fmt.headers]
        self._offsets: Counter[str] = Counter()
        self.stats.utc_offsets = self._offsets  # the counter itself, as for kinds

    def feed(self, text: str, lineno: int | None = None) -> list[Record]:
        """Consume one line (without its ``\\n``); returns the records it completes."""
        self._seen += 1
        n = lineno if lineno is not None else self._seen
        text, cut = _cap_line(text)
        if "\x00" in text:
            self.stats.nul_bytes += text.count("\x00")
            text = text.replace("\x00", "")
            if not text:
                return []
        if text.endswith("\r"):
            text = text[:-1]
        self.stats.lines += 1
        for hi, h in enumerate(self.fmt.headers):
            m = h.regex.py.match(text)
            if m is not None:
                done = self.flush()
                self._open = _OpenRecord(hi, n, m, cut)
                self.stats.records += 1
                self.stats.record_lines += 1
                self.stats.truncated += cut
                return done
        open_ = self._open
        if open_ is None:
            self.stats.malformed += 1
            self.stats.truncated += cut
            if len(self.stats.malformed_lines) < ParseStats.MALFORMED_LINES_KEPT:
                self.stats.malformed_lines.append(n)
            return []
        self.stats.record_lines += 1
        open_.size += _utf8_len(text) + 1
        if open_.size <= MAX_RECORD_BYTES:
            open_.cont.append(text)
        else:
            cut = True
        if cut and not open_.cut:
            open_.cut = True
            self.stats.truncated += 1
        return []

    def flush(self) -> list[Record]:
        """Emit the open record, if any."""
        if self._open is None:
            return []
        o, self._open = self._open, None
        return [self._build(o.header, o.line, o.match, o.cont)]

    def _build(self, hi: int, n: int, m: re.Match[str], cont: list[str]) -> Record:
        h: HeaderPattern = self.fmt.headers[hi]
        g = m.groupdict()
        msg = g.get("msg") or ""
        if cont:
            msg = msg + "\n" + "\n".join(cont)
        time = None
        ts = g.get("ts")
        if ts is not None:
            for tf in h.timestamps:
                parsed = tf.parse(ts)
                if parsed is not None:
                    time = parsed if parsed.tzinfo is not None else self._zones[hi](parsed)
                    if time.tzinfo is not None:
                        time = time.astimezone(UTC)
                    break
        if time is None:
            self.stats.bad_timestamps += 1
        logger = g.get("logger")
        kind, basis, fields = classify_message(self.fmt, msg, logger)
        self._kinds[kind] += 1
        self.stats.unrecognized = self._kinds.get(_UNRECOGNIZED, 0)
        local = g.get("local")
        if local is not None and time is not None:
            minutes = offset_minutes(local, time)
            if minutes is not None:
                self._offsets[offset_text(minutes)] += 1
        return Record(
            time=time,
            node=fields.pop(NODE_FIELD, None) or g.get("node") or self.node,
            family=self.fmt.family,
            file=self.file,
            line=n,
            level=self.fmt.normalize_level(g.get("level")),
            thread=g.get("thread"),
            logger=logger,
            kind=kind,
            fields=fields,
            message=msg,
            basis=basis,
        )


def match_event(
    fmt: Format, msg: str, logger: str | None
) -> tuple[EventPattern, re.Match[str]] | None:
    """The first event pattern (in file order) that matches a message and logger, if any."""
    for e in fmt.events:
        if e.literal and not msg.startswith(e.literal):
            continue
        m = e.regex.py.search(msg)
        if m is None:
            continue
        if e.logger is not None and e.logger.py.search(logger or "") is None:
            continue
        return e, m
    return None


def classify_message(
    fmt: Format, msg: str, logger: str | None, used: list[int] | None = None
) -> tuple[str, str | None, dict[str, str | None]]:
    """The event kind, its basis and the fields of one message: the first matching pattern
    wins, then the ``[[field]]`` extractors fill what it left empty (``used`` collects the
    indexes of those that did). ``fields`` holds the node the line names under ``node``
    (None when it names none)."""
    fields: dict[str, str | None] = {c: None for c in EXTRACT_COLUMNS}
    hit = match_event(fmt, msg, logger)
    if hit is None:
        return _UNRECOGNIZED, None, fields
    e, m = hit
    fields.update(e.set)
    for k, v in m.groupdict().items():
        fields[k] = None if v == "-" else pct_decode(v)
    for x in fmt.fields:
        if fields[x.column] is not None or (x.kinds and e.kind not in x.kinds):
            continue
        found = x.regex.py.search(msg)
        if found is not None:
            v = found.group(x.column)
            if v is not None and v != "-":
                fields[x.column] = pct_decode(v)
                if used is not None:
                    used.append(x.index)
    return e.kind, e.basis, fields


@dataclass(frozen=True)
class HeadClocks:
    """What the first records of a file say about their node's clocks."""

    zone: Zone | None
    """The zone their two clocks state (None: they state none)."""
    nodes: frozenset[str]
    """The nodes the records name (CiscoSyslog NodeID, else the header's host)."""


def zone_from_head(fmt: Format, lines: Sequence[str]) -> HeadClocks:
    """The zone that the first records of a file (its whole first ``lines``) state, for a
    format whose records carry two clocks, and the nodes they name."""
    if not fmt.states_zone:
        return HeadClocks(None, frozenset())
    lp = LineParser(fmt, file="head", node="")
    records = []
    for line in lines[:HEAD_LINES]:
        records += lp.feed(line)
    records += lp.flush()
    return HeadClocks(stated_zone(lp.stats), frozenset(r.node for r in records if r.node))
