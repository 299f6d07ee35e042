"""Where the command line writes: a terminal or not, colour or not, how wide.

On a terminal, tables are rich tables that fit the window (only free text wraps, at spaces);
anywhere else (a pipe, a file, a CI log) they are aligned plain lines that nothing wraps, so
no path or id is ever split. Colour follows ``--color auto|always|never``: ``auto`` colours a
terminal unless ``NO_COLOR`` is set (https://no-color.org), and ``FORCE_COLOR`` colours a
pipe (``less -R``); ``always`` and ``never`` win over both.

A reader that leaves early (``logdoctor parse ... | head``) ends the command quietly with
status 0 (:func:`quiet_exit`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import IO, TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from logdoctor.outputs.sheet import Sheet

__all__ = ["COLOR_MODES", "Term", "quiet_exit", "terminal"]

COLOR_MODES = ("auto", "always", "never")
MAX_WIDTH = 160
"""Text views are not wrapped wider than this, however wide the terminal."""


def quiet_exit(code: int = 0) -> NoReturn:
    """The reader of standard output left: point it at /dev/null (so that the interpreter's
    last flush cannot fail) and exit ``code`` (0: as Unix tools on SIGPIPE), silently."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    raise SystemExit(code)


@cache
def _console_class() -> type[Console]:
    """A rich console that leaves quietly (status 0) when its reader is gone (rich is
    imported on first use, not with the command line)."""
    from rich.console import Console

    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            """Exit 0 without a word, as Unix tools do on SIGPIPE."""
            self.quiet = True
            quiet_exit()

    return QuietConsole


def use_color(mode: str, stream: IO[str]) -> bool:
    """Whether to colour ``stream`` under ``--color mode`` and the environment."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return _isatty(stream) and os.environ.get("TERM") != "dumb"


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class Term:
    """Standard output as the commands see it."""

    tty: bool
    color: bool
    width: int | None
    """Columns of the terminal; None when not a terminal (no wrapping)."""
    stream: IO[str]

    @property
    def text_width(self) -> int | None:
        """Where running text wraps: the terminal's width up to MAX_WIDTH; None off one."""
        return None if self.width is None else min(self.width, MAX_WIDTH)

    def console(self) -> Console:
        """A rich console on the stream: this colour choice, and no wrapping off a terminal."""
        return _console_class()(
            file=self.stream,
            width=self.width if self.width is not None else 100_000,
            force_terminal=self.color,
            color_system=("auto" if self.tty else "standard") if self.color else None,
            no_color=not self.color,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=self.width is None,
        )

    def print_lines(self, lines: Iterable[Text], console: Console | None = None) -> None:
        """Print styled lines as they are (no re-wrapping)."""
        con = console or self.console()
        for line in lines:
            con.print(line, soft_wrap=True)

    def print_sheet(self, sheet: Sheet, console: Console | None = None) -> None:
        """A table: a rich table when it fits the terminal with every path and id whole,
        plain aligned lines otherwise (and always off a terminal)."""
        from logdoctor.outputs.sheet import sheet_lines, sheet_table

        con = console or self.console()
        if self.width is not None and sheet.min_width() <= self.width:
            con.print(sheet_table(sheet))
            return
        self.print_lines(sheet_lines(sheet), con)

    def note(self, text: str, console: Console | None = None) -> None:
        """A dim line of commentary after a table."""
        from rich.text import Text

        (console or self.console()).print(Text(text, style="dim"), soft_wrap=True)


def terminal(color: str = "auto", stream: IO[str] | None = None) -> Term:
    """How to write to ``stream`` (standard output by default) under ``--color``."""
    out: Any = stream or sys.stdout
    tty = _isatty(out)
    width = None
    if tty:
        import shutil

        width = max(40, shutil.get_terminal_size((100, 24)).columns)
    return Term(tty=tty, color=use_color(color, out), width=width, stream=out)
