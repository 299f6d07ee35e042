"""Going from one output to the next: ids by prefix, names without case, close matches, and
the events of several files merged by time.

``timeline`` shows ids cut to 8 characters; :func:`resolve_prefix` turns such a prefix back
into the one id it stands for (or says which ids it could be). UCM user ids and device names
are not case-sensitive: :func:`missing` and :func:`closest` compare them without case.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import polars as pl

__all__ = [
    "AmbiguousPrefix",
    "UnknownValue",
    "closest",
    "missing",
    "resolve_prefix",
    "time_ordered",
]

CANDIDATES_SHOWN = 5
"""Candidates named in an error."""


class AmbiguousPrefix(ValueError):
    """A prefix that several ids start with."""


class UnknownValue(LookupError):
    """A value (id, user, device, node) that the logs do not hold."""


def _trim(prefix: str) -> str:
    # "5d8e8baf…" as copied from a timeline, or with the "id=" label
    text = prefix.strip().rstrip("…").rstrip(".")
    return text[3:] if text.startswith("id=") else text


def resolve_prefix(prefix: str, ids: Iterable[str], what: str = "token") -> str:
    """The one id of ``ids`` that ``prefix`` is (or starts), compared without case.

    Raises :class:`AmbiguousPrefix` listing candidates when several ids start with it, and
    :class:`UnknownValue` (with the closest ids) when none does.
    """
    key = _trim(prefix).lower()
    if not key:
        raise UnknownValue(f"no such {what} {prefix!r}: give an id or the start of one")
    pool = sorted({i for i in ids if i})
    exact = [i for i in pool if i.lower() == key]
    if exact:
        return exact[0]
    hits = [i for i in pool if i.lower().startswith(key)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        shown = ", ".join(hits[:CANDIDATES_SHOWN])
        more = f" and {len(hits) - CANDIDATES_SHOWN} more" if len(hits) > CANDIDATES_SHOWN else ""
        raise AmbiguousPrefix(
            f"{what} {prefix!r} is ambiguous: {len(hits)} ids start with it ({shown}{more}); "
            "give more characters"
        )
    raise UnknownValue(f"no such {what} {prefix!r}" + _hint(key, pool))


def closest(value: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` candidates that look like ``value`` (compared without case)."""
    by_lower: dict[str, str] = {}
    for c in candidates:
        if c:
            by_lower.setdefault(c.lower(), c)
    return [by_lower[m] for m in difflib.get_close_matches(value.lower(), by_lower, n, 0.6)]


def _hint(value: str, candidates: Sequence[str]) -> str:
    if not candidates:
        return " (none in these logs)"
    near = closest(value, candidates)
    if near:
        return f"; closest: {', '.join(near)}"
    shown = ", ".join(candidates[:CANDIDATES_SHOWN])
    more = f" ({len(candidates)} in all)" if len(candidates) > CANDIDATES_SHOWN else ""
    return f"; these logs have {shown}{more}"


def missing(requested: Iterable[str], seen: Iterable[str], what: str) -> str | None:
    """A one-line error for the ``requested`` values that are not among ``seen`` (compared
    without case), naming the closest ones; None when all are there."""
    pool = sorted({s for s in seen if s})
    lower = {s.lower() for s in pool}
    gone = [r for r in requested if r.lower() not in lower]
    if not gone:
        return None
    return "; ".join(f"no such {what} {r!r}{_hint(r, pool)}" for r in gone)


def time_ordered(frame: pl.DataFrame) -> pl.DataFrame:
    """Events of several files merged by time (as lnav shows them). A line without a time
    keeps its place after the last timed line of its file; equal times keep input order."""
    if frame.height < 2:
        return frame
    key = pl.col("time").forward_fill().over("file")
    return frame.sort(key, nulls_last=False, maintain_order=True)
