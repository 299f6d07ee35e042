"""Findings as JSON (the text and concise views are in :mod:`logdoctor.outputs.checktext`).

JSON (``logdoctor check --format json``)::

    {"findings": [{"rule", "severity", "title", "message", "basis", "evidence": [{"node",
       "file", "line", "time", "kind", "basis", "excerpt"}], "evidence_total", "subjects",
       "first_seen", "last_seen", "fix", "fingerprint", "baseline_state"}],
     "errors": [{"type": "input", "path", "message", "partial"}
                | {"type": "rule", "rule", "message"} | {"type": "no-logs", "message"}],
     "absent": [{"rule", "subjects", "fingerprint"}],
     "summary": {"total", "by_severity", "by_rule", "new", "unchanged", "absent", "failing",
                 "fail_on", "passed", "status", "complete", "not_read", "rules_run",
                 "rule_errors", "events", "files", "first_time", "last_time", "config",
                 "input_errors"}}

``summary.passed`` is true exactly when the exit status is 0 (the text says "passed" then and
only then); ``summary.status`` is one of ``logdoctor.verdict.STATUSES``; ``summary.complete``
is false when an input was not read (or only partly: ``partial``), a rule raised, or no record
was read.

Times are ISO 8601 with milliseconds: UTC with a ``Z``, or in the zone a caller asks for
(``--display-tz``) with its offset (``2026-11-16T02:16:47.942-05:00``). Log text is kept as
written (JSON escapes control characters); lone surrogates, which no UTF-8 encoder accepts, are
written as ``\\udXXX`` text.
"""

from __future__ import annotations

import json
import re
from typing import Any, BinaryIO

from logdoctor.baseline import finding_fingerprint
from logdoctor.model import Evidence, Finding
from logdoctor.table import iso
from logdoctor.timestamps import Zone
from logdoctor.verdict import CheckReport

__all__ = ["errors_list", "findings_document", "safe", "write_json"]

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def safe(value: str) -> str:
    """Text any UTF-8 encoder accepts: lone surrogates become ``\\udXXX`` text."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", value)


def evidence_dict(e: Evidence, zone: Zone | None = None) -> dict[str, Any]:
    """The JSON form of one evidence line."""
    return {
        "node": safe(e.node),
        "file": safe(e.file),
        "line": e.line,
        "time": iso(e.time, zone, precision="ms"),
        "kind": e.kind,
        "basis": e.basis,
        "excerpt": safe(e.excerpt),
    }


def finding_dict(f: Finding, state: str = "new", zone: Zone | None = None) -> dict[str, Any]:
    """The JSON form of one finding."""
    return {
        "rule": f.rule,
        "severity": str(f.severity),
        "title": f.title,
        "message": safe(f.message),
        "basis": f.basis,
        "evidence": [evidence_dict(e, zone) for e in f.evidence],
        "evidence_total": f.evidence_total,
        "subjects": [safe(s) for s in f.subjects],
        "first_seen": iso(f.first_seen, zone, precision="ms"),
        "last_seen": iso(f.last_seen, zone, precision="ms"),
        "fix": list(f.fix),
        "fingerprint": finding_fingerprint(f),
        "baseline_state": state,
    }


def findings_document(report: CheckReport, zone: Zone | None = None) -> dict[str, Any]:
    """The JSON document of a check (times in ``zone`` when given, else UTC)."""
    summary = report.summary()
    summary["first_time"] = iso(report.first_time, zone, precision="ms")
    summary["last_time"] = iso(report.last_time, zone, precision="ms")
    summary["input_errors"] = [
        {"path": safe(e["path"]), "message": safe(e["message"])} for e in summary["input_errors"]
    ]
    summary["not_read"] = safe(summary["not_read"])
    summary["rule_errors"] = [
        {"rule": e["rule"], "message": safe(e["message"])} for e in summary["rule_errors"]
    ]
    if summary["config"] is not None:
        summary["config"] = safe(summary["config"])
    return {
        "findings": [finding_dict(f, report.state(f), zone) for f in report.findings],
        "errors": errors_list(report),
        "absent": [
            {
                "rule": e.rule,
                "subjects": [safe(s) for s in e.subjects],
                "fingerprint": e.fingerprint,
            }
            for e in report.absent
        ],
        "summary": summary,
    }


def errors_list(report: CheckReport) -> list[dict[str, Any]]:
    """What went wrong, for the JSON ``errors``: inputs not read or only partly (``type``
    ``input``, ``partial`` true for the latter), rules that raised (``rule``), and
    ``no-logs`` when not one log record was read."""
    out: list[dict[str, Any]] = [
        {"type": "input", "path": safe(e.path), "message": safe(e.message), "partial": e.partial}
        for e in report.errors
    ]
    out += [
        {"type": "rule", "rule": f.rule, "message": safe(f.message)} for f in report.rule_errors
    ]
    if report.read_nothing:
        out.append({"type": "no-logs", "message": safe(report.not_read)})
    return out


def write_json(report: CheckReport, out: BinaryIO, zone: Zone | None = None) -> None:
    """Write the JSON document (UTF-8, indented, newline-terminated)."""
    text = json.dumps(findings_document(report, zone), indent=2, ensure_ascii=False)
    out.write((text + "\n").encode("utf-8"))
