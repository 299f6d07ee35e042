"""Terminal views of the event table and of parse statistics (rich renderables).

Log text is attacker-controlled: it is shown through ``rich.text.Text`` (never parsed as
markup) and stripped of control characters (an ANSI escape in a log must not drive the
terminal).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl
from rich.table import Table
from rich.text import Text

from logdoctor.model import ParseStats

__all__ = ["clean", "events_table", "stats_table"]

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LEVEL_STYLE = {"ERROR": "bold red", "FATAL": "bold red", "WARN": "yellow", "DEBUG": "dim"}


def clean(value: object, limit: int | None = None) -> str:
    """Printable one-line text: control and bidi-override characters shown as escapes."""
    s = "" if value is None else str(value)
    s = s.replace("\n", " ⏎ ").replace("\t", " ")
    s = _CTRL.sub(
        lambda m: (
            f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 256 else f"\\u{ord(m.group(0)):04x}"
        ),
        s,
    )
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def events_table(frame: pl.DataFrame, *, limit: int) -> Table:
    """A table of the first ``limit`` events."""
    t = Table(show_header=True, header_style="bold", expand=True, show_lines=False)
    t.add_column("time", no_wrap=True, min_width=23)
    t.add_column("node", no_wrap=True, max_width=16, overflow="ellipsis")
    t.add_column("line", no_wrap=True, justify="right")
    t.add_column("level", no_wrap=True)
    t.add_column("kind", no_wrap=True, max_width=22, overflow="ellipsis")
    t.add_column("user", no_wrap=True, max_width=16, overflow="ellipsis")
    t.add_column("message", overflow="fold", ratio=1, min_width=30)
    for row in frame.head(limit).iter_rows(named=True):
        time = row["time"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if row["time"] else "?"
        level = row["level"] or ""
        t.add_row(
            Text(time),
            Text(clean(row["node"], 24)),
            Text(str(row["line"])),
            Text(clean(level, 6), style=_LEVEL_STYLE.get(level, "")),
            Text(clean(row["kind"], 24), style="dim" if row["kind"] == "unrecognized" else ""),
            Text(clean(row["user"], 24)),
            Text(clean(row["message"], 300)),
        )
    return t


def stats_table(stats: Sequence[ParseStats]) -> Table:
    """One row per file: family, node, lines, records, malformed, unrecognized, errors."""
    t = Table(show_header=True, header_style="bold")
    for col in (
        "file",
        "family",
        "node",
        "lines",
        "records",
        "malformed",
        "unrecognized",
        "decode errors",
        "top kinds",
    ):
        t.add_column(
            col,
            overflow="fold",
            justify="right"
            if col in ("lines", "records", "malformed", "unrecognized", "decode errors")
            else "left",
        )
    for st in stats:
        if st.error is not None:
            t.add_row(
                Text(clean(st.path)),
                Text("-"),
                Text(clean(st.node or "-")),
                "",
                "",
                "",
                "",
                "",
                Text("error: " + clean(st.error), style="red"),
            )
            continue
        top = sorted(st.kinds.items(), key=lambda kv: -kv[1])[:3]
        t.add_row(
            Text(clean(st.path)),
            Text(st.family or "-"),
            Text(clean(st.node or "-")),
            f"{st.lines:,}",
            f"{st.records:,}",
            Text(f"{st.malformed:,}", style="yellow" if st.malformed else ""),
            Text(f"{st.unrecognized:,}", style="yellow" if st.unrecognized else ""),
            f"{st.decode_errors:,}",
            Text(", ".join(f"{k} {v:,}" for k, v in top)),
        )
    return t
