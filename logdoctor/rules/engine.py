"""Run rules over a context and turn their hits into findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from logdoctor.analysis.evidence import from_rows
from logdoctor.ingest.messages import MessageStore
from logdoctor.model import Evidence, Finding, Severity, weakest_basis
from logdoctor.progress import NULL_PROGRESS, Progress
from logdoctor.rules.catalog import all_rules
from logdoctor.rules.context import Context, Hit
from logdoctor.rules.registry import Rule

__all__ = [
    "EVIDENCE_CAP",
    "USERS_CAP",
    "RuleError",
    "RuleFailure",
    "run",
    "run_rules",
    "select_rules",
    "sort_findings",
]

EVIDENCE_CAP = 20
"""At most this many evidence lines are kept per finding (``evidence_total`` keeps the count)."""
USERS_CAP = 1000
"""At most this many user names are kept per finding."""


class RuleError(RuntimeError):
    """A rule failed (a bug in logdoctor, not in the input)."""


@dataclass(frozen=True)
class RuleFailure:
    """A rule that raised instead of returning its hits: an internal error of that rule.

    The other rules of the run are not affected; this one's findings are unknown (none kept).
    """

    rule: str
    title: str
    error: str
    """The exception's type and message, on one line (``ColumnNotFoundError: "_cur" ...``)."""

    @property
    def message(self) -> str:
        """``internal error in rule LD202: ...`` (one line)."""
        return f"internal error in rule {self.rule}: {self.error}"


def select_rules(
    select: Sequence[str] = (), ignore: Sequence[str] = (), rules: Sequence[Rule] | None = None
) -> list[Rule]:
    """Rules whose id starts with one of ``select`` (all when empty) and with none of
    ``ignore``. Raises ValueError for a pattern that matches no rule."""
    pool = list(all_rules() if rules is None else rules)
    for pattern in (*select, *ignore):
        p = pattern.strip().upper()
        if not p.startswith("LD") or not any(r.id.startswith(p) for r in pool):
            raise ValueError(f"{pattern!r} matches no rule id (e.g. LD101, or LD1 for 1xx)")
    sel = [p.strip().upper() for p in select]
    ign = [p.strip().upper() for p in ignore]
    return [
        r
        for r in pool
        if (not sel or any(r.id.startswith(p) for p in sel))
        and not any(r.id.startswith(p) for p in ign)
    ]


def _merge(hits: Iterable[Hit]) -> list[Hit]:
    """Hits about the same subjects become one (evidence and messages joined)."""
    merged: dict[tuple[str, ...], Hit] = {}
    for h in hits:
        old = merged.get(h.subjects)
        if old is None:
            merged[h.subjects] = h
            continue
        rows = old.rows
        if h.rows is not None:
            rows = h.rows if rows is None else pl.concat([rows, h.rows], how="vertical")
        sev = old.severity
        if h.severity is not None and (sev is None or h.severity.rank > sev.rank):
            sev = h.severity
        merged[h.subjects] = Hit(
            subjects=h.subjects,
            message=old.message if h.message in old.message else f"{old.message} {h.message}",
            rows=rows,
            extra=old.extra + tuple(e for e in h.extra if e not in old.extra),
            severity=sev,
            fix=old.fix or h.fix,
        )
    return list(merged.values())


def _finding(
    rule: Rule, hit: Hit, cap: int | None = EVIDENCE_CAP, messages: MessageStore | None = None
) -> Finding:
    extra = hit.extra
    rows = hit.rows
    if rows is not None and rows.height:
        rows = rows.unique(["node", "file", "line"], keep="first", maintain_order=True)
        rows = rows.sort("time", nulls_last=True, maintain_order=True)
    n_rows = 0 if rows is None else rows.height
    limit = len(extra) + n_rows if cap is None else cap
    room = max(0, limit - min(len(extra), limit))
    evidence: tuple[Evidence, ...] = extra[:limit]
    if rows is not None and n_rows and room:
        evidence += from_rows(rows, room, messages)
    times: list[datetime] = [e.time for e in extra if e.time is not None]
    if rows is not None and n_rows:
        t = rows["time"].drop_nulls()
        if t.len():
            lo, hi = t.min(), t.max()
            if isinstance(lo, datetime) and isinstance(hi, datetime):
                times += [lo, hi]
    bases: list[str | None] = [e.basis for e in extra]
    if rows is not None and n_rows and "basis" in rows.columns:
        bases += rows["basis"].drop_nulls().unique().to_list()
    basis = weakest_basis(bases)
    users: tuple[str, ...] = ()
    if rows is not None and n_rows and "user" in rows.columns:
        names = rows["user"].drop_nulls().unique().sort()
        users = tuple(str(u) for u in names.head(USERS_CAP).to_list() if u)
    return Finding(
        rule=rule.id,
        severity=hit.severity or rule.severity,
        title=rule.title,
        message=hit.message,
        evidence=evidence,
        evidence_total=len(extra) + n_rows,
        subjects=hit.subjects,
        first_seen=min(times) if times else None,
        last_seen=max(times) if times else None,
        fix=hit.fix or rule.doc.fix,
        users=users,
        basis=None if basis is None else basis.value,
    )


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by rule id and subjects (a stable, documented order)."""
    return sorted(findings, key=lambda f: (-Severity(f.severity).rank, f.rule, f.subjects))


def run_rules(
    ctx: Context,
    rules: Sequence[Rule] | None = None,
    *,
    evidence_cap: int | None = EVIDENCE_CAP,
    progress: Progress = NULL_PROGRESS,
) -> tuple[list[Finding], list[RuleFailure]]:
    """Run ``rules`` (default: all), each on its own: the findings of those that ran (sorted)
    and the rules that raised. A rule that raises never hides another rule's findings.

    A finding keeps at most ``evidence_cap`` evidence lines (None: all); ``progress`` hears
    of each rule run (stage ``rules``), whether it raised or not."""
    out: list[Finding] = []
    failures: list[RuleFailure] = []
    pool = all_rules() if rules is None else rules
    progress.stage("rules", len(pool), "rules")
    for rule in pool:
        try:
            found = [_finding(rule, h, evidence_cap, ctx.messages) for h in _merge(rule.func(ctx))]
        except Exception as exc:  # a rule bug is that rule's error, not the run's
            text = " ".join(f"{type(exc).__name__}: {exc}".split())
            failures.append(RuleFailure(rule.id, rule.title, text))
            found = []
        progress.advance(1, rule.id)
        out.extend(found)
    return sort_findings(out), failures


def run(
    ctx: Context,
    rules: Sequence[Rule] | None = None,
    *,
    evidence_cap: int | None = EVIDENCE_CAP,
    progress: Progress = NULL_PROGRESS,
) -> list[Finding]:
    """Run ``rules`` (default: all) and return their findings, sorted; raises RuleError
    (naming every rule that failed) after all of them ran, if any failed. ``evidence_cap``
    and ``progress`` as in :func:`run_rules`."""
    findings, failures = run_rules(ctx, rules, evidence_cap=evidence_cap, progress=progress)
    if failures:
        raise RuleError("; ".join(f"rule {f.rule} failed: {f.error}" for f in failures))
    return findings
