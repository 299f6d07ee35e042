"""Clock skew between nodes, from tokens used on one node and issued on another.

A token issued on node A at ``t_a`` and used (refreshed, validated, rejected, revoked) on node B
at ``t_b`` proves ``clock_B - clock_A <= t_b - t_a``; links the other way bound it from below,
and a key regenerated on the publisher and received by a node links them too. Offsets are
given against a reference node (by default the node that issued most tokens), and
:func:`correct_skew` shifts each node's times onto the reference's clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from logdoctor.analysis.events import Events, as_events
from logdoctor.analysis.evidence import excerpt, from_rows
from logdoctor.analysis.lineage import lineage
from logdoctor.model import USE_KINDS, Evidence

__all__ = ["PairSkew", "SkewReport", "clock_skew", "correct_skew"]


@dataclass(frozen=True)
class PairSkew:
    """What cross-node links say about the clocks of two nodes ``a`` and ``b``.

    A token issued on ``a`` at ``t_a`` and used on ``b`` at ``t_b`` proves
    ``clock_b - clock_a <= t_b - t_a``; links the other way give a lower bound.
    """

    a: str
    b: str
    upper: float | None
    """Smallest ``t_b - t_a`` over links a -> b, seconds (None without such links)."""
    lower: float | None
    """Largest ``t_b - t_a`` over links b -> a, seconds (None without such links)."""
    estimate: float
    """Best estimate of ``clock_b - clock_a`` in seconds (0 when the bounds allow no skew)."""
    links: int
    worst: tuple[Evidence, ...] = ()
    """The issue line and the use line of the link that bounds the skew most."""


@dataclass(frozen=True)
class SkewReport:
    """Clock offsets of nodes against a reference node, from cross-node links."""

    reference: str | None
    offsets: Mapping[str, float] = field(default_factory=dict)
    """node -> seconds its clock is ahead of the reference (negative: behind)."""
    pairs: tuple[PairSkew, ...] = ()
    tolerance: float = 2.0

    def skewed(self) -> list[tuple[str, float]]:
        """Nodes whose offset exceeds the tolerance, largest first."""
        out = [(n, o) for n, o in self.offsets.items() if abs(o) > self.tolerance]
        return sorted(out, key=lambda x: (-abs(x[1]), x[0]))


def _side(end: str, columns: tuple[str, ...]) -> list[pl.Expr]:
    """A link end's columns renamed for it: node -> ``a``, time -> ``ta``, file -> ``fa`` ..."""
    return [pl.col(c).alias(end if c == "node" else c[0] + end) for c in columns]


def _use_side(ev: Events, kinds: Sequence[str], key: str) -> pl.DataFrame:
    """The use end (``b``) of links joined on ``key``: node, time and the line's position in
    the event table (``_pb``: its file, line, message and kind are read for the best links
    only), for the lines of ``kinds`` that name a ``key``."""
    part = ev.narrow(kinds, (key, "node", "time")).with_columns(ev.positions(kinds).alias("_pb"))
    return part.filter(pl.col(key).is_not_null()).select(key, *_side("b", ("node", "time")), "_pb")


def _across(use: pl.DataFrame, issue: pl.DataFrame, key: str) -> pl.DataFrame:
    """Uses joined to their issue on ``key``, kept where the two ends are different nodes."""
    return use.join(issue, on=key, how="inner").filter(pl.col("a") != pl.col("b")).drop(key)


def _links(ev: Events, lin: pl.DataFrame) -> pl.DataFrame:
    """Cross-node causal links: (a, b, d = t_b - t_a, issue file/line, use line's position)."""
    issued = lin.filter(pl.col("issued_at").is_not_null()).select(
        "token_id",
        pl.col("issued_node").alias("a"),
        pl.col("issued_at").alias("ta"),
        pl.col("issued_file").alias("fa"),
        pl.col("issued_line").alias("la"),
    )
    frames = []
    if issued.height and ev.positions(USE_KINDS).len():
        uses = _use_side(ev, USE_KINDS, "token_id")
        if uses.height:
            frames.append(_across(uses, issued, "token_id"))
    regen = (
        ev.of("key.regenerated")
        .filter(pl.col("family") != "certmgmt")
        .select("key", *_side("a", ("node", "time", "file", "line")))
    )
    if regen.height and ev.count("key.replicated"):
        frames.append(_across(_use_side(ev, ["key.replicated"], "key"), regen, "key"))
    if not frames:
        return pl.DataFrame()
    cols = ("a", "b", "ta", "tb", "fa", "la", "_pb")
    links = pl.concat([f.select(cols) for f in frames])
    return links.with_columns(
        ((pl.col("tb") - pl.col("ta")).dt.total_microseconds() / 1e6).alias("d")
    )


def _best(ev: Events, links: pl.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """Per directed pair (a, b): the link with the smallest delay, and how many there are
    (with its use line's file, line, message and kind: ``fb``, ``lb``, ``mb``, ``kb``)."""
    best = (
        links.sort("d")
        .group_by(["a", "b"], maintain_order=True)
        .agg(
            pl.col("d").first().alias("dmin"),
            pl.len().alias("n"),
            pl.col("ta").first(),
            pl.col("tb").first(),
            pl.col("fa").first(),
            pl.col("la").first(),
            pl.col("_pb").first(),
        )
    )
    at = best.get_column("_pb")
    use = ev.frame.select(
        *(pl.col(c).gather(at).alias(f"{c[0]}b") for c in ("file", "line", "message", "kind"))
    )
    rows = best.drop("_pb").with_columns(use.get_columns())
    return {(r["a"], r["b"]): r for r in rows.iter_rows(named=True)}


def _pairs(ev: Events, directed: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[PairSkew]:
    """One bound pair per pair of nodes: a -> b bounds the offset from above, b -> a from
    below."""
    pairs: list[PairSkew] = []
    done: set[tuple[str, str]] = set()
    for a, b in sorted(directed):
        lo_key = (b, a)
        if (a, b) in done or lo_key in done:
            continue
        done.add((a, b))
        fwd = directed.get((a, b))
        back = directed.get(lo_key)
        upper = None if fwd is None else float(fwd["dmin"])
        lower = None if back is None else -float(back["dmin"])
        estimate = _estimate(upper, lower)
        worst_row = fwd if (upper is not None and upper < 0) or back is None else back
        pairs.append(
            PairSkew(
                a=a,
                b=b,
                upper=upper,
                lower=lower,
                estimate=estimate,
                links=int((0 if fwd is None else fwd["n"]) + (0 if back is None else back["n"])),
                worst=_link_evidence(ev, worst_row),
            )
        )
    return pairs


def _reference(pairs: Sequence[PairSkew], lin: pl.DataFrame, reference: str | None) -> str:
    """``reference`` when it is linked, else the node that issued most tokens (a UCM node,
    likely the publisher, keeps the time), else the best linked one."""
    degree: dict[str, int] = {}
    for p in pairs:
        degree[p.a] = degree.get(p.a, 0) + p.links
        degree[p.b] = degree.get(p.b, 0) + p.links
    if reference in degree:
        return str(reference)
    issuers = lin.filter(pl.col("issued_node").is_in(sorted(degree)))["issued_node"]
    counts = issuers.value_counts(sort=True) if issuers.len() else None
    return (
        str(counts["issued_node"][0])
        if counts is not None
        else max(sorted(degree), key=lambda n: degree[n])
    )


def _offsets(pairs: Sequence[PairSkew], ref: str) -> dict[str, float]:
    """Each node's offset from ``ref``, walking the pairs breadth first."""
    offsets = {ref: 0.0}
    queue = deque([ref])
    while queue:
        n = queue.popleft()
        for p in pairs:
            if p.a == n and p.b not in offsets:
                offsets[p.b] = offsets[n] + p.estimate
                queue.append(p.b)
            elif p.b == n and p.a not in offsets:
                offsets[p.a] = offsets[n] - p.estimate
                queue.append(p.a)
    return dict(sorted(offsets.items()))


def clock_skew(
    events: Events | pl.DataFrame,
    lin: pl.DataFrame | None = None,
    *,
    reference: str | None = None,
    tolerance: float = 2.0,
) -> SkewReport:
    """Estimate clock offsets between nodes from tokens used on one node and issued on
    another (and keys replicated from the publisher). ``reference`` defaults to the node that
    issued the most tokens."""
    ev = as_events(events)
    lin = lineage(ev) if lin is None else lin
    links = _links(ev, lin)
    if links.height == 0:
        return SkewReport(reference=reference, tolerance=tolerance)
    pairs = _pairs(ev, _best(ev, links))
    ref = _reference(pairs, lin, reference)
    return SkewReport(
        reference=ref,
        offsets=_offsets(pairs, ref),
        pairs=tuple(pairs),
        tolerance=tolerance,
    )


def _estimate(upper: float | None, lower: float | None) -> float:
    if upper is not None and lower is not None and lower > upper:
        return (lower + upper) / 2
    if upper is not None and upper < 0:
        return upper
    if lower is not None and lower > 0:
        return lower
    return 0.0


def _link_evidence(ev: Events, row: Mapping[str, object] | None) -> tuple[Evidence, ...]:
    if row is None:
        return ()
    # The first row of that file and line: the line number (an integer) picks the few rows
    # whose file is compared (not every row's file name).
    same_line = pl.arg_where(pl.col("line").eq(row["la"])).cast(pl.UInt32).alias("_at")
    at = ev.frame.select(same_line).to_series()
    first = (
        ev.frame.select(pl.col("file").gather(at), at)
        .filter(pl.col("file") == row["fa"])
        .get_column("_at")
        .head(1)
    )
    issue = ev.frame.select(pl.all().gather(first))
    use = Evidence(
        node=str(row["b"]),
        file=str(row["fb"]),
        line=int(row["lb"]),  # type: ignore[call-overload]
        time=row["tb"] if isinstance(row["tb"], datetime) else None,
        kind=str(row["kb"]),
        excerpt=excerpt(str(_use_message(ev, row))),
    )
    return (*from_rows(issue, messages=ev.messages), use)


def _use_message(ev: Events, row: Mapping[str, object]) -> object:
    """The message of a link's use line (``mb``; from the store when the table left it null)."""
    if row["mb"] is not None or ev.messages is None:
        return row["mb"]
    files = pl.Series([row["fb"]], dtype=pl.String)
    return ev.messages.texts(files, pl.Series([row["lb"]], dtype=pl.Int64))[0]


def correct_skew(frame: pl.DataFrame, report: SkewReport) -> pl.DataFrame:
    """The table with each node's times shifted by its offset (to the reference's clock)."""
    shifts = {n: o for n, o in report.offsets.items() if o}
    if not shifts:
        return frame
    us = pl.col("node").replace_strict(
        {n: round(o * 1e6) for n, o in shifts.items()}, default=0, return_dtype=pl.Int64
    )
    return frame.with_columns((pl.col("time") - pl.duration(microseconds=us)).alias("time"))
