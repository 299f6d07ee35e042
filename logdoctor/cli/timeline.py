"""``timeline``: the merged, time-ordered lines about a user, device, node or token."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import EXIT_USAGE, CliError, handle_errors
from logdoctor.cli.inputs import (
    binary_out,
    not_in_logs,
    open_loader,
    report_input_errors,
    require_file_format,
    require_log_files,
)
from logdoctor.cli.options import (
    InputSpec,
    color_option,
    display_tz_option,
    entry_zone,
    event_filter,
    event_filter_options,
    format_option,
    input_options,
    machine_zone,
    output_option,
    report_zones,
    shown_zone,
    zones,
    zones_config_option,
)
from logdoctor.cli.progress import TermProgress
from logdoctor.cli.term import terminal

if TYPE_CHECKING:
    import polars as pl

    from logdoctor.ingest.load import LoadResult
    from logdoctor.timestamps import Zone, ZoneBook


@main.command("timeline")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--user",
    metavar="U",
    help="Lines about user U (any case): the client (Jabber PRT), edge (Expressway) and server"
    " sides, in a side column.",
)
@click.option("--device", metavar="D", help="Lines about device D (CSF..., TCT...; any case).")
@click.option("--node", metavar="N", help="Lines written by node N.")
@click.option(
    "--token",
    metavar="ID",
    help="Lines about token ID, with its lineage; the start of an id is enough (id=5d8e8baf…).",
)
@event_filter_options
@format_option(
    "timeline",
    "text",
    "text: a table (ids cut to 8 characters); tsv, csv, jsonl: every column whole.",
)
@output_option("Write to FILE instead of standard output (tsv, csv, jsonl).")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=500,
    show_default=True,
    help="Rows shown by --format text.",
)
@click.option(
    "--correct-skew",
    is_flag=True,
    help="Shift each node's times by its clock offset (see rule LD903) before merging.",
)
@display_tz_option
@zones_config_option
@color_option
@input_options
@handle_errors
def timeline_cmd(
    paths: Sequence[str],
    user: str | None,
    device: str | None,
    node: str | None,
    token: str | None,
    kinds: Sequence[str],
    since: str | None,
    until: str | None,
    failures: bool,
    out_format: str,
    output: Path | None,
    limit: int,
    correct_skew: bool,
    display_tz: str | None,
    config: Path | None,
    color: str,
    inputs: InputSpec,
) -> None:
    """The merged, time-ordered lines of several nodes about a user, device, node or token
    (and / or of some kinds, failures, a time window).

    Exit 1 (with the closest names) when the user, device, node or token is not in the logs.
    """
    from logdoctor.analysis.sessions import timeline
    from logdoctor.analysis.usertimeline import user_timeline
    from logdoctor.outputs.registry import writer

    if not any((user, device, node, token, kinds, failures, since, until)):
        raise CliError(
            "give --user, --device, --node, --token, --kind, --failures, --since or --until "
            "(what the timeline is about)"
        )
    require_file_format("timeline", out_format, output)
    book = zones(inputs.tz, config)
    filt = event_filter(kinds, since, until, failures, entry_zone(display_tz, book))
    result, enriched, lin, note = _correlated(paths, inputs, book, config, correct_skew)
    report_zones(book)
    _known(result, enriched, user=user, device=device)
    node = None if node is None else _node(result, enriched, node)
    token = None if token is None else _token(result, enriched, token)
    if user is not None and not (device or node or token):
        # a user's lines from the three sides: client (PRT), edge (Expressway), server
        frame = user_timeline(enriched, user)
    else:
        frame = timeline(enriched, user=user, device=device, node=node, token=token, lin=lin)
    conds = filt.conditions()
    if conds:
        frame = frame.filter(*conds)
    if writer("timeline", out_format).screen:
        _print_timeline(frame, limit, color, shown_zone(display_tz, book, _nodes(frame)), note)
    else:
        _write_timeline(frame, out_format, output, display_tz, book)
    if report_input_errors(result):
        sys.exit(EXIT_USAGE)


def _correlated(
    paths: Sequence[str],
    inputs: InputSpec,
    book: ZoneBook,
    config: Path | None,
    correct_skew: bool,
) -> tuple[LoadResult, pl.DataFrame, pl.DataFrame, str]:
    """Load and correlate: the load, the enriched events, the token lineage, and a note
    naming the clock corrections made (``--correct-skew``)."""
    from logdoctor.analysis.events import Events
    from logdoctor.analysis.lineage import enrich, lineage
    from logdoctor.analysis.skew import clock_skew
    from logdoctor.analysis.skew import correct_skew as corrected_times
    from logdoctor.table import CATEGORICAL_COLUMNS

    with TermProgress() as progress:
        loader = open_loader(paths, inputs, zones=book, progress=progress, config=config)
        require_log_files(loader, paths)
        result = loader.result(CATEGORICAL_COLUMNS)
        progress.stage("correlating")
        events = Events(result.frame)
        note = ""
        if correct_skew:
            report = clock_skew(events)
            if report.skewed():
                events = Events(corrected_times(events.frame, report))
                note = "times corrected for clock skew: " + ", ".join(
                    f"{n} {o:+.1f} s" for n, o in report.skewed()
                )
        lin = lineage(events)
        enriched = enrich(events, lin)
    return result, enriched, lin, note


def _known(
    result: LoadResult, enriched: pl.DataFrame, *, user: str | None, device: str | None
) -> None:
    """A user or device the logs do not hold: exit 1 with the closest names."""
    from logdoctor.analysis.pivots import missing

    for value, column in ((user, "user"), (device, "device")):
        problem = (
            missing([value], enriched[column].drop_nulls().unique(), column) if value else None
        )
        if problem:
            raise not_in_logs(problem, result)


def _node(result: LoadResult, enriched: pl.DataFrame, node: str) -> str:
    """The node's name as the logs spell it (an alias, IP address, FQDN or folder works)."""
    from logdoctor.analysis.pivots import missing

    node = result.nodes.resolve(node)
    problem = missing([node], enriched["node"].drop_nulls().unique(), "node")
    if problem:
        raise not_in_logs(problem, result)
    spelled: str = next(n for n in enriched["node"].unique() if n and n.lower() == node.lower())
    return spelled


def _token(result: LoadResult, enriched: pl.DataFrame, token: str) -> str:
    """The whole token id of a prefix (one line when it is ambiguous or unknown)."""
    from logdoctor.analysis.pivots import AmbiguousPrefix, UnknownValue, resolve_prefix

    try:
        return resolve_prefix(token, enriched["token_id"].drop_nulls().unique(), "token")
    except AmbiguousPrefix as exc:
        raise CliError(str(exc)) from None
    except UnknownValue as exc:
        raise not_in_logs(str(exc.args[0]), result) from None


def _nodes(frame: pl.DataFrame) -> pl.Series:
    return frame["node"].drop_nulls().unique()


def _write_timeline(
    frame: pl.DataFrame,
    out_format: str,
    output: Path | None,
    display_tz: str | None,
    book: ZoneBook,
) -> None:
    """``--format tsv|csv|jsonl``: every column whole."""
    from logdoctor.outputs.registry import timeline_writer, writer

    zone = (
        machine_zone(display_tz, book)
        if writer("timeline", out_format).machine_times
        else shown_zone(display_tz, book, _nodes(frame))
    )
    with binary_out(output) as fh:
        timeline_writer(out_format)(frame, out_format, fh, zone)


def _print_timeline(frame: pl.DataFrame, limit: int, color: str, zone: Zone, note: str) -> None:
    """``--format text``: a table of the first ``limit`` lines, their span, the notes."""
    from logdoctor.outputs.terminal import when
    from logdoctor.outputs.timeline import timeline_sheet

    term = terminal(color)
    console = term.console()
    term.print_sheet(timeline_sheet(frame, zone, limit=limit), console)
    more = (
        f"; {frame.height - limit:,} more (use --limit or --format jsonl)"
        if (frame.height > limit)
        else ""
    )
    span = ""
    if frame.height:
        lo, hi = frame["time"].min(), frame["time"].max()
        span = f" from {when(lo, zone, ms=False)} to {when(hi, zone, ms=False)}"  # type: ignore[arg-type]
    term.note(f"{frame.height:,} line(s){span}{more}", console)
    if note:
        term.note(note, console)
