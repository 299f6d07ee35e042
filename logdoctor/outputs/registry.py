"""Every output format, in one table: :data:`WRITERS`.

A row names what is written (``writes``: the findings of a check, the event table, a
timeline, a listing ...), the ``--format`` value that picks it, and the function that writes
it, as ``"module:function"`` resolved only when used (so that ``--help`` imports no writer and
this module imports nothing of the pipeline). The command line takes its ``--format`` choices
and its dispatch from here: a new writer is one row (and, for a new ``writes``, one command
that offers it).

A row without a target is drawn on the terminal by the command itself (a table or a live
screen: ``screen``); ``machine_times`` says that the format keeps times in UTC unless the
user names a display zone (JSON, JSON lines, CSV).

Each ``writes`` has one calling convention, typed by the accessor that returns its writers
(:func:`findings_writer`, :func:`events_writer`, :func:`timeline_writer`,
:func:`stats_writer`, :func:`document_writer`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast

if TYPE_CHECKING:
    import polars as pl

    from logdoctor.ingest.inputs import Ignored
    from logdoctor.ingest.nodes import NodeTable
    from logdoctor.outputs.checktext import TextOptions
    from logdoctor.table import ParseStats
    from logdoctor.timestamps import Zone
    from logdoctor.verdict import CheckReport

__all__ = [
    "WRITERS",
    "DocumentWriter",
    "EventsWriter",
    "FindingsStyle",
    "FindingsWriter",
    "StatsSource",
    "StatsWriter",
    "TimelineWriter",
    "Writer",
    "document_writer",
    "events_writer",
    "findings_writer",
    "formats_for",
    "stats_writer",
    "timeline_writer",
    "writer",
]


@dataclass(frozen=True)
class Writer:
    """One output format of one kind of document."""

    writes: str
    """What it writes: findings, events, timeline, stats, listing, fleet, tail."""
    name: str
    """The ``--format`` value."""
    target: str | None = None
    """``"module:function"`` that writes it; None: the command draws it on the terminal."""
    machine_times: bool = False
    """Times in UTC (``Z``) unless a display zone is named (JSON, JSON lines, CSV)."""

    @property
    def screen(self) -> bool:
        """Drawn on the terminal by the command (no file writer)."""
        return self.target is None

    def load(self) -> object:
        """The writing function (imported now)."""
        if self.target is None:
            raise LookupError(f"--format {self.name}: drawn on the terminal, no writer to load")
        module, _, attr = self.target.partition(":")
        fn: object = getattr(importlib.import_module(module), attr)
        return fn


_F = "logdoctor.outputs.registry"

WRITERS: tuple[Writer, ...] = (
    # `check`: the findings, the verdict and what could not be read.
    Writer("findings", "text", f"{_F}:findings_text"),
    Writer("findings", "concise", f"{_F}:findings_concise"),
    Writer("findings", "json", f"{_F}:findings_json", machine_times=True),
    Writer("findings", "sarif", f"{_F}:findings_sarif"),
    Writer("findings", "junit", f"{_F}:findings_junit"),
    # `parse`: the event table.
    Writer("events", "table"),
    Writer("events", "jsonl", "logdoctor.outputs.events:write_events", machine_times=True),
    Writer("events", "csv", "logdoctor.outputs.events:write_events", machine_times=True),
    Writer("events", "tsv", "logdoctor.outputs.events:write_events", machine_times=True),
    Writer("events", "parquet", "logdoctor.outputs.events:write_events", machine_times=True),
    # `timeline`: the merged lines about a user, device, node or token.
    Writer("timeline", "text"),
    Writer("timeline", "tsv", f"{_F}:timeline_sheet"),
    Writer("timeline", "csv", f"{_F}:timeline_sheet", machine_times=True),
    Writer("timeline", "jsonl", f"{_F}:timeline_jsonl", machine_times=True),
    # `stats`: per-file statistics.
    Writer("stats", "table"),
    Writer("stats", "json", f"{_F}:stats_json"),
    Writer("stats", "tsv", f"{_F}:stats_sheet"),
    Writer("stats", "csv", f"{_F}:stats_sheet"),
    # `formats`, `kinds`, `rules`, `service params|lockouts|key-show`: a listing.
    Writer("listing", "table"),
    Writer("listing", "json", f"{_F}:json_document"),
    # `fleet`: the fleet tables findings.* and clusters.* (written by the fleet).
    Writer("fleet", "json", "logdoctor.fleet.table:write_tables"),
    Writer("fleet", "csv", "logdoctor.fleet.table:write_tables"),
    Writer("fleet", "parquet", "logdoctor.fleet.table:write_tables"),
    # `tail`: a live screen, or JSON lines as they come (the tail's own encoder).
    Writer("tail", "live"),
    Writer("tail", "jsonl", "logdoctor.tail.jsonl:event_json"),
)
"""Every output format (see the module's docstring)."""


def formats_for(writes: str) -> tuple[str, ...]:
    """The ``--format`` values of one kind of document, in table order."""
    names = tuple(w.name for w in WRITERS if w.writes == writes)
    if not names:
        raise KeyError(f"no writer writes {writes!r}")
    return names


def writer(writes: str, name: str) -> Writer:
    """The row of ``--format name`` for ``writes``."""
    for w in WRITERS:
        if w.writes == writes and w.name == name:
            return w
    raise KeyError(
        f"--format {name!r}: not a format of {writes} ({', '.join(formats_for(writes))})"
    )


# -- calling conventions, one per kind of document -------------------------------------------


@dataclass(frozen=True)
class FindingsStyle:
    """How a check is written: the text view's options, colour, the zone of machine times."""

    text: TextOptions
    color: bool = False
    zone: Zone | None = None


class FindingsWriter(Protocol):
    """Writes a check's findings."""

    def __call__(self, report: CheckReport, out: BinaryIO, style: FindingsStyle) -> None:
        """Write ``report`` to ``out``."""


class EventsWriter(Protocol):
    """Writes (a chunk of) the event table; ``fmt`` is the row's name."""

    def __call__(
        self,
        frame: pl.DataFrame,
        fmt: str,
        out: BinaryIO,
        *,
        header: bool = True,
        zone: Zone | None = None,
        all_fields: bool = False,
    ) -> None:
        """Write ``frame`` to ``out``."""


class TimelineWriter(Protocol):
    """Writes a timeline frame; ``fmt`` is the row's name."""

    def __call__(self, frame: pl.DataFrame, fmt: str, out: BinaryIO, zone: Zone | None) -> None:
        """Write ``frame`` to ``out``."""


class StatsSource(Protocol):
    """What the statistics are of: a load's files, the files it ignored, its nodes."""

    @property
    def stats(self) -> Sequence[ParseStats]:
        """One per file read."""
        ...

    @property
    def ignored(self) -> Sequence[Ignored]:
        """The files left out, and why."""
        ...

    @property
    def nodes(self) -> NodeTable:
        """The nodes and their names."""
        ...


class StatsWriter(Protocol):
    """Writes the per-file statistics of a load."""

    def __call__(self, source: StatsSource, fmt: str, out: BinaryIO) -> None:
        """Write the statistics to ``out``."""


class DocumentWriter(Protocol):
    """Writes a JSON-ready document (a listing)."""

    def __call__(self, doc: object, out: BinaryIO) -> None:
        """Write ``doc`` to ``out``."""


def findings_writer(name: str) -> FindingsWriter:
    """The writer of ``check --format name``."""
    return cast("FindingsWriter", writer("findings", name).load())


def events_writer(name: str) -> EventsWriter:
    """The writer of ``parse --format name``."""
    return cast("EventsWriter", writer("events", name).load())


def timeline_writer(name: str) -> TimelineWriter:
    """The writer of ``timeline --format name``."""
    return cast("TimelineWriter", writer("timeline", name).load())


def stats_writer(name: str) -> StatsWriter:
    """The writer of ``stats --format name``."""
    return cast("StatsWriter", writer("stats", name).load())


def document_writer(writes: str, name: str) -> DocumentWriter:
    """The writer of a listing's ``--format name``."""
    return cast("DocumentWriter", writer(writes, name).load())


# -- the writers that adapt a module's function to its kind's convention -----------------------


def findings_text(report: CheckReport, out: BinaryIO, style: FindingsStyle) -> None:
    """``check --format text``."""
    from logdoctor.outputs.checktext import write_text

    write_text(report, out, style.text, color=style.color)


def findings_concise(report: CheckReport, out: BinaryIO, style: FindingsStyle) -> None:
    """``check --format concise``."""
    from logdoctor.outputs.checktext import write_concise

    write_concise(report, out, style.text, color=style.color)


def findings_json(report: CheckReport, out: BinaryIO, style: FindingsStyle) -> None:
    """``check --format json``."""
    from logdoctor.outputs.findings import write_json

    write_json(report, out, style.zone)


def findings_sarif(report: CheckReport, out: BinaryIO, style: FindingsStyle) -> None:
    """``check --format sarif``."""
    from logdoctor.outputs.sarif import write_sarif

    write_sarif(report, out)


def findings_junit(report: CheckReport, out: BinaryIO, style: FindingsStyle) -> None:
    """``check --format junit``."""
    from logdoctor.outputs.junit import write_junit

    write_junit(report, out)


def timeline_sheet(frame: pl.DataFrame, fmt: str, out: BinaryIO, zone: Zone | None) -> None:
    """``timeline --format tsv|csv``: every column whole."""
    from logdoctor.outputs.sheet import Column, Sheet, write_sheet
    from logdoctor.outputs.timeline import timeline_rows

    names, rows = timeline_rows(frame, zone)
    write_sheet(Sheet(tuple(Column(n) for n in names)), fmt, out, raw=rows)


def timeline_jsonl(frame: pl.DataFrame, fmt: str, out: BinaryIO, zone: Zone | None) -> None:
    """``timeline --format jsonl``."""
    from logdoctor.outputs.timeline import write_timeline_jsonl

    write_timeline_jsonl(frame, out, zone)


def stats_json(source: StatsSource, fmt: str, out: BinaryIO) -> None:
    """``stats --format json``: the statistics document."""
    from logdoctor.outputs.stats import stats_document

    json_document(stats_document(source.stats, source.ignored, source.nodes), out)


def stats_sheet(source: StatsSource, fmt: str, out: BinaryIO) -> None:
    """``stats --format tsv|csv``: one row per file, paths as found."""
    from logdoctor.outputs.sheet import write_sheet
    from logdoctor.outputs.terminal import stats_rows
    from logdoctor.outputs.terminal import stats_sheet as sheet

    write_sheet(sheet(()), fmt, out, raw=stats_rows(source.stats))


def json_document(doc: object, out: BinaryIO) -> None:
    """A document as indented JSON (ASCII, escapes for the rest) and a newline."""
    out.write(json.dumps(doc, indent=2).encode("ascii") + b"\n")
