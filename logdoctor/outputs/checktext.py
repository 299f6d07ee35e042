"""A check's findings for people: the text view (``check``) and the concise view
(``check --format concise``, one line per finding, as ruff prints them).

Text view, per finding: a heading (rule, severity, title, subjects), the message, when it was
seen (times in the display zone, with the offset) and the basis of its evidence (the weakest
of its lines'), the first evidence lines with their times and each line's basis,
the exact commands that show the rest, the numbered fix steps; wrapped lines hang under their
first line. Then a short summary grouped by rule (as pytest's "short test summary info") and
the verdict. Findings in the baseline are hidden unless asked for. Nothing is wrapped when no
width is given (a pipe, a file, a CI log): each evidence line stays one line to grep.

Concise view: ``path:line: LD101 error message`` per finding (the path of its first evidence
line), then the verdict.

Log text is attacker-controlled: control characters are escaped (:func:`clean`) and rich
never parses it as markup.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from rich.console import Console
from rich.text import Text

from logdoctor.model import Finding
from logdoctor.outputs.findings import safe
from logdoctor.outputs.terminal import clean, hang, plain_markup, when
from logdoctor.timestamps import UTC_ZONE, Zone
from logdoctor.verdict import CheckReport

__all__ = [
    "BASIS_TEXT",
    "SUMMARY_SUBJECTS",
    "TEXT_EVIDENCE",
    "TextOptions",
    "basis_text",
    "concise_lines",
    "text_lines",
    "verdict",
    "write_concise",
    "write_text",
]

TEXT_EVIDENCE = 3
"""Evidence lines shown per finding by default."""
SUMMARY_SUBJECTS = 3
"""Subjects named per rule in the short summary (the rest are counted)."""

SEV_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
STATUS_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "incomplete": "bold yellow",
    "not-checked": "bold yellow",
    "internal-error": "bold red",
}
"""The verdict's style by :attr:`~logdoctor.verdict.CheckReport.status`."""


@dataclass(frozen=True)
class TextOptions:
    """How findings are shown."""

    zone: Zone = UTC_ZONE
    """Zone of the times shown."""
    evidence: int | None = TEXT_EVIDENCE
    """Evidence lines per finding; None for all the finding holds."""
    show_unchanged: bool = False
    """Also show findings that are in the baseline."""
    width: int | None = 100
    """Wrap at this many columns (hanging indents); None: never wrap."""
    followup: Callable[[Finding], Sequence[str]] | None = None
    """Commands that show the evidence lines left out (shell-quoted)."""
    path: Callable[[str], str] = str
    """How the concise view shows an evidence file's path."""


def shown(report: CheckReport, opts: TextOptions) -> list[Finding]:
    """The findings to show: the new ones, and those in the baseline when asked."""
    return [f for f in report.findings if opts.show_unchanged or report.state(f) == "new"]


# -- the text view -------------------------------------------------------------------------------


def _heading(f: Finding, state: str) -> Text:
    sev = str(f.severity)
    head = Text()
    head.append(f"{f.rule} ", style="bold")
    head.append(f"{sev:<7}", style=SEV_STYLE.get(sev, ""))
    head.append(f" {clean(f.title)}")
    if f.subjects:
        head.append(f"  [{clean(', '.join(f.subjects), 200)}]", style="bold")
    if state != "new":
        head.append(f"  ({state}: in the baseline)", style="dim")
    return head


BASIS_TEXT = {
    "published": "published Cisco log lines back its evidence",
    "documented": "weakest evidence: documented behaviour, wording modelled",
    "modelled": "weakest evidence: lines modelled by logdoctor, no public Cisco form",
}
"""What a finding's basis means, in a few words."""


def basis_text(basis: str | None) -> str:
    """``basis: modelled (weakest evidence: ...)``; ``basis: no recognized log line``."""
    if basis is None:
        return "basis: no recognized log line"
    return f"basis: {basis} ({BASIS_TEXT.get(basis, basis)})"


def _seen(f: Finding, zone: Zone) -> Text:
    total = f"{f.evidence_total} evidence line(s); {basis_text(f.basis)}"
    if f.first_seen is None:
        return Text(f"{total}; no time (from the deployment file or a file's head)", style="dim")
    lo = when(f.first_seen, zone, ms=False)
    hi = when(f.last_seen, zone, ms=False)
    return Text(f"seen {lo} .. {hi}, {total}", style="dim")


def _evidence(f: Finding, opts: TextOptions) -> list[Text]:
    lines: list[Text] = []
    n = len(f.evidence) if opts.evidence is None else min(opts.evidence, len(f.evidence))
    for e in f.evidence[:n]:
        line = Text()
        if e.time is not None:
            line.append(when(e.time, opts.zone, date="%m-%d ", offset=False) + "  ", style="dim")
        where = f"{e.node} {e.file.rsplit('/', 1)[-1]}:{e.line}" if e.node != "config" else ""
        where = where or f"{e.file.rsplit('/', 1)[-1]}:{e.line}"
        line.append(clean(where, 120), style="dim")
        if e.basis is not None:
            line.append(f" [{e.basis}]", style="dim")
        line.append("  " + clean(e.excerpt or "(no text)", 1000))
        lines += hang(4, line, 8, opts.width)
    more = f.evidence_total - n
    if more > 0:
        cmds = list(opts.followup(f)) if opts.followup is not None else []
        head = Text(f"… {more} more evidence line(s)" + (":" if cmds else ""), style="dim")
        lines += hang(4, head, 8, opts.width)
        for cmd in cmds:
            lines += hang(6, Text(clean(cmd), style="dim"), 8, opts.width)
    return lines


def _finding(f: Finding, state: str, opts: TextOptions) -> list[Text]:
    lines = hang(0, _heading(f, state), 2, opts.width)
    lines += hang(2, Text(clean(f.message, 2000)), 2, opts.width)
    lines += hang(2, _seen(f, opts.zone), 4, opts.width)
    lines += _evidence(f, opts)
    if f.fix:
        lines.append(Text("  fix:"))
        for i, step in enumerate(f.fix, 1):
            label = f"{i}. "
            lines += hang(4, Text(label + clean(plain_markup(step))), 4 + len(label), opts.width)
    lines.append(Text(""))
    return lines


def _subjects(findings: Sequence[Finding]) -> str:
    subjects = [", ".join(f.subjects) for f in findings if f.subjects]
    if not subjects:
        return ""
    named = subjects[:SUMMARY_SUBJECTS]
    rest = len(subjects) - len(named)
    return "[" + "; ".join(named) + (f"; … {rest} more" if rest else "") + "]"


def summary_lines(findings: Sequence[Finding], width: int | None) -> list[Text]:
    """The short summary: one line per rule (findings grouped, worst first), with the
    number of findings and the first subjects."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.rule, []).append(f)
    lines = [Text("short summary (by rule):", style="bold")]
    for rule, fs in groups.items():  # findings come sorted worst first, then by rule
        sev = str(fs[0].severity)
        line = Text("  ")
        line.append(f"{sev:<8}", style=SEV_STYLE.get(sev, ""))
        line.append(f"{rule} ", style="bold")
        line.append(f"x{len(fs):<4}" if len(fs) > 1 else " " * 5)
        line.append(clean(fs[0].title))
        subjects = _subjects(fs)
        if subjects:
            line.append("  " + clean(subjects, 300), style="bold")
        lines += hang(0, line, 20, width)
    return lines


def verdict(report: CheckReport, opts: TextOptions | None = None) -> Text:
    """The one-line verdict: counts, what was read, passed or FAILED, and what was not read
    or failed to run (:meth:`~logdoctor.verdict.CheckReport.verdict`)."""
    opts = opts or TextOptions()
    s = report.summary()
    by = s["by_severity"]
    out = Text()
    out.append(
        f"{s['total']} finding(s): {by['error']} error, {by['warning']} warning, {by['info']} info"
    )
    if report.baseline is not None:
        hidden = "" if opts.show_unchanged else " (not shown; --show-unchanged shows them)"
        out.append(f"; {s['unchanged']} in the baseline{hidden}, {s['absent']} fixed since")
    out.append(f"; {s['rules_run']} rule(s) on {s['events']:,} event(s) from {s['files']} file(s)")
    # passed / FAILED, and what keeps the verdict from covering everything (nothing read,
    # inputs not read or only partly, a rule's internal error): "passed" exactly at exit 0.
    out.append("; " + clean(report.verdict(), 2000), style=STATUS_STYLE[report.status])
    return out


def text_lines(report: CheckReport, opts: TextOptions) -> list[Text]:
    """The text view as lines."""
    findings = shown(report, opts)
    lines: list[Text] = []
    for f in findings:
        lines += _finding(f, report.state(f), opts)
    if findings:
        lines += summary_lines(findings, opts.width)
    lines += hang(0, verdict(report, opts), 2, opts.width)
    return lines


def concise_lines(report: CheckReport, opts: TextOptions) -> list[Text]:
    """One line per finding shown (``path:line: LD101 error message``), then the verdict."""
    lines: list[Text] = []
    for f in shown(report, opts):
        e = f.evidence[0] if f.evidence else None
        where = f"{opts.path(e.file)}:{e.line}" if e is not None else "-:0"
        sev = str(f.severity)
        line = Text()
        line.append(clean(where) + ":", style="bold")
        line.append(f" {f.rule}", style=SEV_STYLE.get(sev, ""))
        line.append(f" {sev} {clean(f.message, 2000)}")
        lines.append(line)
    lines.append(verdict(report, opts))
    return lines


def _write(lines: Sequence[Text], out: BinaryIO, color: bool) -> None:
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=100_000,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=True,
    )
    for line in lines:
        console.print(line)
    text = "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))
    out.write(safe(text).encode("utf-8"))


def write_text(
    report: CheckReport, out: BinaryIO, opts: TextOptions | None = None, *, color: bool = False
) -> None:
    """Write the text view to a binary stream (no colour unless asked)."""
    _write(text_lines(report, opts or TextOptions()), out, color)


def write_concise(
    report: CheckReport, out: BinaryIO, opts: TextOptions | None = None, *, color: bool = False
) -> None:
    """Write the concise view to a binary stream."""
    _write(concise_lines(report, opts or TextOptions()), out, color)


def cwd_relative(path: str) -> str:
    """A path relative to the working folder when it is below it (clickable in an editor),
    else as given; ``archive.zip!member`` keeps its member part."""
    outer, bang, member = path.partition("!")
    try:
        rel = os.path.relpath(outer)
    except ValueError:
        return path
    return (outer if rel.startswith("..") else rel) + bang + member
