"""``report``: the HTML diagnostic report."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from logdoctor.cli._base import (
    EXIT_USAGE,
    CliError,
    _load,
    _report_input_errors,
    handle_errors,
    input_options,
    main,
    warn,
)
from logdoctor.cli.options import report_zones, zones
from logdoctor.cli.progress import TermProgress

# -- report --------------------------------------------------------------------------------------


@main.command("report")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="Write the HTML report to FILE.",
)
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Deployment file (TOML) to check the logs against.",
)
@click.option(
    "--title",
    default=None,
    help="What the report is about (default: the input's folder or archive name).",
)
@input_options
@handle_errors
def report_cmd(
    paths: Sequence[str],
    output: Path,
    config: Path | None,
    title: str | None,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Write the HTML diagnostic report: one self-contained page to read, forward and print.

    Prints the path it wrote. Inputs that cannot be read are listed in the report's coverage
    section and on stderr (exit status 2); the report covers the rest.
    """
    from logdoctor.outputs.html import write_html
    from logdoctor.report import build_report, diagnose

    if str(output) == "-":
        raise CliError("--output: give a file name (the report is a file, not a stream)")
    book = zones(tz, config)
    with TermProgress() as progress:
        result = _load(paths, formats_dirs, tz, set_node, jobs, zones=book, progress=progress)
        if result.errors and all(st.error is not None for st in result.stats):
            progress.close()
            _report_input_errors(result)
            raise CliError("no input could be read: no report written")
        diagnosis = diagnose(result, config, progress=progress)
        progress.stage("rendering")
        model = build_report(
            result.frame,
            result.stats,
            diagnosis,
            inputs=list(paths),
            title=title,
        )
        try:
            write_html(model, output)
        except OSError as exc:
            raise CliError(f"{output}: cannot write ({exc.strerror or exc})") from None
    report_zones(book)
    for note in diagnosis.notes:
        warn(note)
    click.echo(str(output))
    if _report_input_errors(result):
        sys.exit(EXIT_USAGE)
