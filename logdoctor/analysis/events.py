"""A time-ordered event table with fast access by kind, shared by correlation and rules.

Rules ask the same questions of a large table many times ("all refresh-grant refusals", "all
key events"); partitioning the table by kind once makes each question a lookup instead of a
scan of a million rows.
"""

from __future__ import annotations

from functools import cached_property

import polars as pl

from logdoctor.table import empty_frame

__all__ = ["Events", "as_events", "merge_nodes"]

_SORT = ["time", "node", "file", "line"]


def merge_nodes(frame: pl.DataFrame) -> pl.DataFrame:
    """Merge the events of several nodes (and files) into one table in time order.

    Ties keep a stable order by node, file and line; records without a time go last.
    """
    return frame.sort(_SORT, nulls_last=True, maintain_order=True)


class Events:
    """The event table in time order, partitioned by kind on first use."""

    def __init__(self, frame: pl.DataFrame, *, sorted_: bool = False) -> None:
        self.frame = frame if sorted_ else merge_nodes(frame)
        self._multi: dict[tuple[str, ...], pl.DataFrame] = {}

    @cached_property
    def _parts(self) -> dict[str, pl.DataFrame]:
        if self.frame.height == 0:
            return {}
        parts = self.frame.partition_by("kind", as_dict=True, maintain_order=True)
        return {str(k[0] if isinstance(k, tuple) else k): v for k, v in parts.items()}

    def of(self, *kinds: str) -> pl.DataFrame:
        """The events of the given kinds, in time order (an empty table if none)."""
        present = tuple(k for k in dict.fromkeys(kinds) if k in self._parts)
        if not present:
            return empty_frame()
        if len(present) == 1:
            return self._parts[present[0]]
        key = tuple(sorted(present))
        cached = self._multi.get(key)
        if cached is None:
            # One pass over the ordered table keeps its order (cheaper than re-sorting).
            cached = self.frame.filter(pl.col("kind").is_in(list(key)))
            self._multi[key] = cached
        return cached

    def count(self, kind: str) -> int:
        """How many events of a kind there are."""
        part = self._parts.get(kind)
        return 0 if part is None else part.height

    @cached_property
    def grant_refusals(self) -> pl.DataFrame:
        """``token.rejected`` events that refused a grant at the token endpoint."""
        return self.of("token.rejected").filter(pl.col("grant").is_not_null())

    @cached_property
    def validation_failures(self) -> pl.DataFrame:
        """``token.rejected`` events of a server validating an access token."""
        return self.of("token.rejected").filter(pl.col("grant").is_null())

    @cached_property
    def start(self) -> object:
        """The first event time (or None)."""
        return self.frame["time"].min() if self.frame.height else None

    @cached_property
    def end(self) -> object:
        """The last event time (or None)."""
        return self.frame["time"].max() if self.frame.height else None


def as_events(events: Events | pl.DataFrame) -> Events:
    """``events`` as :class:`Events` (a frame is put in time order once, here)."""
    return events if isinstance(events, Events) else Events(events)
