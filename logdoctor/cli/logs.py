"""``formats``, ``kinds``, ``parse``, ``stats``: the event table from the command line."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.allocator import keep_freed_pages
from logdoctor.cli.errors import EXIT_USAGE, CliError, handle_errors
from logdoctor.cli.inputs import (
    binary_out,
    open_loader,
    report_input_errors,
    require_file_format,
    require_log_files,
    write_document,
)
from logdoctor.cli.options import (
    InputSpec,
    color_option,
    display_tz_option,
    entry_zone,
    event_filter,
    event_filter_options,
    format_option,
    formats_dir_option,
    input_options,
    output_option,
    report_zones,
    zones,
    zones_config_option,
)
from logdoctor.cli.parserun import ParseRun, holdable
from logdoctor.cli.progress import TermProgress
from logdoctor.cli.term import terminal

if TYPE_CHECKING:
    import polars as pl

    from logdoctor.ingest.formats.types import Format
    from logdoctor.ingest.inputs import Ignored
    from logdoctor.ingest.load import Loader
    from logdoctor.outputs.sheet import Sheet

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
@format_option("listing", "table")
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
        _check_formats(check_dir)
        return
    formats = load_formats(formats_dirs)
    if not write_document("listing", out_format, lambda: [_format_row(f) for f in formats]):
        terminal(color).print_sheet(_formats_sheet(formats))


def _check_formats(folder: Path) -> None:
    """``formats --check DIR``: every sample of DIR's formats parses as declared."""
    from logdoctor.ingest.formats.catalog import load_formats

    if not folder.is_dir():
        raise CliError(f"{folder}: not a folder")
    checked = load_formats([folder], builtin=False)
    names = ", ".join(f.name for f in checked)
    samples = sum(len(f.samples) for f in checked)
    click.echo(
        f"ok: {len(checked)} format(s) in {folder} ({names}); {samples} sample(s) parse as declared"
    )


def _format_row(f: Format) -> dict[str, object]:
    """A format in the listing's JSON."""
    return {
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


def _formats_sheet(formats: Sequence[Format]) -> Sheet:
    """The formats as a table."""
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
    return sheet


@main.command("kinds")
@format_option("listing", "table")
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

    def document() -> dict[str, object]:
        return {
            k.value: {
                "description": k.description,
                "basis": {fam: list(v) for fam, v in bases.get(k.value, {}).items()},
            }
            for k in EventKind
        }

    if write_document("listing", out_format, document):
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
@format_option(
    "events",
    "table",
    "Output format (tsv: one line per event, tab-separated, \\t \\n escaped).",
)
@output_option("Write to FILE instead of standard output.")
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
    inputs: InputSpec,
) -> None:
    """Parse logs into the event table and print or export it (merged by time)."""
    if order == "file" or (len(paths) == 1 and Path(paths[0]).is_file()):
        keep_freed_pages()  # a stream of chunks: before polars is loaded

    book = zones(inputs.tz, config)
    filt = event_filter(kinds, since, until, failures, entry_zone(display_tz, book))
    conds = filt.conditions()
    if users:
        conds.append(_lower("user").is_in([u.lower() for u in users]))
    _check_output(out_format, output)
    loader = open_loader(paths, inputs, zones=book, config=config)
    require_log_files(loader, paths)
    parse = ParseRun(loader, book, out_format, conds, users, display_tz, all_fields)
    with contextlib.ExitStack() as stack:
        # A file that cannot be written fails before the parse, not after it.
        fh = None if parse.screen else stack.enter_context(binary_out(output))
        progress = stack.enter_context(TermProgress())
        loader.progress = progress
        one_file = len(loader.files) + len(loader.errors) <= 1  # nothing to merge
        stream = fh is not None and out_format != "parquet" and (order == "file" or one_file)
        stating, parses = loader.stating() if stream or nodes else ([], False)
        # Held: one file naming nodes, parsed once. Else a first pass learns the canonical
        # names: rows carry them from the first chunk on, --node matches any alias.
        hold = stream and parses and order == "time" and not nodes and holdable(loader)
        if (stream or nodes) and not hold:
            loader.identify_nodes(stating)
        if nodes:
            wanted = sorted({loader.nodes.resolve(n).lower() for n in nodes})
            conds.append(_lower("node").is_in(wanted))
        if stream:
            assert fh is not None
            parse.held(fh) if hold else parse.stream(fh)
            stack.close()
            parse.after_load()
            return
        frame = parse.merged(progress, by_time=order == "time")
        if fh is not None:
            parse.write(frame, fh)
        else:
            parse.show(frame, limit, color)
    if report_input_errors(loader):
        sys.exit(EXIT_USAGE)


def _lower(column: str) -> pl.Expr:
    """``column`` lower-cased as text (a cached table's few-valued columns come as stored:
    Categorical)."""
    import polars as pl

    return pl.col(column).cast(pl.String).str.to_lowercase()


def _check_output(out_format: str, output: Path | None) -> None:
    """``parse``'s output: a format for a file given -o, and no Parquet on a terminal."""
    require_file_format("events", out_format, output)
    if out_format == "parquet" and output is None and sys.stdout.isatty():
        raise CliError("--format parquet is binary: give -o FILE")


@main.command("stats")
@click.argument("paths", nargs=-1, required=True)
@format_option(
    "stats", "table", "table: paths relative to the input; json, tsv, csv: paths as found."
)
@color_option
@input_options
@handle_errors
def stats_cmd(paths: Sequence[str], out_format: str, color: str, inputs: InputSpec) -> None:
    """Per-file statistics: lines, records, malformed, unrecognized, kinds."""
    from logdoctor.outputs.registry import stats_writer, writer

    result = open_loader(paths, inputs, zones=zones(inputs.tz, None))
    require_log_files(result, paths)
    with TermProgress() as progress:
        result.progress = progress
        result.read_stats()  # nothing is kept; a cached file's table is not even read
    if writer("stats", out_format).screen:
        _show_stats(result, paths, color)
    else:
        if out_format == "json":
            report_zones(result.zones)
        with binary_out(None) as fh:
            stats_writer(out_format)(result, out_format, fh)
    if report_input_errors(result):
        sys.exit(EXIT_USAGE)


def _show_stats(result: Loader, paths: Sequence[str], color: str) -> None:
    """``stats --format table``: one row per file, the nodes, a summary line."""
    from logdoctor.outputs.stats import node_lines, stats_document
    from logdoctor.outputs.terminal import clean, relative_paths, stats_sheet

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
