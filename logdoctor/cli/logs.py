"""``formats``, ``kinds``, ``parse``, ``stats``: the event table from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from logdoctor.cli._base import (
    EXIT_USAGE,
    CliError,
    _binary_out,
    _console,
    _inputs,
    _parse_when,
    _report_input_errors,
    _require_log_files,
    formats_dir_option,
    handle_errors,
    input_options,
    main,
)

# -- formats and kinds ---------------------------------------------------------------------------


@main.command("formats")
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
@handle_errors
def formats_cmd(check_dir: Path | None, out_format: str, formats_dirs: Sequence[Path]) -> None:
    """List the log formats logdoctor reads (built-in and --formats-dir)."""
    from logdoctor.formats import load_formats

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
    from rich.table import Table
    from rich.text import Text

    t = Table(show_header=True, header_style="bold")
    for col in ("name", "family", "title", "file patterns", "events", "samples", "source"):
        t.add_column(col, overflow="fold")
    for f in formats:
        t.add_row(
            Text(f.name),
            Text(f.family),
            Text(f.title),
            Text(" ".join(f.file_patterns)),
            str(len(f.events)),
            str(len(f.samples)),
            Text("built-in" if f.builtin else f.path),
        )
    _console().print(t)


@main.command("kinds")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@handle_errors
def kinds_cmd(out_format: str) -> None:
    """List the event kinds (the `kind` column) and what each means."""
    from logdoctor.model import EventKind

    if out_format == "json":
        click.echo(json.dumps({k.value: k.description for k in EventKind}, indent=2))
        return
    from rich.table import Table

    t = Table(show_header=True, header_style="bold")
    t.add_column("kind", no_wrap=True)
    t.add_column("meaning", overflow="fold")
    for k in EventKind:
        t.add_row(k.value, k.description)
    _console().print(t)


# -- parse and stats -----------------------------------------------------------------------------


@main.command("parse")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "jsonl", "csv", "parquet"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="K",
    help="Only events of kind K (repeatable; a trailing * matches a prefix: token.*).",
)
@click.option("--user", "users", multiple=True, metavar="U", help="Only events of user U.")
@click.option("--node", "nodes", multiple=True, metavar="N", help="Only events of node N.")
@click.option("--since", metavar="TIME", help="Only events at or after TIME (ISO 8601).")
@click.option("--until", metavar="TIME", help="Only events before TIME (ISO 8601).")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Rows shown by --format table.",
)
@input_options
@handle_errors
def parse_cmd(
    paths: Sequence[str],
    out_format: str,
    output: Path | None,
    kinds: Sequence[str],
    users: Sequence[str],
    nodes: Sequence[str],
    since: str | None,
    until: str | None,
    limit: int,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Parse logs into the event table and print or export it."""
    import polars as pl

    from logdoctor.model import EventKind
    from logdoctor.outputs.events import write_events

    known = {k.value for k in EventKind}
    for k in kinds:
        if not k.endswith("*") and k not in known:
            raise CliError(f"--kind {k!r}: not an event kind (see `logdoctor kinds`)")
    t_since = _parse_when(since, "--since", tz)
    t_until = _parse_when(until, "--until", tz)
    conds: list[pl.Expr] = []
    if kinds:
        cond = pl.lit(False)
        for k in kinds:
            cond = cond | (
                pl.col("kind").str.starts_with(k[:-1]) if k.endswith("*") else pl.col("kind") == k
            )
        conds.append(cond)
    if users:
        conds.append(pl.col("user").is_in(list(users)))
    if t_since is not None:
        conds.append(pl.col("time") >= t_since)
    if t_until is not None:
        conds.append(pl.col("time") < t_until)

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(*conds) if conds else frame

    loader = _inputs(paths, formats_dirs, tz, set_node, jobs)
    _require_log_files(loader, paths)
    if out_format in ("jsonl", "csv"):
        # Stream: each chunk is written as soon as it is parsed (memory stays bounded). A
        # first pass learns each node's canonical name, so every row carries it.
        loader.identify_nodes()
        if nodes:
            conds.append(pl.col("node").is_in([loader.nodes.resolve(n) for n in nodes]))
        with _binary_out(output) as fh:
            for i, chunk in enumerate(loader.frames()):
                write_events(keep(chunk), out_format, fh, header=i == 0)
        if _report_input_errors(loader):
            sys.exit(EXIT_USAGE)
        return
    result = loader.result()
    if nodes:
        conds.append(pl.col("node").is_in([result.nodes.resolve(n) for n in nodes]))
    frame = keep(result.frame)
    if out_format == "table":
        from logdoctor.outputs.terminal import events_table

        if output is not None:
            raise CliError("--output needs --format jsonl, csv or parquet")
        console = _console()
        console.print(events_table(frame, limit=limit))
        if frame.height > limit:
            console.print(
                f"… {frame.height - limit:,} more event(s); use --limit or --format jsonl",
                style="dim",
            )
    else:
        if out_format == "parquet" and output is None and sys.stdout.isatty():
            raise CliError("--format parquet is binary: give -o FILE")
        with _binary_out(output) as fh:
            write_events(frame, out_format, fh)
    if _report_input_errors(result):
        sys.exit(EXIT_USAGE)


@main.command("stats")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@input_options
@handle_errors
def stats_cmd(
    paths: Sequence[str],
    out_format: str,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Per-file statistics: lines, records, malformed, unrecognized, kinds."""
    from logdoctor.outputs.stats import node_lines, stats_document

    result = _inputs(paths, formats_dirs, tz, set_node, jobs)
    _require_log_files(result, paths)
    for _ in result.frames():  # count only: nothing is kept
        pass
    if out_format == "json":
        doc = stats_document(result.stats, result.ignored, result.nodes)
        click.echo(json.dumps(doc, indent=2))
    else:
        from rich.text import Text

        from logdoctor.outputs.terminal import clean, stats_table

        console = _console()
        console.print(stats_table(result.stats))
        for line in node_lines(result.nodes):
            console.print(Text(clean(line, 2000)), highlight=False)
        doc = stats_document(result.stats, result.ignored)["totals"]
        console.print(
            f"{doc['files']} file(s), {doc['lines']:,} lines, {doc['records']:,} records, "
            f"{doc['malformed']:,} malformed, {doc['unrecognized']:,} unrecognized"
            + (
                f", {len(result.ignored)} file(s) ignored (not these log families)"
                if result.ignored
                else ""
            ),
            highlight=False,
        )
    if _report_input_errors(result):
        sys.exit(EXIT_USAGE)
