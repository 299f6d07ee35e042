"""JSON records of ``logdoctor tail --format jsonl``: one object per line.

Events have ``"type": "event"`` and the event table's columns (times in UTC with a ``Z``,
milliseconds, or microseconds when the record has them); findings have ``"type": "finding"``
and the fields of :class:`logdoctor.model.Finding`; notices (a rotation, a truncation, data
that could not be read, a file no format fits) have ``"type": "notice"``.

The tail writes whole lines, a batch of them with one write, but a process killed in the
middle of a write (SIGKILL, a crash of the machine) leaves its last line cut. A reader skips
such a *torn* line: :func:`read_records` does. The next run with the same ``--state`` emits the
cut line again, whole; when its output is appended to the same file it first ends the torn
line with a newline, so a torn line may also be followed by more lines.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from logdoctor.ingest.parse import Record
from logdoctor.model import Finding
from logdoctor.table import FIELD_COLUMNS, iso
from logdoctor.tail.follow_events import Notice

__all__ = [
    "event_json",
    "event_record",
    "finding_record",
    "notice_record",
    "read_records",
]


def event_record(r: Record) -> dict[str, Any]:
    """The JSON object of one event (the columns of the event table, in order)."""
    out: dict[str, Any] = {
        "type": "event",
        "time": iso(r.time),
        "node": r.node,
        "family": r.family,
        "file": r.file,
        "line": r.line,
        "level": r.level,
        "thread": r.thread,
        "logger": r.logger,
        "kind": r.kind,
        "basis": r.basis,
    }
    fields = r.fields
    for c in FIELD_COLUMNS:
        out[c] = fields.get(c)
    out["message"] = r.message
    return out


_FIELD_KEYS = tuple((", " + encode_basestring(c) + ": ", c) for c in FIELD_COLUMNS)
_FIELD_NULL = {c: k + "null" for k, c in _FIELD_KEYS}
_WHERE: dict[tuple[str, str, str], str] = {}


def _str(v: str | None) -> str:
    return "null" if v is None else encode_basestring(v)


def _where(node: str, family: str, file: str) -> str:
    key = (node, family, file)
    text = _WHERE.get(key)
    if text is None:
        if len(_WHERE) > 4096:
            _WHERE.clear()
        text = _WHERE[key] = (
            f', "node": {encode_basestring(node)}, "family": {encode_basestring(family)}, '
            f'"file": {encode_basestring(file)}, "line": '
        )
    return text


def event_json(r: Record) -> str:
    """``json.dumps(event_record(r), ensure_ascii=False)``, about twice as fast.

    The tail writes one of these per event; building the text directly (strings escaped by the
    json module's own escaper, the file's part kept from one event to the next) saves the
    intermediate dict.
    """
    t = r.time
    parts = [
        '{"type": "event", "time": ',
        "null" if t is None else '"' + (iso(t) or "") + '"',
        _where(r.node, r.family, r.file),
        str(int(r.line)),
        ', "level": ',
        _str(r.level),
        ', "thread": ',
        _str(r.thread),
        ', "logger": ',
        _str(r.logger),
        ', "kind": ',
        encode_basestring(r.kind),
        ', "basis": ',
        _str(r.basis),
    ]
    fields = r.fields
    for key, c in _FIELD_KEYS:
        v = fields.get(c)
        if v is None:
            parts.append(_FIELD_NULL[c])
        else:
            parts.append(key)
            parts.append(encode_basestring(v))
    parts.append(', "message": ')
    parts.append(encode_basestring(r.message))
    parts.append("}")
    return "".join(parts)


def finding_record(f: Finding) -> dict[str, Any]:
    """The JSON object of one finding."""
    return {
        "type": "finding",
        "rule": str(f.rule),
        "severity": f.severity.value,
        "title": f.title,
        "message": f.message,
        "subjects": list(f.subjects),
        "first_seen": iso(f.first_seen),
        "last_seen": iso(f.last_seen),
        "evidence_total": f.evidence_total,
        "basis": f.basis,
        "evidence": [
            {
                "node": e.node,
                "file": e.file,
                "line": e.line,
                "time": iso(e.time),
                "kind": e.kind,
                "basis": e.basis,
                "excerpt": e.excerpt,
            }
            for e in f.evidence
        ],
        "fix": list(f.fix),
    }


def notice_record(n: Notice) -> dict[str, Any]:
    """The JSON object of one notice."""
    return {"type": "notice", "kind": n.kind, "path": n.path, "message": n.message}


def read_records(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """The objects of ``logdoctor tail --format jsonl`` output, and how many torn lines
    (lines cut by a killed run: not JSON objects) were skipped."""
    out: list[dict[str, Any]] = []
    torn = 0
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw)
        except ValueError:
            torn += 1
            continue
        if isinstance(doc, dict):
            out.append(doc)
        else:
            torn += 1
    return out, torn
