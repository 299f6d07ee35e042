"""The findings section: one view per finding (worst first), the groups the page folds them
into, and the configuration facts (declared against inferred)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from logdoctor.model import Finding, Severity
from logdoctor.report.drill import FILE_CHARS
from logdoctor.report.model import (
    ConfigFact,
    ConfigView,
    FindingGroup,
    FindingView,
    Limits,
    UserLink,
)
from logdoctor.report.sections.rows import evidence_row
from logdoctor.report.text import neutral
from logdoctor.report.views import code_parts, fmt_time, plural, slug, subject_noun

__all__ = ["config_views", "finding_views", "groups", "sort_findings"]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by rule id and subjects."""
    return sorted(findings, key=lambda f: (-Severity(f.severity).rank, f.rule, f.subjects))


def _anchor(rule: str, subjects: Sequence[str], used: set[str]) -> str:
    parts = [p for p in (slug(x) for x in (rule, *subjects)) if p]
    base = "-".join(parts)[:80].rstrip("-") or "finding"
    anchor, i = base, 1
    while anchor in used:
        i += 1
        anchor = f"{base}-{i}"
    used.add(anchor)
    return anchor


def _finding_view(f: Finding, anchor: str, rows: Mapping[str, int], limits: Limits) -> FindingView:
    shown = f.evidence[: limits.evidence_per_finding]
    total = max(f.evidence_total, len(f.evidence))
    fix = tuple(neutral(s, 1000) for s in f.fix)
    message = neutral(f.message, 2000)
    users = tuple(
        UserLink(neutral(u, limits.name_chars), rows.get(u))
        for u in f.users[: limits.finding_users]
    )
    return FindingView(
        anchor=anchor,
        rule=neutral(f.rule, 16),
        severity=Severity(f.severity).value,
        title=neutral(f.title, 200),
        message=message,
        subjects=tuple(neutral(s, limits.name_chars) for s in f.subjects[:50]),
        first_seen=fmt_time(f.first_seen),
        last_seen=fmt_time(f.last_seen),
        fix=fix,
        evidence=tuple(evidence_row(e, limits) for e in shown),
        evidence_more=max(0, total - len(shown)),
        fix_parts=tuple(code_parts(s) for s in fix),
        message_parts=code_parts(message),
        users=users,
        users_more=max(0, len(f.users) - len(users)),
        basis=f.basis or "",
    )


def finding_views(
    ordered: Sequence[Finding], user_rows: Mapping[str, int], limits: Limits
) -> tuple[FindingView, ...]:
    """A view per finding of ``ordered`` (:func:`sort_findings`), each with its own anchor;
    ``user_rows`` maps a user to its row in the users table (the finding links to it)."""
    used: set[str] = set()
    return tuple(
        _finding_view(f, _anchor(f.rule, f.subjects, used), user_rows, limits) for f in ordered
    )


def _noun(rule: str) -> str:
    from logdoctor.rules import get_rule

    try:
        doc = get_rule(rule).doc.sections.get("Detection")
    except KeyError:
        doc = None
    return subject_noun(doc)


def groups(findings: Sequence[Finding], views: Sequence[FindingView]) -> tuple[FindingGroup, ...]:
    """Findings of one rule with the same severity, title and fix, in finding order."""
    keyed: dict[tuple[str, str, str, tuple[str, ...]], list[int]] = {}
    for i, f in enumerate(findings):
        keyed.setdefault((f.rule, f.severity, f.title, f.fix), []).append(i)
    used: set[str] = set()
    out = []
    for key, idx in keyed.items():
        members = tuple(views[i] for i in idx)
        first = members[0]
        anchor = first.anchor if len(members) == 1 else _anchor("group", [first.rule], used)
        noun = _noun(key[0])
        out.append(
            FindingGroup(
                anchor=anchor,
                rule=first.rule,
                severity=first.severity,
                title=first.title,
                noun=plural(noun, len(members)),
                members=members,
                fix_parts=first.fix_parts,
                users=len({u.name for m in members for u in m.users}),
            )
        )
    return tuple(out)


def _config_view(c: ConfigFact, limits: Limits) -> ConfigView:
    shown = c.evidence[: limits.evidence_per_fact]
    return ConfigView(
        name=neutral(c.name, 120),
        subject=neutral(c.subject, limits.name_chars),
        declared=neutral(c.declared, 200) if c.declared is not None else "",
        inferred=neutral(c.inferred, 200) if c.inferred is not None else "",
        status=c.status,
        reason=neutral(c.reason, 500),
        declared_at=neutral(c.declared_at, FILE_CHARS) if c.declared_at else "",
        evidence=tuple(evidence_row(e, limits) for e in shown),
        evidence_more=max(0, max(c.evidence_total, len(c.evidence)) - len(shown)),
    )


def config_views(facts: Sequence[ConfigFact], limits: Limits) -> tuple[ConfigView, ...]:
    """The configuration section: each deployment setting, declared against inferred."""
    return tuple(_config_view(c, limits) for c in facts)
