"""A timeline (:func:`logdoctor.correlate.timeline`) for a terminal (rich) or as JSON lines."""

from __future__ import annotations

import json
from typing import BinaryIO

import polars as pl
from rich import box
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


def detail(row: dict[str, object]) -> str:
    """The fields of a timeline row that say what happened (the message when it has none)."""
    parts = []
    for key, label in (
        ("grant", "grant"),
        ("reason", "reason"),
        ("server", "server"),
        ("param", "param"),
        ("value", "value"),
    ):
        if row.get(key):
            parts.append(f"{label}={row[key]}")
    token = row.get("token_id")
    if token:
        text = str(token)
        parts.append(f"id={text[:8]}…" if len(text) > 9 else f"id={text}")
    return " ".join(parts) if parts else str(row.get("summary") or "")


def timeline_table(frame: pl.DataFrame, *, limit: int) -> Table:
    """A table of the first ``limit`` timeline rows (times as MM-DD HH:MM:SS.mmm UTC; the
    caller prints the date range with the year)."""
    t = Table(
        show_header=True, header_style="bold", expand=False, box=box.SIMPLE_HEAD, pad_edge=False
    )
    t.add_column("UTC", no_wrap=True)
    t.add_column("node", no_wrap=True, overflow="ellipsis", max_width=16)
    t.add_column("kind", no_wrap=True, overflow="ellipsis", max_width=20)
    t.add_column("user / device", overflow="fold", max_width=22)
    t.add_column("detail", overflow="fold")
    for row in frame.head(limit).iter_rows(named=True):
        time = row["time"].strftime("%m-%d %H:%M:%S.%f")[:-3] if row["time"] else "?"
        who = " ".join(x for x in (row["user"], row["device"]) if x)
        t.add_row(
            Text(time),
            Text(clean(row["node"], 20)),
            Text(clean(row["kind"], 22), style=_KIND_STYLE.get(row["kind"] or "", "")),
            Text(clean(who, 40)),
            Text(clean(detail(row), 300)),
        )
    return t


def write_timeline_jsonl(frame: pl.DataFrame, out: BinaryIO) -> None:
    """One JSON object per timeline row (times ISO 8601 UTC with ``Z``)."""
    for row in frame.iter_rows(named=True):
        row["time"] = iso(row["time"])
        doc = {k: safe(v) if isinstance(v, str) else v for k, v in row.items()}
        out.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))
