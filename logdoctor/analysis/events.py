"""A time-ordered event table with fast access by kind, shared by correlation and rules.

Rules ask the same questions of a large table many times ("all refresh-grant refusals", "all
key events"); finding each kind's row positions once (from the narrow ``kind`` column) makes
each question a lookup and a gather of those rows instead of a scan of a million wide rows.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Iterable, Mapping, MutableMapping, Sequence
from functools import cached_property

import polars as pl

from logdoctor.ingest.messages import MessageStore

__all__ = ["Events", "as_events", "in_merged_order", "merge_nodes", "take_merged"]

_SORT = ["time", "node", "file", "line"]

KEEP_ROWS = 50_000
"""A gather of at most this many rows is kept for the whole run; a larger one only while
some reader still holds it (a weak reference): a million-event table's big kinds would
otherwise stay copied, wide, in every combination asked for, long after their last reader."""


def merge_nodes(frame: pl.DataFrame) -> pl.DataFrame:
    """Merge the events of several nodes (and files) into one table in time order.

    Ties keep a stable order by node, file and line; records without a time go last.
    """
    return frame.sort(_SORT, nulls_last=True, maintain_order=True)


def take_merged(box: list[pl.DataFrame], categorical: Collection[str] = ()) -> pl.DataFrame:
    """:func:`merge_nodes` of the one table in ``box``, taken out of it (``box`` is left
    empty), column by column: each column is dropped from the input as soon as it is put in
    time order, so a table no one else holds is never in memory twice (a whole-table sort
    holds the input and its copy until it returns: +0.35 GiB at the peak on 1 M events).

    A column is made one chunk before its gather: a gather from one chunk copies the 16-byte
    string views and shares the text, one across the load's many chunks copies the text too
    (and is several times slower). The columns ``categorical`` are cast to ``Categorical``
    before their gather (the order is found on their text)."""
    frame = box.pop()
    if frame.height == 0:
        return frame.cast({c: pl.Categorical() for c in categorical if c in frame.columns})
    # A load is already in node, file and line order within each time (each file's lines in
    # order, the files one after another): a stable sort by time alone (a tenth of the
    # four-column sort's CPU) then is the four-column sort, as a stable sort is unique. Where
    # it is not (checked on the sort keys alone, as text), the four-column sort is made.
    order = _order(frame, "time")
    if not in_merged_order(frame.select(pl.col(_SORT).gather(order))):
        order = _order(frame, _SORT)
    columns = []
    for name in frame.columns:
        column = frame.get_column(name)
        frame = frame.drop(name)
        if name in categorical:
            column = column.cast(pl.Categorical())
        columns.append(column.rechunk().gather(order))
        del column
    return pl.DataFrame(columns)


def _order(frame: pl.DataFrame, by: str | list[str]) -> pl.Series:
    """The row positions that stable-sort ``frame`` by ``by`` (nulls last)."""
    return frame.select(
        pl.arg_sort_by(by, nulls_last=True, maintain_order=True).alias("_order")
    ).to_series()


def in_merged_order(frame: pl.DataFrame) -> bool:
    """True when ``frame`` is in :func:`merge_nodes`' order, given that it is in time order
    (nulls last): every two rows of one time are in node, file and line order (a null node,
    file or line among them is not checked: False).

    Only the rows whose time equals the row before's are compared (their positions found on
    the time column alone, then node, file and line gathered for those few pairs), not every
    row's node and file names."""
    if frame.height < 2:
        return True
    time = pl.col("time")
    ties = frame.select((time.eq_missing(time.shift(1)).slice(1).arg_true() + 1).alias("_at"))
    at = ties.to_series().cast(pl.UInt32)
    if at.len() == 0:
        return True
    before = at - 1
    pairs = frame.select(
        *(pl.col(c).gather(before).alias(f"_{c}") for c in _SORT[1:]),
        *(pl.col(c).gather(at) for c in _SORT[1:]),
    )
    node, file, line = (pl.col(c) for c in _SORT[1:])
    ordered = (pl.col("_node") < node) | (
        (pl.col("_node") == node)
        & ((pl.col("_file") < file) | ((pl.col("_file") == file) & (pl.col("_line") <= line)))
    )
    return bool(pairs.select(ordered.fill_null(False).all()).item())


class Events:
    """The event table in time order, with the row positions of each kind found once.

    ``of`` gathers a kind's rows by position (cached), so a question about a few kinds never
    filters, nor copies, the whole wide table. ``rows`` may hand over the positions of
    another ``Events`` whose frame has the same rows in the same order (the enriched table
    and the one it was enriched from), so that they are found once per run.
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        *,
        sorted_: bool = False,
        rows: Mapping[str, pl.Series] | None = None,
        messages: MessageStore | None = None,
    ) -> None:
        self.frame = frame if sorted_ else merge_nodes(frame)
        self.messages = messages
        """The text of the rows whose ``message`` is null (:mod:`logdoctor.ingest.messages`)."""
        if rows is not None:
            self.__dict__["rows"] = rows
        self._kept: dict[tuple[str, ...], pl.DataFrame] = {}
        self._merged: dict[tuple[str, ...], pl.Series] = {}
        self._held: MutableMapping[tuple[str, ...], pl.DataFrame] = weakref.WeakValueDictionary()
        self._base: Events | None = None
        self._changed: tuple[str, ...] = ()

    @classmethod
    def derived(cls, base: Events, frame: pl.DataFrame, changed: Sequence[str]) -> Events:
        """Events of ``frame``: ``base``'s rows in the same order, where only the columns
        ``changed`` may differ (the enriched table). Its kinds' rows are ``base``'s, with
        just those columns gathered anew, so both share the copies of every other column."""
        if frame.height != base.frame.height:
            raise ValueError("a derived event table must have its base's rows")
        out = cls(frame, sorted_=True, rows=base.rows, messages=base.messages)
        out._base = base
        out._merged = base._merged  # the same rows: the same merged positions
        out._changed = () if frame is base.frame else tuple(changed)
        return out

    @cached_property
    def rows(self) -> Mapping[str, pl.Series]:
        """Kind -> the (ascending) positions of its rows in ``frame`` (``_row``, UInt32); read
        from the ``kind`` column alone (polars, not numpy: numpy's import alone is ~0.1 CPU-s)."""
        if self.frame.height == 0:
            return {}
        narrow = self.frame.select("kind", pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"))
        parts = narrow.partition_by("kind", as_dict=True, maintain_order=True)
        return {
            str(k[0] if isinstance(k, tuple) else k): v.get_column("_row") for k, v in parts.items()
        }

    def _gather(self, kinds: tuple[str, ...], positions: pl.Series) -> pl.DataFrame:
        if self._base is None:
            return self.frame.select(pl.all().gather(positions))
        part = self._base.of(*kinds)
        if not self._changed:
            return part
        fresh = self.frame.select(pl.col(*self._changed).gather(positions))
        return part.with_columns(fresh.get_columns())

    def of(self, *kinds: str) -> pl.DataFrame:
        """The events of the given kinds, in time order (an empty table if none)."""
        present = tuple(sorted(k for k in dict.fromkeys(kinds) if k in self.rows))
        if not present:
            return self.frame.clear()
        found = self._kept.get(present)
        if found is None:
            found = self._held.get(present)
        if found is not None:
            return found
        part = self._gather(present, self.positions(present))
        if part.height <= KEEP_ROWS:
            self._kept[present] = part
        else:
            self._held[present] = part
        return part

    def positions(self, kinds: Iterable[str]) -> pl.Series:
        """The positions in ``frame`` of the rows of ``kinds`` (``_row``, UInt32), ascending:
        merged in table order, they keep the time order (no re-sort of rows)."""
        present = tuple(sorted(k for k in dict.fromkeys(kinds) if k in self.rows))
        if not present:
            return pl.Series("_row", [], pl.UInt32)
        if len(present) == 1:
            return self.rows[present[0]]
        found = self._merged.get(present)
        if found is None:  # kept: 4 bytes a row, asked for again by lineage, skew, the rules
            # one pass over the kind column (its codes, when Categorical): ascending as found,
            # where concatenating the kinds' positions needs a sort (0.022 -> 0.001 CPU-s for
            # the token lines of 1 M events)
            at = pl.col("kind").is_in(list(present)).arg_true().cast(pl.UInt32).alias("_row")
            found = self._merged[present] = self.frame.select(at).to_series()
        return found

    def where(self, kinds: Iterable[str], condition: pl.Expr, *, last: int = 0) -> pl.DataFrame:
        """``of(*kinds).filter(condition)`` (with ``last``, its last rows only), without
        gathering every column of every row of those kinds: the condition reads only its own
        columns, and every column is gathered for the rows it keeps (not kept)."""
        at = self.positions(kinds)
        if at.len() == 0:
            part = self.of(*kinds).filter(condition)
            return part.tail(last) if last else part
        names = condition.meta.root_names()
        keep = (
            self.frame.select(pl.col(names).gather(at), at.alias("_at"))
            .filter(condition)
            .get_column("_at")
        )
        return self.frame.select(pl.all().gather(keep.tail(last) if last else keep))

    def narrow(self, kinds: Iterable[str], columns: Sequence[str]) -> pl.DataFrame:
        """Only ``columns`` of the events of ``kinds``, in time order: a gather of those
        columns alone, not kept (for a computation that reads a few columns of many rows,
        where :meth:`of` would keep a copy of every column)."""
        present = [k for k in dict.fromkeys(kinds) if k in self.rows]
        if not present:
            return self.frame.clear().select(columns)
        positions = self.positions(present)
        return self.frame.select(pl.col(c).gather(positions) for c in columns)

    @cached_property
    def restarts(self) -> pl.DataFrame:
        """Service (re)starts, in time order: Cisco Service Manager's start alarms in CiscoSyslog
        (``service.started``) and an administrator's service restart or start in AuditApp
        (``audit.service`` whose description says so). ``param`` names the service, ``node`` the
        node it ran on (CiscoSyslog's and AuditApp's NodeID)."""
        rows = self.of("service.started", "audit.service")
        said = (
            pl.col("reason").cast(pl.String).fill_null("").str.to_lowercase().str.contains("start")
        )
        return rows.filter((pl.col("kind") == "service.started") | said)

    def count(self, kind: str) -> int:
        """How many events of a kind there are."""
        found = self.rows.get(kind)
        return 0 if found is None else len(found)

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
