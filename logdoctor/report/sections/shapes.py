"""The unrecognized-lines section: one row per shape, with examples and the command that
drafts a format for it."""

from __future__ import annotations

from collections.abc import Sequence

from logdoctor.analysis.shapes import Example, Template
from logdoctor.analysis.suggest import suggest_command
from logdoctor.model import Evidence
from logdoctor.report.model import EvidenceRow, Limits, Shape
from logdoctor.report.sections.rows import evidence_row
from logdoctor.report.text import neutral
from logdoctor.report.views import fmt_time

__all__ = ["shapes"]


def shapes(
    templates: Sequence[Template], inputs: Sequence[str], limits: Limits
) -> tuple[Shape, ...]:
    """A row per template of unrecognized lines (:func:`logdoctor.analysis.shapes.mine`)."""

    def row(ex: Example) -> EvidenceRow:
        ev = Evidence(ex.node, ex.file, ex.line, ex.time, "unrecognized", ex.message)
        return evidence_row(ev, limits)

    return tuple(
        Shape(
            shape=neutral(t.text, 200),
            count=t.count,
            nodes=len(t.nodes),
            example=row(t.examples[0]),
            second=row(t.examples[1]) if len(t.examples) > 1 else None,
            family=neutral(t.family, limits.name_chars),
            first=fmt_time(t.first),
            last=fmt_time(t.last),
            command=neutral(suggest_command(inputs or ["BUNDLE"], t.family, t.count), 2000),
        )
        for t in templates
    )
