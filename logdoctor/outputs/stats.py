"""The JSON document of ``logdoctor stats``: one entry per file plus totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from logdoctor.model import ParseStats
from logdoctor.sources import Ignored

__all__ = ["stats_document"]

_SUMMED = (
    "bytes",
    "lines",
    "records",
    "malformed",
    "unrecognized",
    "decode_errors",
    "bad_timestamps",
    "nul_bytes",
    "truncated",
)


def stats_document(stats: Sequence[ParseStats], ignored: Sequence[Ignored] = ()) -> dict[str, Any]:
    """``{"files": [...], "totals": {...}, "ignored": [...]}``; unreadable files carry "error",
    partly read ones "partial" (both count in ``totals.errors``)."""
    totals: dict[str, Any] = {k: sum(getattr(s, k) for s in stats) for k in _SUMMED}
    kinds: Counter[str] = Counter()
    for s in stats:
        kinds.update(s.kinds)
    totals["files"] = len(stats)
    totals["errors"] = sum(1 for s in stats if s.error is not None or s.partial is not None)
    totals["kinds"] = dict(sorted(kinds.items()))
    return {
        "files": [s.to_dict() for s in stats],
        "totals": totals,
        "ignored": [{"path": i.path, "reason": i.reason} for i in ignored],
    }
