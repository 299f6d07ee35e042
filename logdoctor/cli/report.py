"""``report``: the HTML diagnostic report."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import EXIT_USAGE, CliError, handle_errors, warn
from logdoctor.cli.inputs import open_loader, report_input_errors, report_unread
from logdoctor.cli.options import (
    InputSpec,
    config_option,
    input_options,
    output_option,
    partial_options,
    report_zones,
    zones,
)
from logdoctor.cli.progress import TermProgress

if TYPE_CHECKING:
    from logdoctor.ingest.load import LoadResult


@main.command("report")
@click.argument("paths", nargs=-1, required=True)
@output_option("Write the HTML report to FILE.", Path("report.html"), show_default=True)
@config_option("Deployment file (TOML) to check the logs against.", exists=True)
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
    inputs: InputSpec,
) -> None:
    """Write the HTML diagnostic report: one self-contained page to read, forward and print.

    Prints the path it wrote. When no log record can be read, no report is written (exit
    status 2). Inputs that cannot be read are named in the report's verdict ("incomplete")
    and coverage section and on stderr, with exit status 2 unless --allow-partial; the
    report covers the rest. Exit 2 also when a rule failed.
    """
    from logdoctor.ingest.bundleset import refuse_several_bundles
    from logdoctor.ingest.messages import MessageStore
    from logdoctor.outputs.html import write_html
    from logdoctor.report import build_report, diagnose
    from logdoctor.table import CATEGORICAL_COLUMNS

    if str(output) == "-":
        raise CliError("--output: give a file name (the report is a file, not a stream)")
    book = zones(inputs.tz, config)
    loader = open_loader(paths, inputs, zones=book, config=config)
    if not one_cluster:
        refuse_several_bundles(loader, list(paths), "report")
    with TermProgress() as progress:
        loader.progress = progress
        result = loader.result(CATEGORICAL_COLUMNS, MessageStore())
        if result.frame.height == 0:
            progress.close()
            raise _nothing_read(result, paths)
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
    report_unread(result, diagnosis.rule_errors, allow_partial=allow_partial)
    if (result.errors and not allow_partial) or diagnosis.rule_errors:
        sys.exit(EXIT_USAGE)


def _nothing_read(result: LoadResult, paths: Sequence[str]) -> CliError:
    """No log record was read: each input not read named, and why no report is written."""
    report_input_errors(result)
    read = sum(1 for st in result.stats if st.error is None)
    if result.errors:  # each was named above
        return CliError("no log was read: no report written")
    if read:
        return CliError(
            f"no log record was read ({read} file(s) read, none holds a record of the "
            "known formats): no report written"
        )
    return CliError(f"no log was read (no log file found in {', '.join(paths)}): no report written")
