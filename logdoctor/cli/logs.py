"""``formats``, ``kinds``, ``parse``, ``stats``: the event table from the command line."""

from __future__ import annotations

import contextlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from logdoctor.cli._base import (
    _binary_out,
    _inputs,
    _not_in_logs,
    _report_input_errors,
    _require_log_files,
    formats_dir_option,
    input_options,
    main,
)
from logdoctor.cli.errors import EXIT_USAGE, CliError, handle_errors
from logdoctor.cli.options import (
    color_option,
    display_tz_option,
    entry_zone,
    event_filter,
    event_filter_options,
    machine_zone,
    report_zones,
    shown_zone,
    zones,
    zones_config_option,
)
from logdoctor.cli.progress import TermProgress
from logdoctor.cli.term import terminal

if TYPE_CHECKING:
    from logdoctor.ingest.sources import Ignored

# -- formats and kinds ---------------------------------------------------------------------------


@main.group("formats", invoke_without_command=True)
@click.option(
    "--check",
    "check_dir",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Validate the format files of DIR (every sample must parse as declared) and exit.",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@formats_dir_option
@color_option
@click.pass_context
@handle_errors
def formats_cmd(
    ctx: click.Context,
    check_dir: Path | None,
    out_format: str,
    formats_dirs: Sequence[Path],
    color: str,
) -> None:
    """List the log formats logdoctor reads (built-in and --formats-dir).

    `formats suggest` drafts a format file from the records no format recognizes; `formats
    export --lnav DIR` writes lnav format files.
    """
    from logdoctor.ingest.formats.catalog import load_formats

    if ctx.invoked_subcommand is not None:
        return
    if check_dir is not None:
        if not check_dir.is_dir():
            raise CliError(f"{check_dir}: not a folder")
        checked = load_formats([check_dir], builtin=False)
        names = ", ".join(f.name for f in checked)
        samples = sum(len(f.samples) for f in checked)
        click.echo(
            f"ok: {len(checked)} format(s) in {check_dir} ({names}); "
            f"{samples} sample(s) parse as declared"
        )
        return
    formats = load_formats(formats_dirs)
    if out_format == "json":
        doc = [
            {
                "name": f.name,
                "family": f.family,
                "title": f.title,
                "path": f.path,
                "builtin": f.builtin,
                "file_patterns": list(f.file_patterns),
                "events": len(f.events),
                "samples": len(f.samples),
                "url": list(f.urls),
            }
            for f in formats
        ]
        click.echo(json.dumps(doc, indent=2))
        return
    from logdoctor.outputs.sheet import Column, Sheet
    from logdoctor.outputs.terminal import clean

    sheet = Sheet(
        (
            Column("name"),
            Column("family"),
            Column("title", free=True),
            Column("file patterns"),
            Column("events", right=True),
            Column("samples", right=True),
            Column("source"),
        )
    )
    for f in formats:
        sheet.add(
            clean(f.name),
            clean(f.family),
            clean(f.title),
            clean(" ".join(f.file_patterns)),
            str(len(f.events)),
            str(len(f.samples)),
            "built-in" if f.builtin else clean(f.path),
        )
    terminal(color).print_sheet(sheet)


@main.command("kinds")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@formats_dir_option
@color_option
@handle_errors
def kinds_cmd(out_format: str, formats_dirs: Sequence[Path], color: str) -> None:
    """List the event kinds (the `kind` column), what each means and, per log family, the
    basis of its patterns: published (a verbatim public Cisco line backs it), documented (the
    behaviour is documented, the wording modelled) or modelled."""
    from logdoctor.ingest.formats.catalog import kind_bases, load_formats
    from logdoctor.model import EventKind
    from logdoctor.outputs.sheet import Column, Sheet

    bases = kind_bases(load_formats(formats_dirs))
    if out_format == "json":
        doc = {
            k.value: {
                "description": k.description,
                "basis": {fam: list(v) for fam, v in bases.get(k.value, {}).items()},
            }
            for k in EventKind
        }
        click.echo(json.dumps(doc, indent=2))
        return
    sheet = Sheet((Column("kind"), Column("basis (family: basis)"), Column("meaning", free=True)))
    for k in EventKind:
        per = bases.get(k.value, {})
        text = "; ".join(f"{fam}: {', '.join(v)}" for fam, v in per.items()) or "-"
        sheet.add(k.value, text, k.description)
    terminal(color).print_sheet(sheet)


# -- parse and stats -----------------------------------------------------------------------------


@main.command("parse")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "jsonl", "csv", "tsv", "parquet"]),
    default="table",
    show_default=True,
    help="Output format (tsv: one line per event, tab-separated, \\t \\n escaped).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
@event_filter_options
@click.option(
    "--user", "users", multiple=True, metavar="U", help="Only events of user U (any case)."
)
@click.option(
    "--node", "nodes", multiple=True, metavar="N", help="Only events of node N (any case)."
)
@click.option(
    "--order",
    type=click.Choice(["time", "file"]),
    default="time",
    show_default=True,
    help="time: the files merged by time (held in memory); file: file by file as read "
    "(streamed, memory stays bounded).",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Rows shown by --format table.",
)
@click.option(
    "--all-fields",
    is_flag=True,
    help="JSON lines: every column in every line, null where empty (default: a line leaves "
    "out the fields that are null in it).",
)
@display_tz_option
@zones_config_option
@color_option
@input_options
@handle_errors
def parse_cmd(
    paths: Sequence[str],
    out_format: str,
    output: Path | None,
    kinds: Sequence[str],
    since: str | None,
    until: str | None,
    failures: bool,
    users: Sequence[str],
    nodes: Sequence[str],
    order: str,
    limit: int,
    all_fields: bool,
    display_tz: str | None,
    config: Path | None,
    color: str,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Parse logs into the event table and print or export it (merged by time)."""
    import polars as pl

    from logdoctor.analysis.pivots import missing, time_ordered
    from logdoctor.outputs.events import write_events

    book = zones(tz, config)
    filt = event_filter(kinds, since, until, failures, entry_zone(display_tz, book))
    conds = filt.conditions()
    if users:
        conds.append(pl.col("user").str.to_lowercase().is_in([u.lower() for u in users]))
    if out_format == "table" and output is not None:
        raise CliError("--output needs --format jsonl, csv, tsv or parquet")
    if out_format == "parquet" and output is None and sys.stdout.isatty():
        raise CliError("--format parquet is binary: give -o FILE")
    seen_users: set[str] = set()

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        if users:
            seen_users.update(frame["user"].drop_nulls().unique().to_list())
        return frame.filter(*conds) if conds else frame

    loader = _inputs(paths, formats_dirs, tz, set_node, jobs, zones=book, config=config)
    _require_log_files(loader, paths)
    zone = machine_zone(display_tz, book)
    with contextlib.ExitStack() as stack:
        # A file that cannot be written fails before the parse, not after it.
        fh = stack.enter_context(_binary_out(output)) if out_format != "table" else None
        progress = stack.enter_context(TermProgress())
        loader.progress = progress
        one_file = len(loader.files) + len(loader.errors) <= 1  # nothing to merge
        stream = fh is not None and out_format != "parquet" and (order == "file" or one_file)
        if stream or nodes:
            # A first pass learns each node's canonical name, so that every row carries it
            # from the first chunk on and --node matches any of a node's names.
            loader.identify_nodes()
        if nodes:
            wanted = sorted({loader.nodes.resolve(n).lower() for n in nodes})
            conds.append(pl.col("node").str.to_lowercase().is_in(wanted))
        if stream:
            assert fh is not None
            # Stream: each chunk is written as soon as it is parsed (memory stays bounded).
            for i, chunk in enumerate(loader.frames()):
                write_events(
                    keep(chunk), out_format, fh, header=i == 0, zone=zone, all_fields=all_fields
                )
            stack.close()
            _after_load(loader, book, users, seen_users)
            return
        frames = [keep(f) for f in loader.frames()]
        progress.stage("merging")
        frame = pl.concat(frames, how="vertical") if frames else _empty()
        frame = loader.nodes.apply(frame)  # canonical node names (once every file was read)
        if order == "time":
            frame = time_ordered(frame)
        progress.close()  # the warnings and the output come after it
        report_zones(book)
        problem = missing(users, seen_users, "user") if users else None
        if problem:
            raise _not_in_logs(problem, loader)
        if fh is not None:
            write_events(frame, out_format, fh, zone=zone, all_fields=all_fields)
        else:
            from logdoctor.outputs.terminal import events_sheet

            term = terminal(color)
            console = term.console()
            shown = frame["node"].drop_nulls().unique()
            sheet = events_sheet(frame, shown_zone(display_tz, book, shown), limit=limit)
            term.print_sheet(sheet, console)
            if frame.height > limit:
                term.note(
                    f"… {frame.height - limit:,} more event(s); use --limit or --format jsonl",
                    console,
                )
    if _report_input_errors(loader):
        sys.exit(EXIT_USAGE)


def _empty() -> Any:
    """An empty event table."""
    from logdoctor.table import empty_frame

    return empty_frame()


def _after_load(loader: Any, book: Any, users: Sequence[str], seen: set[str]) -> None:
    """After a streamed export: the zone warning, unknown users (exit 1), unreadable inputs
    (exit 2, also when a user was not found: it may be in what was not read)."""
    from logdoctor.analysis.pivots import missing

    report_zones(book)
    problem = missing(users, seen, "user") if users else None
    if problem:
        raise _not_in_logs(problem, loader)
    if _report_input_errors(loader):
        sys.exit(EXIT_USAGE)


@main.command("stats")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json", "tsv", "csv"]),
    default="table",
    show_default=True,
    help="table: paths relative to the input; json, tsv, csv: paths as found.",
)
@color_option
@input_options
@handle_errors
def stats_cmd(
    paths: Sequence[str],
    out_format: str,
    color: str,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Per-file statistics: lines, records, malformed, unrecognized, kinds."""
    from logdoctor.outputs.sheet import write_sheet
    from logdoctor.outputs.stats import node_lines, stats_document
    from logdoctor.outputs.terminal import clean, relative_paths, stats_rows, stats_sheet

    result = _inputs(paths, formats_dirs, tz, set_node, jobs, zones=zones(tz, None))
    _require_log_files(result, paths)
    with TermProgress() as progress:
        result.progress = progress
        for _ in result.frames():  # count only: nothing is kept
            pass
    if out_format == "json":
        report_zones(result.zones)
        doc = stats_document(result.stats, result.ignored, result.nodes)
        click.echo(json.dumps(doc, indent=2))
    elif out_format in ("tsv", "csv"):
        with _binary_out(None) as fh:
            write_sheet(stats_sheet(()), out_format, fh, raw=stats_rows(result.stats))
    else:
        term = terminal(color)
        console = term.console()
        term.print_sheet(stats_sheet(result.stats, relative_paths(paths)), console)
        for line in node_lines(result.nodes):
            term.note(clean(line, 2000), console)
        doc = stats_document(result.stats, result.ignored)["totals"]
        damaged = [
            f"{doc[key]:,} {what}"
            for key, what in (("truncated", "record(s) truncated"), ("nul_bytes", "NUL byte(s)"))
            if doc[key]
        ]
        term.note(
            f"{doc['files']} file(s), {doc['lines']:,} lines, {doc['records']:,} records, "
            f"{doc['malformed']:,} malformed, {doc['unrecognized']:,} unrecognized"
            + "".join(f", {d}" for d in damaged)
            + _ignored_summary(result.ignored)
            + (f"; paths relative to {', '.join(paths)}" if len(paths) == 1 else ""),
            console,
        )
    if _report_input_errors(result):
        sys.exit(EXIT_USAGE)


def _ignored_summary(ignored: Sequence[Ignored]) -> str:
    """ ", N file(s) ignored (why)" for the summary line, by reason."""
    if not ignored:
        return ""
    reasons = Counter(
        "not these log families" if i.reason.startswith("not a log of a family") else i.reason
        for i in ignored
    )
    if len(reasons) == 1:
        return f", {len(ignored)} file(s) ignored ({next(iter(reasons))})"
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    return f", {len(ignored)} file(s) ignored ({why})"
