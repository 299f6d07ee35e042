"""One run of ``parse``: its filters, and how its rows reach the output (streamed chunk by
chunk, one file held whole to be parsed once, or merged by time); the allocator setting a
stream of chunks wants is :func:`logdoctor.cli.allocator.keep_freed_pages`."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO

from logdoctor.cli.errors import EXIT_USAGE
from logdoctor.cli.inputs import not_in_logs, report_input_errors
from logdoctor.cli.options import machine_zone, report_zones, shown_zone
from logdoctor.cli.term import terminal

if TYPE_CHECKING:
    import polars as pl

    from logdoctor.cli.progress import TermProgress
    from logdoctor.ingest.load import Loader
    from logdoctor.timestamps import ZoneBook

__all__ = ["HOLD_BYTES", "ParseRun", "holdable"]


class ParseRun:
    """One run of ``parse``: the filters, where the rows go, the users seen."""

    def __init__(
        self,
        loader: Loader,
        book: ZoneBook,
        out_format: str,
        conds: list[pl.Expr],
        users: Sequence[str],
        display_tz: str | None,
        all_fields: bool,
    ) -> None:
        from logdoctor.outputs.registry import writer

        self.loader = loader
        self.book = book
        self.out_format = out_format
        self.screen = writer("events", out_format).screen
        self.conds = conds  # the command may add the --node condition before the rows come
        self.users = users
        self.display_tz = display_tz
        self.all_fields = all_fields
        self.seen_users: set[str] = set()

    def keep(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows that pass the filters (noting the users seen, for --user)."""
        if self.users:
            self.seen_users.update(frame["user"].drop_nulls().unique().to_list())
        return frame.filter(*self.conds) if self.conds else frame

    def _chunks(self) -> Iterator[pl.DataFrame]:
        """The loader's frames, each to be written alone: a cached file's few-valued columns
        come as the cache stores them, Categorical (the writers take them so; no cast)."""
        from logdoctor.table import CATEGORICAL_COLUMNS

        self.loader.categorical = frozenset(CATEGORICAL_COLUMNS)
        return self.loader.frames()

    def stream(self, fh: BinaryIO) -> None:
        """Write each chunk as soon as it is parsed (memory stays bounded)."""
        for i, chunk in enumerate(self._chunks()):
            self.write(self.keep(chunk), fh, header=i == 0)

    def held(self, fh: BinaryIO) -> None:
        """Every chunk parsed and kept, then written with the canonical node names learnt
        from all of them (one parse where :meth:`stream` needs a first pass for the names)."""
        frames = [self.keep(chunk) for chunk in self._chunks()]
        nodes = self.loader.nodes
        for i in range(len(frames)):
            frame, frames[i] = frames[i], frames[i].clear()  # written chunks are let go
            self.write(nodes.apply(frame), fh, header=i == 0)

    def after_load(self) -> None:
        """After a streamed export: the zone warning, unknown users (exit 1), unreadable
        inputs (exit 2, also when a user was not found: it may be in what was not read)."""
        from logdoctor.analysis.pivots import missing

        report_zones(self.book)
        problem = missing(self.users, self.seen_users, "user") if self.users else None
        if problem:
            raise not_in_logs(problem, self.loader)
        if report_input_errors(self.loader):
            sys.exit(EXIT_USAGE)

    def merged(self, progress: TermProgress, *, by_time: bool) -> pl.DataFrame:
        """Every kept row, with canonical node names, in time order when ``by_time``; then
        the zone warning, and exit 1 for a --user not in the logs."""
        import polars as pl

        from logdoctor.analysis.pivots import missing, time_ordered
        from logdoctor.table import empty_frame

        frames = [self.keep(f) for f in self.loader.frames()]
        progress.stage("merging")
        frame = pl.concat(frames, how="vertical") if frames else empty_frame()
        frame = self.loader.nodes.apply(frame)  # canonical node names (every file read)
        if by_time:
            frame = time_ordered(frame)
        progress.close()  # the warnings and the output come after it
        report_zones(self.book)
        problem = missing(self.users, self.seen_users, "user") if self.users else None
        if problem:
            raise not_in_logs(problem, self.loader)
        return frame

    def write(self, frame: pl.DataFrame, fh: BinaryIO, *, header: bool = True) -> None:
        """Rows in the export format (times in UTC unless --display-tz)."""
        from logdoctor.outputs.registry import events_writer

        zone = machine_zone(self.display_tz, self.book)
        events_writer(self.out_format)(
            frame, self.out_format, fh, header=header, zone=zone, all_fields=self.all_fields
        )

    def show(self, frame: pl.DataFrame, limit: int, color: str) -> None:
        """The first ``limit`` rows as a table on the terminal."""
        from logdoctor.outputs.terminal import events_sheet

        term = terminal(color)
        console = term.console()
        zone = shown_zone(self.display_tz, self.book, frame["node"].drop_nulls().unique())
        term.print_sheet(events_sheet(frame, zone, limit=limit), console)
        if frame.height > limit:
            term.note(
                f"… {frame.height - limit:,} more event(s); use --limit or --format jsonl",
                console,
            )


HOLD_BYTES = 512 << 20
"""The largest file ``parse`` holds whole to parse it once (see :func:`holdable`)."""


def holdable(loader: Loader) -> bool:
    """One file of at most HOLD_BYTES (a compressed one: an eighth, as it expands): its
    parsed rows, about twice its size, may be held while its node names are learnt."""
    if len(loader.files) != 1:
        return False
    lf = loader.files[0]
    try:
        if lf.packed is not None:
            return lf.packed.stat().st_size <= HOLD_BYTES // 8
        return lf.local is not None and lf.local.stat().st_size <= HOLD_BYTES
    except OSError:
        return False
