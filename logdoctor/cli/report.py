"""``report``: the HTML diagnostic report."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from logdoctor.cli._base import (
    _inputs,
    _report_input_errors,
    _report_unread,
    input_options,
    main,
    partial_options,
)
from logdoctor.cli.errors import EXIT_USAGE, CliError, handle_errors, warn
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
@partial_options
@input_options
@handle_errors
def report_cmd(
    paths: Sequence[str],
    output: Path,
    config: Path | None,
    title: str | None,
    allow_partial: bool,
    one_cluster: bool,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Write the HTML diagnostic report: one self-contained page to read, forward and print.

    Prints the path it wrote. When no log record can be read, no report is written (exit
    status 2). Inputs that cannot be read are named in the report's verdict ("incomplete")
    and coverage section and on stderr, with exit status 2 unless --allow-partial; the
    report covers the rest. Exit 2 also when a rule failed.
    """
    from logdoctor.ingest.bundleset import refuse_several_bundles
    from logdoctor.outputs.html import write_html
    from logdoctor.report import build_report, diagnose

    if str(output) == "-":
        raise CliError("--output: give a file name (the report is a file, not a stream)")
    book = zones(tz, config)
    loader = _inputs(paths, formats_dirs, tz, set_node, jobs, zones=book, config=config)
    if not one_cluster:
        refuse_several_bundles(loader, list(paths), "report")
    with TermProgress() as progress:
        loader.progress = progress
        result = loader.result()
        if result.frame.height == 0:
            progress.close()
            _report_input_errors(result)
            read = sum(1 for st in result.stats if st.error is None)
            if result.errors:  # each was named above
                raise CliError("no log was read: no report written")
            if read:
                raise CliError(
                    f"no log record was read ({read} file(s) read, none holds a record of the "
                    "known formats): no report written"
                )
            raise CliError(
                f"no log was read (no log file found in {', '.join(paths)}): no report written"
            )
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
    _report_unread(result, diagnosis.rule_errors, allow_partial=allow_partial)
    if (result.errors and not allow_partial) or diagnosis.rule_errors:
        sys.exit(EXIT_USAGE)
