"""Findings as SARIF 2.1.0 (for GitHub code scanning and other SARIF viewers).

One run; the driver lists every rule that ran (id, name, short and full description, help
text = the rule's documentation page, default level). Each finding is a result with its
first evidence line as location and the others as related locations, the stable
``partialFingerprints`` (``logdoctorFinding/v1``: rule + subjects) and ``baselineState``
(``new`` / ``unchanged``; baseline entries that no longer occur are listed as ``absent``
results). Levels: error -> error, warning -> warning, info -> note.

The run's ``invocations[0]`` says whether the check could do its work:
``executionSuccessful`` is false when an input was not read, a rule raised or no log record
was read, and ``toolExecutionNotifications`` names each of them (an unread input with its
path as location, a rule's internal error with ``associatedRule``).
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO
from urllib.parse import quote

from logdoctor import __version__
from logdoctor.baseline import finding_fingerprint
from logdoctor.model import Evidence, Finding
from logdoctor.outputs.findings import safe
from logdoctor.table import iso
from logdoctor.verdict import CheckReport

__all__ = ["SARIF_SCHEMA", "sarif_document", "write_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "logdoctorFinding/v1"
INFO_URI = "https://example.invalid/logdoctor"


def _uri(path: str) -> str:
    return quote(safe(path).replace("\\", "/"), safe="/:!._-~")


def _location(e: Evidence, index: int | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(e.file)},
            "region": {"startLine": max(1, e.line)},
        },
        "message": {"text": safe(f"{e.node} {e.kind}: {e.excerpt}")},
    }
    if e.basis is not None:
        loc["properties"] = {"basis": e.basis}
    if index is not None:
        loc["id"] = index
    return loc


def _result(f: Finding, index: int, state: str) -> dict[str, Any]:
    text = safe(f.message)
    if f.fix:
        text += " Fix: " + " ".join(f"{i}. {s}" for i, s in enumerate(f.fix, 1))
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": _LEVEL[str(f.severity)],
        "message": {"text": text},
        "partialFingerprints": {FINGERPRINT_KEY: finding_fingerprint(f)},
        "baselineState": state,
        "properties": {
            "subjects": [safe(s) for s in f.subjects],
            "firstSeen": iso(f.first_seen, precision="ms"),
            "lastSeen": iso(f.last_seen, precision="ms"),
            "evidenceTotal": f.evidence_total,
            "basis": f.basis,
        },
    }
    if f.evidence:
        res["locations"] = [_location(f.evidence[0])]
        if len(f.evidence) > 1:
            res["relatedLocations"] = [
                _location(e, i) for i, e in enumerate(f.evidence[1:], start=1)
            ]
    return res


def _invocation(report: CheckReport, index: dict[str, int]) -> dict[str, Any]:
    """Whether the run did its work, and what kept it from it (unread inputs, rule errors)."""
    notes: list[dict[str, Any]] = []
    for e in report.errors:
        notes.append(
            {
                "level": "error",
                "message": {"text": safe(e.line)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.path)}}}],
                "descriptor": {"id": "input-partly-read" if e.partial else "input-not-read"},
            }
        )
    for f in report.rule_errors:
        note: dict[str, Any] = {
            "level": "error",
            "message": {"text": safe(f.message)},
            "descriptor": {"id": "rule-internal-error"},
            "associatedRule": {"id": f.rule},
        }
        if f.rule in index:
            note["associatedRule"]["index"] = index[f.rule]
        notes.append(note)
    if report.read_nothing:
        notes.append(
            {
                "level": "error",
                "message": {"text": safe(report.not_read)},
                "descriptor": {"id": "no-logs"},
            }
        )
    return {
        "executionSuccessful": report.complete,
        "exitCode": report.exit_code,
        "toolExecutionNotifications": notes,
    }


def sarif_document(report: CheckReport) -> dict[str, Any]:
    """The SARIF log of a check."""
    rules = list(report.rules)
    known: set[str] = {r.id for r in rules}
    index: dict[str, int] = {r.id: i for i, r in enumerate(rules)}
    driver_rules = [
        {
            "id": r.id,
            "name": "".join(p.capitalize() for p in r.name.split("_")),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": r.doc.sections["What"]},
            "help": {"text": r.doc.text},
            "defaultConfiguration": {"level": _LEVEL[str(r.severity)]},
            "properties": {"category": r.category, "tags": [r.category]},
        }
        for r in rules
    ]
    results = [
        _result(f, index[f.rule], report.state(f)) for f in report.findings if f.rule in known
    ]
    for e in report.absent:
        if e.rule not in known:
            continue
        results.append(
            {
                "ruleId": e.rule,
                "ruleIndex": index[e.rule],
                "level": "none",
                "message": {"text": safe(f"No longer found: {e.title} ({', '.join(e.subjects)})")},
                "partialFingerprints": {FINGERPRINT_KEY: e.fingerprint},
                "baselineState": "absent",
                "properties": {"subjects": [safe(s) for s in e.subjects]},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "logdoctor",
                        "version": __version__,
                        "informationUri": INFO_URI,
                        "rules": driver_rules,
                    }
                },
                "invocations": [_invocation(report, index)],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def write_sarif(report: CheckReport, out: BinaryIO) -> None:
    """Write the SARIF log (UTF-8, indented, newline-terminated)."""
    text = json.dumps(sarif_document(report), indent=2, ensure_ascii=False)
    out.write((text + "\n").encode("utf-8"))
