"""The JSON document of ``logdoctor stats``: one entry per file plus totals and the nodes
(each with its aliases); and the nodes as lines of text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from logdoctor.ingest.inputs import Ignored
from logdoctor.ingest.nodes import NodeTable
from logdoctor.table import ParseStats

__all__ = ["node_lines", "stats_document"]

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


def stats_document(
    stats: Sequence[ParseStats], ignored: Sequence[Ignored] = (), nodes: NodeTable | None = None
) -> dict[str, Any]:
    """``{"files": [...], "totals": {...}, "ignored": [...], "nodes": [...]}``; unreadable
    files carry "error", partly read ones "partial" (both count in ``totals.errors``);
    ``nodes``: each node's name, aliases, folders and what named it."""
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
        "nodes": [] if nodes is None else nodes.to_dict(),
    }


def node_lines(nodes: NodeTable) -> list[str]:
    """``node ucm-pub (named by service restart), also 10.1.1.10, ucm-pub.example.com``:
    one line per node that has another name, then one per note."""
    out = []
    for n in nodes.nodes:
        if n.aliases:
            out.append(f"node {n.name} (named by {n.named_by}), also {', '.join(n.aliases)}")
    out += [f"node names: {note}" for note in nodes.notes]
    return out
