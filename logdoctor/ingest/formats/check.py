"""Check a format against its own samples, with both engines.

Each ``[[sample]]`` is parsed as a file of its own by the bulk engine and by the line engine.
It must give exactly one record, of the declared kind, with the declared fields, and both
engines must agree on every column. Every ``[[event]]`` and every ``[[field]]`` extractor must
be exercised by a sample, so a pattern cannot rot unnoticed. A record must have a time,
unless its sample declares ``time = ""`` (a published line whose source cut the date off).
Templates and the ``[writer]`` layout must read back what they write
(:mod:`logdoctor.ingest.formats.templatecheck`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from logdoctor.ingest.formats.templatecheck import check_templates
from logdoctor.ingest.formats.types import Format, FormatError, Sample
from logdoctor.ingest.parse import (
    LineParser,
    classify_message,
    iter_lines,
    match_event,
    parse_bytes,
)
from logdoctor.table import COLUMNS

__all__ = ["check_format"]

_NODE = "sample-node"


def _norm(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def check_format(fmt: Format) -> None:
    """Raise FormatError naming the file, sample and field at the first sample that fails."""
    used: set[int] = set()
    filled: list[int] = []
    for s in fmt.samples:
        entry = f"sample[{s.index}] ({s.kind})"
        bulk, line_row = _both_engines(fmt, s, entry)
        _expected(fmt, s, entry, bulk)
        msg, logger = str(line_row["message"]), line_row["logger"]
        hit = match_event(fmt, msg, logger if isinstance(logger, str) else None)
        if hit is not None:
            used.add(hit[0].index)
            classify_message(fmt, msg, logger if isinstance(logger, str) else None, filled)
    _exercised(fmt, used, filled)
    check_templates(fmt)


def _both_engines(fmt: Format, s: Sample, entry: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sample's one record as the bulk and the line engine read it (they must agree)."""
    frame, stats = parse_bytes(s.text.encode("utf-8"), fmt, file="sample", node=_NODE)
    if stats.malformed or frame.height != 1:
        raise FormatError(
            fmt.path,
            entry,
            f"must parse to exactly one record; got {frame.height} record(s) and "
            f"{stats.malformed} malformed line(s) (does the header regex match its first "
            "line?)",
        )
    bulk = frame.row(0, named=True)
    lp = LineParser(fmt, file="sample", node=_NODE)
    recs = []
    for line in iter_lines(s.text):
        recs.extend(lp.feed(line))
    recs.extend(lp.flush())
    if len(recs) != 1:
        raise FormatError(fmt.path, entry, f"line engine gave {len(recs)} records, not 1")
    line_row = recs[0].as_row()
    for col in COLUMNS:
        if _norm(bulk[col]) != _norm(line_row[col]):
            raise FormatError(
                fmt.path,
                entry,
                f"field {col}: the bulk engine gives {bulk[col]!r} but the line engine "
                f"gives {line_row[col]!r} (a regex construct the two engines read "
                "differently?)",
            )
    return bulk, line_row


def _expected(fmt: Format, s: Sample, entry: str, bulk: Mapping[str, Any]) -> None:
    """The record has the sample's kind, a time (unless ``time = ""``) and its fields."""
    if bulk["kind"] != s.kind:
        raise FormatError(
            fmt.path, entry, f"field kind: expected {s.kind!r}, parsed {bulk['kind']!r}"
        )
    if bulk["time"] is None and s.fields.get("time") != "":
        raise FormatError(
            fmt.path, entry, "field time: no timestamp format of the header parses it"
        )
    for k, want in s.fields.items():
        got = bulk[k]
        if k == "time":
            got = "" if got is None else got.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        if got != want:
            raise FormatError(fmt.path, entry, f"field {k}: expected {want!r}, parsed {got!r}")


def _exercised(fmt: Format, used: set[int], filled: list[int]) -> None:
    """Every event pattern and field extractor is exercised by some sample."""
    idle = [
        *(
            (f"event[{e.index}] ({e.kind})", "exercises this pattern")
            for e in fmt.events
            if e.index not in used
        ),
        *(
            (f"field[{x.index}] ({x.column})", "gets its column from this extractor")
            for x in fmt.fields
            if x.index not in filled
        ),
    ]
    if idle:
        entry, what = idle[0]
        raise FormatError(fmt.path, entry, f"no [[sample]] {what}; add one")
