"""Text for people: the commands' tables (as :class:`~logdoctor.outputs.sheet.Sheet`), times
in the logs' zone, paths relative to the input, rule text without its markup, lines wrapped at
spaces with a hanging indent.

Log text is attacker-controlled: it is shown through ``rich.text.Text`` (never parsed as
markup) and stripped of control characters (an ANSI escape in a log must not drive the
terminal). rich is imported only by the functions that build rich objects.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from logdoctor.outputs.sheet import Cell, Column, Sheet
from logdoctor.table import ParseStats
from logdoctor.timestamps import Zone, offset_text

if TYPE_CHECKING:
    from rich.text import Text

__all__ = [
    "LEVEL_STYLE",
    "clean",
    "events_sheet",
    "hang",
    "plain_markup",
    "relative_paths",
    "stats_rows",
    "stats_sheet",
    "top_kinds",
    "when",
]

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LEVEL_STYLE = {"ERROR": "bold red", "FATAL": "bold red", "WARN": "yellow", "DEBUG": "dim"}


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


# -- rule text -----------------------------------------------------------------------------------

_LITERAL = re.compile(r"``(.+?)``|(?<![`\w])`([^`\n]+?)`(?![`\w])")
_STRONG = re.compile(r"(?<![\w*])\*\*(\S(?:.*?\S)?)\*\*(?![\w*])")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:[^*\n]*?\S)?)\*(?![\w*])")


def plain_markup(text: str) -> str:
    """Rule documentation (reST / Markdown) as terminal text: ````code````, ```code```,
    ``*emphasis*`` and ``**strong**`` lose their marks; ``token.*`` and ``a * b`` are kept."""
    text = _LITERAL.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = _STRONG.sub(r"\1", text)
    return _EMPHASIS.sub(r"\1", text)


# -- wrapping ------------------------------------------------------------------------------------

_WORD = re.compile(r"\S+")


def _breaks(plain: str, first: int, rest: int) -> list[int]:
    """Where to cut ``plain`` into a line of at most ``first`` columns, then lines of at most
    ``rest``, at spaces only (a word longer than a line gets a line of its own, whole: an id
    is never split)."""
    offsets: list[int] = []
    start, room = 0, first
    for m in _WORD.finditer(plain):
        if m.end() - start > room and m.start() > start:
            offsets.append(m.start())
            start, room = m.start(), rest
    return offsets


def hang(first: int, body: Text, rest: int, width: int | None) -> list[Text]:
    """``body`` indented by ``first`` columns, its wrapped lines by ``rest`` (a hanging
    indent when ``rest`` is larger), cut at spaces only; one line when ``width`` is None."""
    from rich.text import Text

    if width is None:
        return [Text(" " * first) + body]
    offsets = _breaks(body.plain, max(20, width - first), max(20, width - rest))
    out = []
    for i, line in enumerate(body.divide(offsets)):
        line.rstrip()
        out.append(Text(" " * (rest if i else first)) + line)
    return out


# -- times and paths -----------------------------------------------------------------------------


def when(
    t: datetime | None, zone: Zone, *, date: str = "%Y-%m-%d ", ms: bool = True, offset: bool = True
) -> str:
    """``2026-11-16 02:16:47.942 -05:00``: ``t`` in ``zone``; ``?`` when unknown. ``date`` is
    the date part's format (``%m-%d `` for a compact column, empty for none)."""
    if t is None:
        return "?"
    local = (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).astimezone(zone.tz)
    text = local.strftime(date + "%H:%M:%S")
    if ms:
        text += f".{local.microsecond // 1000:03d}"
    if offset:
        text += " " + offset_text(local.utcoffset())
    return text


def relative_paths(inputs: Sequence[str]) -> Callable[[str], str]:
    """A function that shows a file's path relative to the input it was found in: with one
    folder or archive given, the path inside it (``ucm-pub/tomcat/logs/...``); with several,
    the path below their common parent folder. A path outside every input is kept."""
    bases = _bases(inputs)

    def rel(path: str) -> str:
        for base in bases:
            if path.startswith(base) and len(path) > len(base):
                return path[len(base) :]
        return path

    return rel


def _bases(inputs: Sequence[str]) -> list[str]:
    norm = [os.path.normpath(p) for p in inputs if p not in ("", "-")]
    if len(norm) == 1:
        p = norm[0]
        return [p.rstrip("/") + "/", p + "!"] if p not in (".", "/") else [p + "/"]
    if not norm:
        return []
    try:
        common = os.path.commonpath(norm)
    except ValueError:  # absolute and relative inputs mixed
        return []
    if common in ("", "."):
        return []
    if common in norm:  # one input holds the others: keep its name
        common = os.path.dirname(common)
        if not common:
            return []
    return [common.rstrip("/") + "/"]


# -- the sheets of the commands ------------------------------------------------------------------


def top_kinds(kinds: dict[str, int], n: int = 3) -> list[tuple[str, int]]:
    """The ``n`` most frequent kinds, ties by name (the same order on every run)."""
    return sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def stats_sheet(stats: Sequence[ParseStats], path: Callable[[str], str] = str) -> Sheet:
    """One row per file: path (``path`` shortens it), family, node, lines, records,
    malformed, unrecognized, decode errors, top kinds (or the error; "empty file" for a file
    without a line)."""
    cols = (
        Column("file"),
        Column("family"),
        Column("node"),
        Column("lines", right=True),
        Column("records", right=True),
        Column("malformed", right=True),
        Column("unrecognized", right=True),
        Column("decode errors", right=True),
        Column("top kinds", free=True),
    )
    sheet = Sheet(cols)
    for st in stats:
        name = Cell(clean(path(st.path)))
        node = Cell(clean(st.node or "-"))
        if st.error is not None:
            sheet.add(name, "-", node, "", "", "", "", "", Cell("error: " + clean(st.error), "red"))
            continue
        sheet.add(
            name,
            st.family or "-",
            node,
            f"{st.lines:,}",
            f"{st.records:,}",
            Cell(f"{st.malformed:,}", "yellow" if st.malformed else ""),
            Cell(f"{st.unrecognized:,}", "yellow" if st.unrecognized else ""),
            f"{st.decode_errors:,}",
            ", ".join(f"{k} {v:,}" for k, v in top_kinds(st.kinds)) if st.lines else "empty file",
        )
    return sheet


def stats_rows(stats: Sequence[ParseStats], path: Callable[[str], str] = str) -> list[list[str]]:
    """The stats as TSV / CSV rows: plain numbers, the kinds as ``kind=count`` (all of them,
    by count then name), the error in the last column."""
    rows = []
    for st in stats:
        kinds = " ".join(f"{k}={v}" for k, v in top_kinds(st.kinds, len(st.kinds)))
        rows.append(
            [
                path(st.path),
                st.family or "",
                st.node or "",
                str(st.lines),
                str(st.records),
                str(st.malformed),
                str(st.unrecognized),
                str(st.decode_errors),
                kinds if st.error is None else "error: " + st.error,
            ]
        )
    return rows


def events_sheet(frame: pl.DataFrame, zone: Zone, *, limit: int) -> Sheet:
    """The first ``limit`` events: time (in ``zone``), node, line, level, kind, user,
    message (free text)."""
    sheet = Sheet(
        (
            Column("time"),
            Column("node"),
            Column("line", right=True),
            Column("level"),
            Column("kind"),
            Column("user"),
            Column("message", free=True),
        )
    )
    for row in frame.head(limit).iter_rows(named=True):
        level = row["level"] or ""
        sheet.add(
            when(row["time"], zone),
            clean(row["node"]),
            str(row["line"]),
            Cell(clean(level), LEVEL_STYLE.get(level, "")),
            Cell(clean(row["kind"]), "dim" if row["kind"] == "unrecognized" else ""),
            clean(row["user"]),
            clean(row["message"], 2000),
        )
    return sheet
