"""Turn rows of the event table (or lines of a configuration file) into ``Evidence``.

A finding, an inferred configuration fact and a timeline all point at the log lines that
support them; this module is the one place that makes those pointers, so that every consumer
shows the same node, file, line, time and excerpt.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from logdoctor.ingest.messages import MessageStore, fill
from logdoctor.model import Evidence

__all__ = ["EXCERPT_CHARS", "excerpt", "from_rows", "spread"]

EXCERPT_CHARS = 300
"""At most this many characters of a record's message are kept in an excerpt."""

_COLS = ("node", "file", "line", "time", "kind", "message", "basis")


def excerpt(message: str | None, limit: int = EXCERPT_CHARS) -> str:
    """The first line of a message, cut to ``limit`` characters (``…`` marks a cut).

    Text is kept as written (control characters included): every output escapes it for its
    own medium.
    """
    text = message or ""
    first, nl, _ = text.partition("\n")
    cut = len(first) > limit
    if cut:
        first = first[: limit - 1]
    return first + ("…" if cut or nl else "")


def spread(frame: pl.DataFrame, limit: int) -> pl.DataFrame:
    """At most ``limit`` rows in time order: the first ones and the last few (to show both
    when a problem started and that it went on)."""
    if frame.height <= limit:
        return frame
    tail = min(5, limit // 3)
    return pl.concat([frame.head(limit - tail), frame.tail(tail)], how="vertical")


def from_rows(
    frame: pl.DataFrame, limit: int | None = None, messages: MessageStore | None = None
) -> tuple[Evidence, ...]:
    """Evidence for each row of ``frame`` (at most ``limit``, spread over the frame); the
    text of rows whose ``message`` is null is fetched from ``messages`` (for those rows only)."""
    if limit is not None:
        frame = spread(frame, limit)
    frame = fill(frame, messages)
    out: list[Evidence] = []
    if "basis" not in frame.columns:  # a frame built without the parser's columns
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("basis"))
    for node, file, line, time, kind, message, basis in frame.select(_COLS).iter_rows():
        out.append(
            Evidence(
                node=node or "",
                file=file or "",
                line=int(line or 0),
                time=time if isinstance(time, datetime) else None,
                kind=kind or "",
                excerpt=excerpt(message),
                basis=basis or None,
            )
        )
    return tuple(out)
