"""The ``logdoctor`` command line, shared part: the group, option decorators, error handling.

Commands are thin wrappers over library calls. Errors a user can cause (a missing file, a bad
archive, a bad format folder, a bad option value) end in one line on stderr naming the file or
field and exit status 2, never a traceback. Set LOGDOCTOR_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click

from logdoctor import __version__
from logdoctor.cli.errors import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    CliError,
    one_line,
    warn,
)

F = TypeVar("F", bound=Callable[..., Any])


# -- shared options ------------------------------------------------------------------------------


def formats_dir_option(fn: F) -> F:
    """``--formats-dir DIR`` (repeatable): add the format files of DIR."""
    return click.option(
        "--formats-dir",
        "formats_dirs",
        multiple=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Also load the *.toml format files of DIR (repeatable; a format with a built-in "
        "format's name replaces it).",
    )(fn)


def tz_option(fn: F) -> F:
    """``--tz ZONE``: the zone the logs' timestamps were written in."""
    return click.option(
        "--tz",
        metavar="ZONE",
        default=None,
        help="Zone the logs' timestamps were written in (they carry none): an IANA name "
        "such as America/New_York, or an offset such as -04:00. A deployment file's timezone "
        "wins for its nodes. Default: UTC, with a warning.",
    )(fn)


def set_node_option(fn: F) -> F:
    """``--set-node NAME``: one node name for every input."""
    return click.option(
        "--set-node",
        "set_node",
        metavar="NAME",
        default=None,
        help="Use NAME as the node of every input instead of the one the bundle layout gives.",
    )(fn)


def _no_cache(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from logdoctor.ingest import cacheswitch

        cacheswitch.set_enabled(False)


def no_cache_option(fn: F) -> F:
    """``--no-cache``: parse every file, neither reading nor writing the parsed-file cache."""
    return click.option(
        "--no-cache",
        is_flag=True,
        expose_value=False,
        callback=_no_cache,
        help="Parse every file again: neither reuse nor keep parsed files (kept by default "
        "in $XDG_CACHE_HOME/logdoctor/parsed, or $LOGDOCTOR_CACHE_DIR).",
    )(fn)


def input_options(fn: F) -> F:
    """Options that say how to read inputs: --formats-dir, --tz, --set-node, --jobs,
    --no-cache."""
    fn = no_cache_option(fn)
    fn = click.option(
        "--jobs",
        "-j",
        type=click.IntRange(1, 256),
        default=None,
        help="Files parsed at once (default: the number of cores).",
    )(fn)
    return formats_dir_option(tz_option(set_node_option(fn)))


def partial_options(fn: F) -> F:
    """``--allow-partial`` and ``--one-cluster`` (``check`` and ``report``)."""
    fn = click.option(
        "--one-cluster",
        is_flag=True,
        help="Read all PATHS as one cluster even when they look like several bundles "
        "(folders or archives each with their own nodes or deployment file).",
    )(fn)
    return click.option(
        "--allow-partial",
        is_flag=True,
        help="Judge what could be read when some inputs cannot be (they are still named); "
        "without it the verdict is incomplete and the exit status 2.",
    )(fn)


def _report_unread(result: Any, rule_errors: Sequence[str], *, allow_partial: bool) -> None:
    """One stderr line per input not read, or only partly (a warning under --allow-partial,
    else an error), and one per rule that failed with an internal error."""
    if allow_partial:
        for err in result.errors:
            warn(err.line)
    else:
        _report_input_errors(result)
    for message in rule_errors:
        click.echo(f"logdoctor: error: {one_line(message)} (please report it)", err=True)


def _report_check_errors(report: Any) -> None:
    """:func:`_report_unread` for a ``CheckReport``, and one line when no log record was
    read."""
    _report_unread(
        report,
        [f.message for f in report.rule_errors],
        allow_partial=report.allow_partial and not report.read_nothing,
    )
    if report.read_nothing:
        what = "no log was read: nothing was checked" if report.errors else report.not_read
        click.echo(f"logdoctor: error: {one_line(what)}", err=True)


def _inputs(
    paths: Sequence[str],
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
    *,
    config: Path | None = None,
    zones: Any = None,
    progress: Any = None,
) -> Any:
    """A Loader over the inputs (discovered, not parsed yet); ``config``: a deployment file,
    whose node names and addresses join node identity."""
    from logdoctor.cli.options import node_aliases
    from logdoctor.ingest.load import open_inputs

    if not paths:
        raise CliError("no input: give log files, folders or archives")
    return open_inputs(
        paths,
        formats_dir=formats_dirs,
        node=set_node,
        tz=tz,
        jobs=jobs,
        zones=zones,
        progress=progress,
        aliases=node_aliases(config),
    )


def _require_log_files(loader: Any, paths: Sequence[str]) -> None:
    """One line and exit 2 when discovery found no log file at all (nothing to show)."""
    if not loader.files:
        unread = "; ".join(f"{e.path}: {e.message}" for e in loader.errors)
        raise CliError(
            f"no log file found in {', '.join(paths)} (ssoApp.log, ssosp*.log, certMgmt*.log)"
            + (f"; not read: {unread}" if unread else "")
        )


def _load(
    paths: Sequence[str],
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
    *,
    zones: Any = None,
    progress: Any = None,
) -> Any:
    """Parse the inputs into a LoadResult."""
    return _inputs(paths, formats_dirs, tz, set_node, jobs, zones=zones, progress=progress).result()


def _not_in_logs(problem: str, result: Any) -> CliError:
    """The error for a user, device, node or token the logs do not hold: exit 1, or 2 when
    some input could not be read (it may be there; each such input is named first)."""
    unread = _report_input_errors(result)
    return CliError(problem, EXIT_USAGE if unread else EXIT_FINDINGS)


def _report_input_errors(result: Any) -> bool:
    """Print one line per unreadable input; True if there was any."""
    for err in result.errors:
        click.echo(f"logdoctor: error: {one_line(err.path)}: {one_line(err.message)}", err=True)
    return bool(result.errors)


@contextlib.contextmanager
def _binary_out(output: Path | None) -> Iterator[BinaryIO]:
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


def _ids(values: Sequence[str]) -> list[str]:
    """`--select LD1,LD203 --select LD9` -> ["LD1", "LD203", "LD9"]."""
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


# -- the group -----------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="logdoctor")
def main() -> None:
    """Troubleshoot Cisco UCM OAuth / SSO refresh logins for Jabber from UCM's logs.

    Reads ssoApp.log, the ssosp log4j files and certMgmt*.log (files, folders, .gz files,
    RTMT-style zip / tar bundles with one folder per node).
    """
    from logdoctor.ingest import cacheswitch

    cacheswitch.set_enabled(True)  # commands keep parsed files (--no-cache: not)
