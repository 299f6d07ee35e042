"""The ``logdoctor`` command line: the only module that prints or exits.

Commands are thin wrappers over library calls. Errors a user can cause (a missing file, a bad
archive, a bad format folder, a bad option value) end in one line on stderr naming the file or
field and exit status 2, never a traceback. Set LOGDOCTOR_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, NoReturn, TypeVar

import click

from logdoctor import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An error to report as one line and exit status 2."""


def fail(message: str) -> NoReturn:
    """Print ``logdoctor: error: message`` to stderr and exit 2."""
    click.echo(f"logdoctor: error: {_one_line(message)}", err=True)
    sys.exit(EXIT_USAGE)


def warn(message: str) -> None:
    """Print ``logdoctor: warning: message`` to stderr."""
    click.echo(f"logdoctor: warning: {_one_line(message)}", err=True)


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _console(stream: IO[str] | None = None) -> Any:
    from rich.console import Console

    return Console(file=stream or sys.stdout, soft_wrap=False, highlight=False)


def handle_errors(fn: F) -> F:
    """Turn library errors into one line on stderr and exit 2 (LOGDOCTOR_DEBUG=1: traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from logdoctor.formats import FormatError
        from logdoctor.sources import SourceError

        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except (CliError, FormatError, SourceError, ValueError) as exc:
            if os.environ.get("LOGDOCTOR_DEBUG"):
                raise
            fail(str(exc))
        except BrokenPipeError:
            # `logdoctor parse ... | head`: the reader left; that is not an error.
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            sys.exit(EXIT_OK)
        except OSError as exc:
            if os.environ.get("LOGDOCTOR_DEBUG"):
                raise
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            fail(f"{where}{exc.strerror or exc}")
        except KeyboardInterrupt:
            click.echo("logdoctor: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # the last resort: still one line, with a way to see more
            if os.environ.get("LOGDOCTOR_DEBUG"):
                raise
            fail(
                f"internal error: {type(exc).__name__}: {exc} (LOGDOCTOR_DEBUG=1 shows the "
                "traceback; please report it)"
            )

    return wrapper  # type: ignore[return-value]


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


def input_options(fn: F) -> F:
    """Options that say how to read inputs: --formats-dir, --tz, --set-node, --jobs."""
    fn = click.option(
        "--jobs",
        "-j",
        type=click.IntRange(1, 256),
        default=None,
        help="Files parsed at once (default: the number of cores).",
    )(fn)
    fn = click.option(
        "--set-node",
        "set_node",
        metavar="NAME",
        default=None,
        help="Use NAME as the node of every input instead of the one the bundle layout gives.",
    )(fn)
    fn = click.option(
        "--tz",
        metavar="ZONE",
        default=None,
        help="Zone the logs' timestamps were written in (they carry none): an IANA name "
        "such as America/New_York, or an offset such as -04:00. Default: UTC.",
    )(fn)
    return formats_dir_option(fn)


def _load(
    paths: Sequence[str],
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> Any:
    from logdoctor.api import load

    if not paths:
        raise CliError("no input: give log files, folders or archives")
    return load(paths, formats_dir=formats_dirs, node=set_node, tz=tz, jobs=jobs)


def _report_input_errors(result: Any) -> bool:
    """Print one line per unreadable input; True if there was any."""
    for err in result.errors:
        click.echo(f"logdoctor: error: {_one_line(err.path)}: {_one_line(err.message)}", err=True)
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


def _parse_when(value: str | None, option: str, tz: str | None) -> datetime | None:
    if value is None:
        return None
    from datetime import UTC

    from logdoctor.timestamps import resolve_zone

    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{option} {value!r}: not an ISO 8601 time (2026-11-20T08:00:00)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=resolve_zone(tz).tz)
    return t.astimezone(UTC)


# -- the group -----------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="logdoctor")
def main() -> None:
    """Troubleshoot Cisco UCM OAuth / SSO refresh logins for Jabber from UCM's logs.

    Reads ssoApp.log, the ssosp log4j files and certMgmt*.log (files, folders, .gz files,
    RTMT-style zip / tar bundles with one folder per node).
    """


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
    result = _load(paths, formats_dirs, tz, set_node, jobs)
    frame = result.frame
    if kinds:
        cond = pl.lit(False)
        for k in kinds:
            cond = cond | (
                pl.col("kind").str.starts_with(k[:-1]) if k.endswith("*") else pl.col("kind") == k
            )
        frame = frame.filter(cond)
    if users:
        frame = frame.filter(pl.col("user").is_in(list(users)))
    if nodes:
        frame = frame.filter(pl.col("node").is_in(list(nodes)))
    if t_since is not None:
        frame = frame.filter(pl.col("time") >= t_since)
    if t_until is not None:
        frame = frame.filter(pl.col("time") < t_until)
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

    result = _load(paths, formats_dirs, tz, set_node, jobs)
    if out_format == "json":
        click.echo(json.dumps(stats_document(result.stats, result.ignored), indent=2))
    else:
        from logdoctor.outputs.terminal import stats_table

        console = _console()
        console.print(stats_table(result.stats))
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


# -- tail ----------------------------------------------------------------------------------------


@main.command("tail")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["live", "jsonl"]),
    default="live",
    show_default=True,
    help="live: a screen that updates (events, counters, findings); jsonl: one JSON object per "
    'line (events, findings and notices, each with a "type"), flushed as they come.',
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Checkpoint file: where each file was left is saved there (atomically) and a restart "
    "resumes exactly after the last line handled.",
)
@click.option(
    "--from-start",
    is_flag=True,
    help="Read files that have no checkpoint from their start (default: from their end). A "
    "checkpoint always wins.",
)
@click.option(
    "--poll",
    is_flag=True,
    help="Poll the folders instead of using file-system events (network file systems).",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.05, 3600),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How often the folders are re-read when no event came (the safety net).",
)
@click.option(
    "--rotate-grace",
    type=click.FloatRange(0, 600),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a rotated file is still read for late writes before its partial last line "
    "is emitted.",
)
@click.option(
    "--idle-flush",
    type=click.FloatRange(0.01, 600),
    default=0.2,
    show_default=True,
    metavar="SECONDS",
    help="Emit a file's last record after this long without a new line.",
)
@click.option(
    "--window",
    type=click.IntRange(1),
    default=5000,
    show_default=True,
    help="Recent events the rules look at.",
)
@click.option(
    "--tz",
    metavar="ZONE",
    default=None,
    help="Zone the logs' timestamps were written in (an IANA name or an offset). Default: UTC.",
)
@click.option(
    "--set-node",
    "set_node",
    metavar="NAME",
    default=None,
    help="Use NAME as the node of every file instead of the one the folder layout gives.",
)
@formats_dir_option
@handle_errors
def tail_cmd(
    paths: Sequence[str],
    out_format: str,
    state: Path | None,
    from_start: bool,
    poll: bool,
    poll_interval: float,
    rotate_grace: float,
    idle_flush: float,
    window: int,
    tz: str | None,
    set_node: str | None,
    formats_dirs: Sequence[Path],
) -> None:
    """Follow logs as they grow and rotate; show events and findings as they happen.

    PATHS are folders (followed recursively: ssoApp.log, ssosp*.log, certMgmt*.log appearing in
    them are picked up) or single files. Ctrl-C stops with a summary (and the checkpoint saved).
    """
    import signal

    from logdoctor.tail.tailer import Tailer

    tailer = Tailer(
        paths,
        formats_dirs=formats_dirs,
        tz=tz,
        node=set_node,
        state=state,
        from_start=from_start,
        poll=poll,
        poll_interval=poll_interval,
        rotate_grace=rotate_grace,
        idle_flush=idle_flush,
        window=window,
        detector=None,
    )

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        notices = tailer.start()
        if out_format == "jsonl":
            _tail_jsonl(tailer, notices)
        else:
            _tail_live(tailer, notices)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _tail_jsonl(tailer: Any, notices: Sequence[Any]) -> None:
    from logdoctor.tail.jsonl import event_json, finding_record, notice_record
    from logdoctor.tail.view import summary_line

    out = sys.stdout
    enc = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per line

    def write(batch: Any, extra: Sequence[Any] = ()) -> None:
        lines = [enc(notice_record(n)) for n in extra]
        lines += [event_json(r) for r in batch.events]
        lines += [enc(finding_record(f)) for f in batch.findings]
        lines += [enc(notice_record(n)) for n in batch.notices]
        if lines:
            out.write("\n".join(lines) + "\n")
            out.flush()

    closed = False
    try:
        first = list(notices)
        while True:
            write(tailer.step(0.5), first)
            first = []
    except KeyboardInterrupt:
        write(tailer.close())
        closed = True
    finally:
        if not closed:
            tailer.close()
    click.echo(summary_line(tailer.stats, state=tailer.state_path), err=True)


def _tail_live(tailer: Any, notices: Sequence[Any]) -> None:
    from rich.live import Live

    from logdoctor.tail.tailer import Batch
    from logdoctor.tail.view import LiveState, render, summary_line

    console = _console()
    view = LiveState()
    view.add(Batch(notices=list(notices)))

    def screen() -> Any:
        return render(
            view,
            tailer.stats,
            files=len(tailer.files()) or tailer.stats.files,
            observer=tailer.follower.observer_kind,
            rules=False,
            height=console.size.height,
        )

    closed = False
    try:
        with Live(console=console, get_renderable=screen, refresh_per_second=4, screen=False):
            try:
                while True:
                    view.add(tailer.step(0.25))
            except KeyboardInterrupt:
                view.add(tailer.close())
                closed = True
    finally:
        if not closed:
            tailer.close()
    if not console.is_terminal:
        console.line()
    console.print(summary_line(tailer.stats, state=tailer.state_path), highlight=False)


if __name__ == "__main__":  # pragma: no cover
    main()
