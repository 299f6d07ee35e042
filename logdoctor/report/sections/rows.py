"""What several sections show the same way: input paths and one evidence line."""

from __future__ import annotations

from collections.abc import Sequence

from logdoctor.model import Evidence
from logdoctor.report.drill import FILE_CHARS, kind_meaning
from logdoctor.report.model import EvidenceRow, Limits
from logdoctor.report.text import neutral
from logdoctor.report.views import basename, fmt_time, mark_parts, rel_path

__all__ = ["Paths", "evidence_row"]


class Paths:
    """Paths as shown: relative to the inputs, neutralized (the whole path kept for hovers)."""

    def __init__(self, inputs: Sequence[str]) -> None:
        self.inputs = list(inputs)

    def rel(self, path: str) -> str:
        """``path`` relative to the input it came from, neutralized."""
        return neutral(rel_path(path, self.inputs), FILE_CHARS)

    def full(self, path: str) -> str:
        """The whole ``path``, neutralized."""
        return neutral(path, FILE_CHARS)


def evidence_row(e: Evidence, limits: Limits) -> EvidenceRow:
    """One log line as the report shows it (excerpt cut and its decisive fields marked)."""
    excerpt = neutral(e.excerpt, limits.excerpt_chars)
    return EvidenceRow(
        node=neutral(e.node, limits.name_chars),
        file=neutral(basename(e.file), FILE_CHARS),
        line=int(e.line),
        time=fmt_time(e.time),
        kind=neutral(e.kind, limits.name_chars),
        meaning=kind_meaning(e.kind),
        excerpt=excerpt,
        path=neutral(e.file, FILE_CHARS),
        parts=mark_parts(excerpt),
        basis=e.basis or "",
    )
