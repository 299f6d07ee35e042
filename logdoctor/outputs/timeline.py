"""A timeline (:func:`logdoctor.analysis.lineage.timeline`) for a terminal, as TSV / CSV, or as JSON
lines.

The terminal view shows ids cut to 8 characters (``id=5d8e8baf…``): every ``--token`` option
takes such a prefix. TSV, CSV and JSON lines keep every column whole.
"""

from __future__ import annotations

import json
from typing import BinaryIO

import polars as pl

from logdoctor.outputs.findings import safe
from logdoctor.outputs.sheet import Cell, Column, Sheet
from logdoctor.outputs.terminal import clean, when
from logdoctor.table import iso
from logdoctor.timestamps import Zone

__all__ = ["KIND_STYLE", "detail", "timeline_rows", "timeline_sheet", "write_timeline_jsonl"]

KIND_STYLE = {
    "token.rejected": "red",
    "authorize.rejected": "red",
    "auth.failure": "red",
    "token.revoked": "yellow",
    "key.regenerated": "bold magenta",
    "config.changed": "bold",
    "config.rejected": "yellow",
}
"""Colours of event kinds on a terminal (failures in red)."""

_DETAIL = ("grant", "reason", "server", "param", "value")


def detail(row: dict[str, object]) -> str:
    """The fields of a timeline row that say what happened (the message when it has none)."""
    parts = [f"{key}={row[key]}" for key in _DETAIL if row.get(key)]
    token = row.get("token_id")
    if token:
        text = str(token)
        parts.append(f"id={text[:8]}…" if len(text) > 9 else f"id={text}")
    return " ".join(parts) if parts else str(row.get("summary") or "")


def timeline_sheet(frame: pl.DataFrame, zone: Zone, *, limit: int) -> Sheet:
    """The first ``limit`` timeline rows: time in ``zone`` (``MM-DD HH:MM:SS.mmm -05:00``;
    the caller prints the date range with the year), side (client, edge, server: when the
    frame has one, :func:`logdoctor.analysis.usertimeline.user_timeline`), node, kind, user,
    device, detail."""
    sided = "side" in frame.columns
    sheet = Sheet(
        (
            Column("time"),
            *((Column("side"),) if sided else ()),
            Column("node"),
            Column("kind"),
            Column("user"),
            Column("device"),
            Column("detail", free=True),
        )
    )
    for row in frame.head(limit).iter_rows(named=True):
        sheet.add(
            when(row["time"], zone, date="%m-%d "),
            *((clean(row["side"]),) if sided else ()),
            clean(row["node"]),
            Cell(clean(row["kind"]), KIND_STYLE.get(row["kind"] or "", "")),
            clean(row["user"]),
            clean(row["device"]),
            clean(detail(row), 2000),
        )
    return sheet


def timeline_rows(frame: pl.DataFrame, zone: Zone | None) -> tuple[list[str], list[list[str]]]:
    """Headings and rows of text for TSV / CSV: every column whole, times ISO 8601 (UTC with
    ``Z``, or in ``zone`` with its offset)."""
    names = list(frame.columns)
    rows = []
    for row in frame.iter_rows(named=True):
        rows.append(
            [
                (iso(v, zone, precision="ms") or "")
                if k == "time"
                else ("" if v is None else safe(str(v)))
                for k, v in row.items()
            ]
        )
    return names, rows


def write_timeline_jsonl(frame: pl.DataFrame, out: BinaryIO, zone: Zone | None = None) -> None:
    """One JSON object per timeline row (times ISO 8601: UTC with ``Z``, or in ``zone`` with
    its offset)."""
    for row in frame.iter_rows(named=True):
        row["time"] = iso(row["time"], zone, precision="ms")
        doc = {k: safe(v) if isinstance(v, str) else v for k, v in row.items()}
        out.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))
