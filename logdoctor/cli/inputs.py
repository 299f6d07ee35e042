"""The commands' seam to the library's loading: open the inputs, say which could not be read,
write to ``-o FILE`` or standard output.

Typed with the library's own types (imported for type checking only, so that ``--help``
imports no pipeline).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

import click

from logdoctor.cli.errors import EXIT_FINDINGS, EXIT_USAGE, CliError, one_line, warn
from logdoctor.cli.options import InputSpec, node_aliases

if TYPE_CHECKING:
    from logdoctor.ingest.inputs import InputError
    from logdoctor.ingest.load import Loader
    from logdoctor.progress import Progress
    from logdoctor.timestamps import ZoneBook
    from logdoctor.verdict import CheckReport

__all__ = [
    "HasInputErrors",
    "binary_out",
    "not_in_logs",
    "open_loader",
    "report_check_errors",
    "report_input_errors",
    "report_unread",
    "require_file_format",
    "require_log_files",
    "write_document",
]


class HasInputErrors(Protocol):
    """A load (a Loader, a LoadResult, a check report): the inputs it could not read."""

    @property
    def errors(self) -> Sequence[InputError]:
        """The inputs not read, or only partly."""
        ...


def open_loader(
    paths: Sequence[str],
    inputs: InputSpec,
    *,
    config: Path | None = None,
    zones: ZoneBook | None = None,
    progress: Progress | None = None,
) -> Loader:
    """A Loader over the inputs (discovered, not parsed yet); ``config``: a deployment file,
    whose node names and addresses join node identity."""
    from logdoctor.ingest.load import open_inputs

    if not paths:
        raise CliError("no input: give log files, folders or archives")
    return open_inputs(
        paths,
        **inputs.keywords(),
        zones=zones,
        progress=progress,
        aliases=node_aliases(config),
    )


def require_log_files(loader: Loader, paths: Sequence[str]) -> None:
    """One line and exit 2 when discovery found no log file at all (nothing to show)."""
    if not loader.files:
        unread = "; ".join(f"{e.path}: {e.message}" for e in loader.errors)
        raise CliError(
            f"no log file found in {', '.join(paths)} (ssoApp.log, ssosp*.log, certMgmt*.log)"
            + (f"; not read: {unread}" if unread else "")
        )


def report_input_errors(result: HasInputErrors) -> bool:
    """Print one line per unreadable input; True if there was any."""
    for err in result.errors:
        click.echo(f"logdoctor: error: {one_line(err.path)}: {one_line(err.message)}", err=True)
    return bool(result.errors)


def not_in_logs(problem: str, result: HasInputErrors) -> CliError:
    """The error for a user, device, node or token the logs do not hold: exit 1, or 2 when
    some input could not be read (it may be there; each such input is named first)."""
    unread = report_input_errors(result)
    return CliError(problem, EXIT_USAGE if unread else EXIT_FINDINGS)


def report_unread(
    result: HasInputErrors, rule_errors: Sequence[str], *, allow_partial: bool
) -> None:
    """One stderr line per input not read, or only partly (a warning under --allow-partial,
    else an error), and one per rule that failed with an internal error."""
    if allow_partial:
        for err in result.errors:
            warn(err.line)
    else:
        report_input_errors(result)
    for message in rule_errors:
        click.echo(f"logdoctor: error: {one_line(message)} (please report it)", err=True)


def report_check_errors(report: CheckReport) -> None:
    """:func:`report_unread` for a check, and one line when no log record was read."""
    report_unread(
        report,
        [f.message for f in report.rule_errors],
        allow_partial=report.allow_partial and not report.read_nothing,
    )
    if report.read_nothing:
        what = "no log was read: nothing was checked" if report.errors else report.not_read
        click.echo(f"logdoctor: error: {one_line(what)}", err=True)


@contextlib.contextmanager
def binary_out(output: Path | None) -> Iterator[BinaryIO]:
    """``output`` opened for writing bytes, or standard output (None or ``-``)."""
    if output is None or str(output) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        fh = output.open("wb")
    except OSError as exc:
        raise CliError(f"{output}: cannot write ({exc.strerror or exc})") from None
    with fh:
        yield fh


def write_document(writes: str, out_format: str, document: Callable[[], object]) -> bool:
    """Write ``document()`` to standard output with the writer of ``--format out_format``;
    False when that format is drawn on the terminal by the command (a table)."""
    from logdoctor.outputs.registry import document_writer, writer

    if writer(writes, out_format).screen:
        return False
    with binary_out(None) as fh:
        document_writer(writes, out_format)(document(), fh)
    return True


def require_file_format(writes: str, out_format: str, output: Path | None) -> None:
    """``-o FILE`` with a format drawn on the terminal: one line naming the formats that
    write files, exit 2."""
    from logdoctor.outputs.registry import WRITERS, writer

    if output is None or not writer(writes, out_format).screen:
        return
    names = [w.name for w in WRITERS if w.writes == writes and not w.screen]
    listed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    raise CliError(f"--output needs --format {listed}")
