"""Findings as JSON and as text for a terminal (rich).

JSON (``logdoctor check --format json``)::

    {"findings": [{"rule", "severity", "title", "message", "basis", "evidence": [{"node",
       "file", "line", "time", "kind", "basis", "excerpt"}], "evidence_total", "subjects",
       "first_seen", "last_seen", "fix", "fingerprint", "baseline_state"}],
     "absent": [{"rule", "subjects", "fingerprint"}],
     "summary": {"total", "by_severity", "by_rule", "new", "unchanged", "absent", "failing",
                 "fail_on", "passed", "rules_run", "events", "files", "first_time",
                 "last_time", "config", "input_errors"}}

Times are ISO 8601 UTC with milliseconds and a ``Z``. Log text is kept as written (JSON
escapes control characters); lone surrogates, which no UTF-8 encoder accepts, are written as
``\\udXXX`` text.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, BinaryIO

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from logdoctor.baseline import finding_fingerprint
from logdoctor.check import CheckReport
from logdoctor.model import Evidence, Finding
from logdoctor.outputs.terminal import clean

__all__ = [
    "TEXT_EVIDENCE",
    "basis_text",
    "findings_document",
    "iso",
    "safe",
    "text_report",
    "write_json",
    "write_text",
]

TEXT_EVIDENCE = 3
"""Evidence lines shown per finding in the text output."""

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def safe(value: str) -> str:
    """Text any UTF-8 encoder accepts: lone surrogates become ``\\udXXX`` text."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", value)


def iso(t: datetime | None) -> str | None:
    """``2026-11-20T08:45:00.500Z`` (UTC, milliseconds), or None."""
    if t is None:
        return None
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def evidence_dict(e: Evidence) -> dict[str, Any]:
    """The JSON form of one evidence line."""
    return {
        "node": safe(e.node),
        "file": safe(e.file),
        "line": e.line,
        "time": iso(e.time),
        "kind": e.kind,
        "basis": e.basis,
        "excerpt": safe(e.excerpt),
    }


def finding_dict(f: Finding, state: str = "new") -> dict[str, Any]:
    """The JSON form of one finding."""
    return {
        "rule": f.rule,
        "severity": str(f.severity),
        "title": f.title,
        "message": safe(f.message),
        "basis": f.basis,
        "evidence": [evidence_dict(e) for e in f.evidence],
        "evidence_total": f.evidence_total,
        "subjects": [safe(s) for s in f.subjects],
        "first_seen": iso(f.first_seen),
        "last_seen": iso(f.last_seen),
        "fix": list(f.fix),
        "fingerprint": finding_fingerprint(f),
        "baseline_state": state,
    }


def findings_document(report: CheckReport) -> dict[str, Any]:
    """The JSON document of a check."""
    summary = report.summary()
    summary["first_time"] = iso(report.first_time)
    summary["last_time"] = iso(report.last_time)
    summary["input_errors"] = [
        {"path": safe(e["path"]), "message": safe(e["message"])} for e in summary["input_errors"]
    ]
    if summary["config"] is not None:
        summary["config"] = safe(summary["config"])
    return {
        "findings": [finding_dict(f, report.state(f)) for f in report.findings],
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


def write_json(report: CheckReport, out: BinaryIO) -> None:
    """Write the JSON document (UTF-8, indented, newline-terminated)."""
    text = json.dumps(findings_document(report), indent=2, ensure_ascii=False)
    out.write((text + "\n").encode("utf-8"))


_SEV_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def basis_text(basis: str | None) -> str:
    """What a finding's basis means, in a few words (``basis: published (...)``)."""
    what = {
        "published": "published Cisco log lines back its evidence",
        "documented": "weakest evidence: documented behaviour, wording modelled",
        "modelled": "weakest evidence: lines modelled by logdoctor, no public Cisco form",
    }
    if basis is None:
        return "basis: no recognized log line"
    return f"basis: {basis} ({what.get(basis, basis)})"


def _when(t: datetime | None) -> str:
    return "?" if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


def text_report(report: CheckReport) -> Group:
    """A rich renderable of the findings: one block per finding, then the verdict."""
    parts: list[RenderableType] = []

    def indent(text: Text, n: int) -> None:
        parts.append(Padding(text, (0, 0, 0, n)))

    for f in report.findings:
        sev = str(f.severity)
        head = Text()
        head.append(f"{f.rule} ", style="bold")
        head.append(f"{sev:<7}", style=_SEV_STYLE.get(sev, ""))
        head.append(f" {clean(f.title)}")
        if f.subjects:
            head.append(f"  [{clean(', '.join(f.subjects), 120)}]", style="bold")
        state = report.state(f)
        if state != "new":
            head.append(f"  ({state}: in the baseline)", style="dim")
        parts.append(head)
        indent(Text(clean(f.message, 600)), 2)
        indent(
            Text(
                f"seen {_when(f.first_seen)} .. {_when(f.last_seen)} UTC,"
                f" {f.evidence_total} evidence line(s); {basis_text(f.basis)}",
                style="dim",
            ),
            2,
        )
        for e in f.evidence[:TEXT_EVIDENCE]:
            where = f"{e.node} {e.file.rsplit('/', 1)[-1]}:{e.line}"
            line = Text(clean(where, 60), style="dim")
            if e.basis is not None:
                line.append(f" [{e.basis}]", style="dim")
            line.append("  " + clean(e.excerpt, 160), style="")
            indent(line, 4)
        more = f.evidence_total - min(TEXT_EVIDENCE, len(f.evidence))
        if more > 0:
            indent(Text(f"… {more} more (--format json shows up to 20)", style="dim"), 4)
        if f.fix:
            indent(Text("fix:"), 2)
            for i, step in enumerate(f.fix, 1):
                indent(Text(f"{i}. {clean(step)}"), 4)
        parts.append(Text(""))
    s = report.summary()
    by = s["by_severity"]
    verdict = Text()
    verdict.append(
        f"{s['total']} finding(s): {by['error']} error, {by['warning']} warning, {by['info']} info"
    )
    if report.baseline is not None:
        verdict.append(f"; {s['unchanged']} in the baseline, {s['absent']} fixed since")
    verdict.append(
        f"; {s['rules_run']} rule(s) on {s['events']:,} event(s) from {s['files']} file(s)"
    )
    if report.fail_on == "never":
        verdict.append(" (--fail-on never)")
    elif report.failing:
        verdict.append(
            f"; FAILED: {len(report.failing)} at or above {report.fail_on}", style="bold red"
        )
    else:
        verdict.append(f"; passed (nothing new at or above {report.fail_on})", style="green")
    parts.append(verdict)
    return Group(*parts)


def write_text(
    report: CheckReport, out: BinaryIO, *, width: int = 100, color: bool = False
) -> None:
    """Render the text report to a binary stream (no colour unless asked)."""
    import io

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )
    console.print(text_report(report))
    text = "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))
    out.write(safe(text).encode("utf-8"))
