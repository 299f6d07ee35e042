"""``formats``, ``kinds``, ``parse``, ``stats``: the event table from the command line."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import (
    EXIT_USAGE,
    CliError,
    _binary_out,
    _console,
    _inputs,
    _parse_when,
    _report_input_errors,
    formats_dir_option,
    handle_errors,
    input_options,
    main,
)

if TYPE_CHECKING:
    from logdoctor.sources import Ignored

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
@formats_dir_option
@handle_errors
def kinds_cmd(out_format: str, formats_dirs: Sequence[Path]) -> None:
    """List the event kinds (the `kind` column), what each means and, per log family, the
    basis of its patterns: published (a verbatim public Cisco line backs it), documented (the
    behaviour is documented, the wording modelled) or modelled."""
    from logdoctor.formats import kind_bases, load_formats
    from logdoctor.model import EventKind

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
    from rich.table import Table

    t = Table(show_header=True, header_style="bold")
    t.add_column("kind", no_wrap=True)
    t.add_column("basis (family: basis)", overflow="fold")
    t.add_column("meaning", overflow="fold")
    for k in EventKind:
        per = bases.get(k.value, {})
        text = "; ".join(f"{fam}: {', '.join(v)}" for fam, v in per.items()) or "-"
        t.add_row(k.value, text, k.description)
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
    if nodes:
        conds.append(pl.col("node").is_in(list(nodes)))
    if t_since is not None:
        conds.append(pl.col("time") >= t_since)
    if t_until is not None:
        conds.append(pl.col("time") < t_until)

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(*conds) if conds else frame

    loader = _inputs(paths, formats_dirs, tz, set_node, jobs)
    if out_format in ("jsonl", "csv"):
        # Stream: each chunk is written as soon as it is parsed (memory stays bounded).
        with _binary_out(output) as fh:
            for i, chunk in enumerate(loader.frames()):
                write_events(keep(chunk), out_format, fh, header=i == 0)
        if _report_input_errors(loader):
            sys.exit(EXIT_USAGE)
        return
    result = loader.result()
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
    from logdoctor.outputs.stats import stats_document

    result = _inputs(paths, formats_dirs, tz, set_node, jobs)
    for _ in result.frames():  # count only: nothing is kept
        pass
    if out_format == "json":
        click.echo(json.dumps(stats_document(result.stats, result.ignored), indent=2))
    else:
        from logdoctor.outputs.terminal import stats_table

        console = _console()
        console.print(stats_table(result.stats))
        doc = stats_document(result.stats, result.ignored)["totals"]
        damaged = [
            f"{doc[key]:,} {what}"
            for key, what in (("truncated", "record(s) truncated"), ("nul_bytes", "NUL byte(s)"))
            if doc[key]
        ]
        console.print(
            f"{doc['files']} file(s), {doc['lines']:,} lines, {doc['records']:,} records, "
            f"{doc['malformed']:,} malformed, {doc['unrecognized']:,} unrecognized"
            + "".join(f", {d}" for d in damaged)
            + _ignored_summary(result.ignored),
            highlight=False,
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
