"""A timeline (:func:`logdoctor.correlate.timeline`) for a terminal (rich) or as JSON lines."""

from __future__ import annotations

import json
from typing import BinaryIO

import polars as pl
from rich.table import Table
from rich.text import Text

from logdoctor.outputs.findings import iso, safe
from logdoctor.outputs.terminal import clean

__all__ = ["timeline_table", "write_timeline_jsonl"]

_KIND_STYLE = {
    "token.rejected": "red",
    "authorize.rejected": "red",
    "auth.failure": "red",
    "token.revoked": "yellow",
    "key.regenerated": "bold magenta",
    "config.changed": "bold",
    "config.rejected": "yellow",
}


def timeline_table(frame: pl.DataFrame, *, limit: int) -> Table:
    """A table of the first ``limit`` timeline rows."""
    t = Table(show_header=True, header_style="bold", expand=False)
    for col in (
        "time (UTC)",
        "node",
        "kind",
        "user / device",
        "token",
        "server / reason",
        "summary",
    ):
        t.add_column(
            col, overflow="fold" if col == "summary" else "ellipsis", no_wrap=col != "summary"
        )
    for row in frame.head(limit).iter_rows(named=True):
        time = row["time"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if row["time"] else "?"
        who = " / ".join(x for x in (row["user"], row["device"]) if x)
        token = (row["token_id"] or "")[:13]
        where = " / ".join(x for x in (row["server"], row["reason"]) if x)
        t.add_row(
            Text(time),
            Text(clean(row["node"], 20)),
            Text(clean(row["kind"], 22), style=_KIND_STYLE.get(row["kind"] or "", "")),
            Text(clean(who, 30)),
            Text(clean(token, 13), style="dim"),
            Text(clean(where, 30)),
            Text(clean(row["summary"], 200)),
        )
    return t


def write_timeline_jsonl(frame: pl.DataFrame, out: BinaryIO) -> None:
    """One JSON object per timeline row (times ISO 8601 UTC with ``Z``)."""
    for row in frame.iter_rows(named=True):
        row["time"] = iso(row["time"])
        doc = {k: safe(v) if isinstance(v, str) else v for k, v in row.items()}
        out.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))
