"""Tables as data (:class:`Sheet`), rendered for a terminal, for a pipe, or as TSV / CSV.

On a terminal a sheet is a rich table (:func:`sheet_table`): only "free" text columns wrap,
at spaces; paths, ids and times never do. Anywhere else it is aligned plain lines
(:func:`sheet_lines`): nothing is wrapped or cut (``less -S`` or the terminal folds long
lines). :func:`write_sheet` writes TSV (control characters escaped, never quoted) or CSV
(cells a spreadsheet would run as a formula get a ``'``). Cells hold text already cleaned by
the caller; rich is imported by the renderers only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

__all__ = [
    "SHEET_FORMATS",
    "TSV_ESCAPES",
    "Cell",
    "Column",
    "Sheet",
    "csv_field",
    "sheet_lines",
    "sheet_table",
    "tsv_field",
    "write_sheet",
]

SHEET_FORMATS = ("tsv", "csv")
"""Formats :func:`write_sheet` writes."""


@dataclass(frozen=True)
class Cell:
    """One value: its text (already cleaned) and a rich style (empty for none)."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Column:
    """A column: its heading, alignment, and whether it is free text that may wrap at spaces
    on a terminal (paths, ids and times never wrap)."""

    name: str
    right: bool = False
    free: bool = False


@dataclass
class Sheet:
    """A table as data: columns and rows of cells (as many as columns)."""

    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)

    def add(self, *cells: str | Cell) -> None:
        """Append a row (plain strings are cells without style)."""
        if len(cells) != len(self.columns):
            raise ValueError(f"a row of {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(tuple(c if isinstance(c, Cell) else Cell(c) for c in cells))

    def widths(self) -> list[int]:
        """The widest cell (or heading) of each column."""
        out = [len(c.name) for c in self.columns]
        for row in self.rows:
            for i, cell in enumerate(row):
                out[i] = max(out[i], len(cell.text))
        return out

    def min_width(self, free: int = 24) -> int:
        """Columns a terminal table needs when free text wraps at ``free`` columns and
        nothing else wraps (3 per column for borders and padding)."""
        return (
            sum(
                min(w, free) if c.free else w
                for c, w in zip(self.columns, self.widths(), strict=True)
            )
            + 3 * len(self.columns)
            + 1
        )


def sheet_table(sheet: Sheet) -> Table:
    """The sheet as a rich table: only free columns wrap (at spaces; a word longer than the
    column is folded); every other column keeps its cells whole."""
    from rich.table import Table
    from rich.text import Text

    t = Table(show_header=True, header_style="bold")
    for c in sheet.columns:
        t.add_column(
            c.name,
            justify="right" if c.right else "left",
            no_wrap=not c.free,
            overflow="fold",
            min_width=None if c.free else len(c.name),
        )
    for row in sheet.rows:
        t.add_row(*(Text(cell.text, style=cell.style) for cell in row))
    return t


def sheet_lines(sheet: Sheet, *, header: bool = True) -> Iterator[Text]:
    """The sheet as aligned plain lines (two spaces between columns): nothing wraps, nothing
    is cut; the last column is not padded."""
    from rich.text import Text

    widths = sheet.widths()
    last = len(sheet.columns) - 1

    def line(cells: Sequence[Cell], bold: bool = False) -> Text:
        out = Text()
        for i, (c, cell) in enumerate(zip(sheet.columns, cells, strict=True)):
            if i:
                out.append("  ")
            pad = widths[i] - len(cell.text)
            if c.right:
                out.append(" " * pad)
            out.append(cell.text, style="bold" if bold else cell.style)
            if not c.right and i != last:
                out.append(" " * pad)
        out.rstrip()
        return out

    if header:
        yield line([Cell(c.name) for c in sheet.columns], bold=True)
    for row in sheet.rows:
        yield line(row)


TSV_ESCAPES: dict[str, str] = {
    "\\": "\\\\",
    "\t": "\\t",
    "\n": "\\n",
    "\r": "\\r",
    **{chr(c): f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if c not in (9, 10, 13)},
}
"""How TSV fields write backslash and the control characters (``\\\\``, ``\\t``, ``\\xNN``)."""
_TSV = str.maketrans(TSV_ESCAPES)
FORMULA_STARTS = "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20"
"""First characters that make a spreadsheet read a CSV cell as a formula (full-width forms
included): such cells get a leading ``'`` (OWASP's advice against CSV injection)."""


def tsv_field(value: str) -> str:
    """A TSV field: no tab, newline or control character left (see TSV_ESCAPES)."""
    return value.translate(_TSV)


def csv_field(value: str) -> str:
    """A CSV field that a spreadsheet will not run as a formula (see FORMULA_STARTS)."""
    return "'" + value if value[:1] and value[0] in FORMULA_STARTS else value


def write_sheet(
    sheet: Sheet, fmt: str, out: BinaryIO, raw: Sequence[Sequence[str]] | None = None
) -> None:
    """Write the sheet (or ``raw`` rows of text under its headings) as ``tsv`` or ``csv``
    (UTF-8, a heading line first)."""
    rows: Iterable[Sequence[str]] = (
        raw if raw is not None else ([c.text for c in row] for row in sheet.rows)
    )
    names = [c.name for c in sheet.columns]
    if fmt == "tsv":
        out.write(("\t".join(tsv_field(n) for n in names) + "\n").encode("utf-8"))
        for row in rows:
            out.write(("\t".join(tsv_field(v) for v in row) + "\n").encode("utf-8"))
        return
    if fmt != "csv":
        raise ValueError(f"unknown sheet format {fmt!r} (use {', '.join(SHEET_FORMATS)})")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for row in rows:
        w.writerow([csv_field(v) for v in row])
    out.write(buf.getvalue().encode("utf-8"))
