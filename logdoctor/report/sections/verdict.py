"""The verdict: the headline, the counts per severity, the first step, and what keeps the
verdict from covering everything (unreadable inputs, failed rules, unchecked rules)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from logdoctor.model import Severity
from logdoctor.report.model import Diagnosis, FindingView, Verdict
from logdoctor.report.sections.rows import Paths
from logdoctor.report.text import neutral
from logdoctor.report.views import code_parts
from logdoctor.table import ParseStats

__all__ = ["verdict"]


def _short_verdict(level: str, counts: Mapping[str, int]) -> str:
    n_bad = counts["error"] + counts["warning"]
    if level in ("error", "warning"):
        return f"{n_bad} problem{'s' if n_bad != 1 else ''} to fix"
    if level == "info":
        return f"no problem, {counts['info']} note{'s' if counts['info'] != 1 else ''}"
    if level == "ok":
        return "no problem found"
    if level == "incomplete":
        notes = (
            f", {counts['info']} note{'s' if counts['info'] != 1 else ''}" if counts["info"] else ""
        )
        return f"incomplete, no problem in what was read{notes}"
    return "logs only, no rule ran"


def _shortfalls(
    diagnosis: Diagnosis, stats: Sequence[ParseStats], paths: Paths
) -> tuple[list[str], list[str]]:
    """What keeps the verdict from covering everything, in words (``gaps``), and the notes
    under the verdict: the diagnosis's own, then those the shortfalls call for."""
    notes = [neutral(n, 500) for n in diagnosis.notes]
    bad = [s for s in stats if s.error is not None]
    partly = [s for s in stats if s.error is None and s.partial is not None]
    gaps = []
    for files, what in ((bad, "could not be read"), (partly, "were only partly read")):
        if files:
            named = ", ".join(paths.rel(s.path) for s in files[:3])  # relative to the input
            more = f" and {len(files) - 3} more" if len(files) > 3 else ""
            gaps.append(f"{len(files)} input(s) {what} ({named}{more})")
    if bad or partly:
        notes.append(
            "Log coverage lists every input that could not be read in full, with the reason."
        )
    if diagnosis.rule_errors:
        gaps.append(f"{len(diagnosis.rule_errors)} rule(s) failed with an internal error")
        notes += [neutral(e, 500) for e in diagnosis.rule_errors]
    return gaps, notes


def _unchecked_note(diagnosis: Diagnosis) -> list[str]:
    unchecked = [u for u in diagnosis.unchecked if u.state == "not checked"]
    if not unchecked:
        return []
    ids = ", ".join(u.rule for u in unchecked[:8]) + (", …" if len(unchecked) > 8 else "")
    return [
        f"{len(unchecked)} rule(s) could not be checked with these inputs ({ids}): "
        "see What could not be checked."
    ]


def _worst(
    findings: Sequence[FindingView], counts: dict[str, int], gaps: Sequence[str], notes: list[str]
) -> Verdict:
    """The verdict when there are findings: the worst one names the first step."""
    incomplete = f"Incomplete: {'; '.join(gaps)}. " if gaps else ""
    worst = findings[0]
    n_bad = counts["error"] + counts["warning"]
    if worst.severity == "info":
        headline = f"No problem at warning or above in what was read; {counts['info']} note(s)."
    else:
        what = "problem" if n_bad == 1 else "problems"
        headline = f"{n_bad} {what} to fix. Worst: {worst.title}"
    step = worst.fix[0] if worst.fix else worst.title
    level = "incomplete" if gaps and worst.severity == "info" else worst.severity
    return Verdict(
        level=level,
        headline=incomplete + headline,
        counts=counts,
        first_step=step,
        first_anchor=worst.anchor,
        notes=tuple(notes),
        first_step_parts=code_parts(step),
        short=_short_verdict(level, counts),
    )


def _clean(
    rules_ran: bool, counts: dict[str, int], gaps: Sequence[str], notes: list[str]
) -> Verdict:
    """The verdict without findings: clean, clean in what was read, or no rule ran."""
    if rules_ran and gaps:
        return Verdict(
            "incomplete",
            f"Incomplete: {'; '.join(gaps)}. No problem found in what was read.",
            counts,
            None,
            None,
            tuple(notes),
            short=_short_verdict("incomplete", counts),
        )
    if rules_ran:
        return Verdict(
            "ok",
            "No problem found in these logs.",
            counts,
            None,
            None,
            tuple(notes),
            short=_short_verdict("ok", counts),
        )
    return Verdict(
        level="unknown",
        headline="The diagnostic rules did not run: this report describes the logs only.",
        counts=counts,
        first_step=None,
        first_anchor=None,
        notes=tuple(notes),
        short=_short_verdict("unknown", counts),
    )


def verdict(
    findings: Sequence[FindingView],
    diagnosis: Diagnosis,
    stats: Sequence[ParseStats],
    events: int,
    paths: Paths,
) -> Verdict:
    """The verdict on ``findings`` (worst first) over ``events`` records read from the
    files of ``stats``; ``unknown`` when no record was read or no rule ran."""
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    gaps, notes = _shortfalls(diagnosis, stats, paths)
    if events == 0:
        return Verdict(
            level="unknown",
            headline="Not analysed: no log record was read"
            + (f" ({'; '.join(gaps)})." if gaps else "."),
            counts=counts,
            first_step=None,
            first_anchor=None,
            notes=tuple(notes),
            short="not analysed, no log record read",
        )
    notes += _unchecked_note(diagnosis)
    if findings:
        return _worst(findings, counts, gaps, notes)
    return _clean(diagnosis.rules_ran, counts, gaps, notes)
