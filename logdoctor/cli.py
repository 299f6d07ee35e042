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


def _inputs(
    paths: Sequence[str],
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> Any:
    """A Loader over the inputs (discovered, not parsed yet)."""
    from logdoctor.api import open_inputs

    if not paths:
        raise CliError("no input: give log files, folders or archives")
    return open_inputs(paths, formats_dir=formats_dirs, node=set_node, tz=tz, jobs=jobs)


def _load(
    paths: Sequence[str],
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> Any:
    """Parse the inputs into a LoadResult."""
    return _inputs(paths, formats_dirs, tz, set_node, jobs).result()


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
@click.option("--title", default=None, help="Title of the report (default: logdoctor report).")
@click.option(
    "--gap",
    "gap_minutes",
    type=click.IntRange(1),
    default=60,
    show_default=True,
    metavar="MINUTES",
    help="Report silences longer than MINUTES within a file or between rotated files.",
)
@input_options
@handle_errors
def report_cmd(
    paths: Sequence[str],
    output: Path,
    config: Path | None,
    title: str | None,
    gap_minutes: int,
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
    from logdoctor.report import Limits, build_report, diagnose

    if str(output) == "-":
        raise CliError("--output: give a file name (the report is a file, not a stream)")
    result = _load(paths, formats_dirs, tz, set_node, jobs)
    if result.errors and all(st.error is not None for st in result.stats):
        _report_input_errors(result)
        raise CliError("no input could be read: no report written")
    diagnosis = diagnose(result, config)
    for note in diagnosis.notes:
        warn(note)
    model = build_report(
        result.frame,
        result.stats,
        diagnosis,
        inputs=list(paths),
        title=title,
        limits=Limits(gap_seconds=gap_minutes * 60),
    )
    try:
        write_html(model, output)
    except OSError as exc:
        raise CliError(f"{output}: cannot write ({exc.strerror or exc})") from None
    click.echo(str(output))
    if _report_input_errors(result):
        sys.exit(EXIT_USAGE)


# -- the token service -----------------------------------------------------------------------------

DATA_DIR_ENV = "LOGDOCTOR_DATA_DIR"
ADMIN_PASSWORD_ENV = "LOGDOCTOR_ADMIN_PASSWORD"


def data_dir_option(fn: F) -> F:
    """``--data-dir DIR``: the token service's state and logs."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=DATA_DIR_ENV,
        default=Path("logdoctor-data"),
        show_default=True,
        help=f"Folder of the token service's state (state.db) and logs (logs/<node>/...); "
        f"also ${DATA_DIR_ENV}.",
    )(fn)


def _read_secret_file(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: the {what} is not UTF-8 text") from None
    secret = text.rstrip("\r\n")
    if not secret:
        raise CliError(f"{path}: the {what} is empty")
    return secret


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8443,
    show_default=True,
    help="TCP port (0: any free port; the one chosen is printed).",
)
@data_dir_option
@click.option("--node", default=None, help="UCM node this server answers as (default: publisher).")
@click.option("--cluster", default=None, help="Cluster name (new data dir; must match otherwise).")
@click.option("--admin-user", default=None, help="Administrator (AXL) user for the revoke API.")
@click.option(
    "--admin-password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"File holding the administrator's password (or ${ADMIN_PASSWORD_ENV}).",
)
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Server processes sharing the port and the data dir (the work is CPU-bound).",
)
@handle_errors
def serve_cmd(
    host: str,
    port: int,
    data_dir: Path,
    node: str | None,
    cluster: str | None,
    admin_user: str | None,
    admin_password_file: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    workers: int,
) -> None:
    """Run the token service (UCM's ssosp OAuth endpoints) over HTTP."""
    from logdoctor.tokenservice import server
    from logdoctor.tokenservice.service import AdminCredentials, Service

    if not admin_user:
        raise CliError("--admin-user is required (the revoke API's administrator)")
    if admin_password_file is not None:
        password = _read_secret_file(admin_password_file, "admin password")
    elif os.environ.get(ADMIN_PASSWORD_ENV):
        password = os.environ[ADMIN_PASSWORD_ENV]
    else:
        raise CliError(f"give --admin-password-file FILE or set ${ADMIN_PASSWORD_ENV}")
    if (tls_cert is None) != (tls_key is None):
        raise CliError("--tls-cert and --tls-key go together")
    for p in (tls_cert, tls_key):
        if p is not None and not p.is_file():
            raise CliError(f"{p}: no such file")
    admin = AdminCredentials(admin_user, password)
    service = Service(data_dir, admin=admin, cluster=cluster)
    info = service.info()
    known = service.issuing_node_for_host(node) if node is not None else info["publisher"]
    service.close()  # each worker opens its own (no SQLite connection crosses a fork)
    if known is None:
        raise CliError(f"--node {node!r}: not a UCM node of this data dir (see `service nodes`)")
    try:
        sock = server.bind(host, port, listen=workers == 1, reuse_port=workers > 1)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    bound_host, bound_port = sock.getsockname()[:2]
    scheme = "https" if tls_cert else "http"

    def ready() -> None:
        click.echo(
            f"logdoctor: serving {node or info['publisher']} of {info['cluster']} on "
            f"{scheme}://{bound_host}:{bound_port} (data dir {data_dir})",
            err=True,
        )
        click.echo(f"{scheme}://{bound_host}:{bound_port}", err=False)
        sys.stdout.flush()

    server.run_workers(
        lambda: Service(data_dir, admin=admin),
        sock,
        workers,
        node=node,
        tls_cert=tls_cert,
        tls_key=tls_key,
        on_ready=ready,
    )


@main.group("service")
@data_dir_option
@click.pass_context
def service_group(ctx: click.Context, data_dir: Path) -> None:
    """Administer the token service's data dir (works whether or not `serve` runs on it)."""
    ctx.obj = data_dir


def _service(ctx: click.Context) -> Any:
    from logdoctor.tokenservice.service import Service

    svc = Service(ctx.obj)
    ctx.call_on_close(svc.close)
    return svc


@service_group.group("users")
def users_group() -> None:
    """Users of the directory (active/inactive, roles, access control groups, rank)."""


def _role_options(fn: F) -> F:
    fn = click.option("--rank", type=int, default=None, help="User rank 1-10 (1 = highest).")(fn)
    fn = click.option(
        "--no-role", is_flag=True, help="No role and no access control group (no access)."
    )(fn)
    fn = click.option(
        "--group", "groups", multiple=True, metavar="G", help="Access control group (repeatable)."
    )(fn)
    return click.option(
        "--role", "roles", multiple=True, metavar="R", help="Role given directly (repeatable)."
    )(fn)


def _roles(
    roles: Sequence[str], groups: Sequence[str], no_role: bool
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    if no_role and (roles or groups):
        raise CliError("--no-role excludes --role and --group")
    if no_role:
        return (), ()
    if not roles and not groups:
        return None, None
    return tuple(roles), tuple(groups)


@users_group.command("add")
@click.argument("name")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), required=True)
@_role_options
@click.option("--inactive", is_flag=True, help="Add the user as inactive (removed from LDAP).")
@click.pass_context
@handle_errors
def users_add_cmd(
    ctx: click.Context,
    name: str,
    password_file: Path,
    roles: Sequence[str],
    groups: Sequence[str],
    no_role: bool,
    rank: int | None,
    inactive: bool,
) -> None:
    """Add a user (default: group Standard CCM End Users, which grants OAuth access)."""
    password = _read_secret_file(password_file, "password")
    r, g = _roles(roles, groups, no_role)
    kwargs: dict[str, Any] = {"active": not inactive, "rank": 1 if rank is None else rank}
    if r is not None:
        kwargs.update(roles=r, groups=g)
    user = _service(ctx).add_user(name, password, **kwargs)
    click.echo(f"added user {user.name} ({'active' if user.active else 'inactive'})")


@users_group.command("set")
@click.argument("name")
@click.option("--active/--inactive", default=None, help="Active, or inactive (removed from LDAP).")
@_role_options
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
@handle_errors
def users_set_cmd(
    ctx: click.Context,
    name: str,
    active: bool | None,
    roles: Sequence[str],
    groups: Sequence[str],
    no_role: bool,
    rank: int | None,
    password_file: Path | None,
) -> None:
    """Change a user."""
    r, g = _roles(roles, groups, no_role)
    password = _read_secret_file(password_file, "password") if password_file else None
    user = _service(ctx).set_user(
        name, active=active, roles=r, groups=g, rank=rank, password=password
    )
    click.echo(f"user {user.name}: {'active' if user.active else 'inactive'}")


@users_group.command("list")
@click.pass_context
@handle_errors
def users_list_cmd(ctx: click.Context) -> None:
    """List users: name, active, access, roles, groups, rank."""
    from logdoctor.tokenservice.service import Service

    for u in _service(ctx).users():
        access = "access" if Service.has_access(u) else "no-access"
        state = "active" if u.active else "inactive"
        roles = ",".join(u.roles) or "-"
        groups = ",".join(u.groups) or "-"
        click.echo(f"{u.name}\t{state}\t{access}\troles={roles}\tgroups={groups}\trank={u.rank}")


@service_group.command("params")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE", help="Set (repeatable).")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table")
@click.pass_context
@handle_errors
def params_cmd(ctx: click.Context, assignments: Sequence[str], out_format: str) -> None:
    """Show or set enterprise parameters (refresh_login_flow, access_token_expiry_minutes,
    refresh_token_expiry_days, implicit_grant, redirect_uris)."""
    from logdoctor.tokenservice.params import PARAMS

    pairs = []
    for a in assignments:
        name, sep, value = a.partition("=")
        if not sep or not name:
            raise CliError(f"--set {a!r}: write NAME=VALUE")
        pairs.append((name.strip(), value))
    svc = _service(ctx)
    for name, value in pairs:
        old, new = svc.set_param(name, value)
        click.echo(f"{name}: {old} -> {new}" if old != new else f"{name}: {new} (unchanged)")
    if pairs:
        return
    values = svc.params()
    if out_format == "json":
        click.echo(json.dumps(values, indent=2))
        return
    for name, spec in PARAMS.items():
        click.echo(f"{name} = {values[name] or '-'}\t({spec.label}; {spec.range_text})")


def _use_argument(fn: F) -> F:
    return click.argument("use", type=click.Choice(["signing", "encryption"]))(fn)


@service_group.command("key-regen")
@_use_argument
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@handle_errors
def key_regen_cmd(ctx: click.Context, use: str, yes: bool) -> None:
    """Regenerate the authz signing or encryption key (`set key regen authz ...`)."""
    if not yes:
        click.echo(
            f"Regenerating the authz {use} key makes every current token that uses it invalid. "
            "Enter yes to continue:",
            err=True,
        )
        answer = sys.stdin.readline().strip() if not sys.stdin.closed else ""
        if answer.lower() != "yes":
            raise CliError("key regeneration not confirmed (answer yes, or pass --yes)")
    key = _service(ctx).regenerate_key(use)
    click.echo(f"authz {use} key regenerated: version {key.version}, checksum {key.checksum}")


@service_group.command("key-show")
@_use_argument
@click.option("--node", default=None, help="Only this node.")
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table")
@click.pass_context
@handle_errors
def key_show_cmd(ctx: click.Context, use: str, node: str | None, out_format: str) -> None:
    """Print the key checksum each node holds (`show key authz ...`)."""
    rows = _service(ctx).key_show(use, node)
    if out_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        note = "" if r["current"] else "  (stale: not the publisher's current key)"
        if r["loaded_version"] != r["version"]:
            note += f"  ({r['loaded_by']} still uses version {r['loaded_version']}: restart it)"
        click.echo(f"{r['node']}\t{use}\tversion {r['version']}\tchecksum {r['checksum']}{note}")


@service_group.command("key-sync")
@click.argument("server")
@click.pass_context
@handle_errors
def key_sync_cmd(ctx: click.Context, server: str) -> None:
    """A server's own key fetch: Expressway "Refresh servers", Unity "Sync Keys", IM&P central."""
    _service(ctx).sync_keys(server)
    click.echo(f"{server}: keys synced from the publisher")


@service_group.command("restart")
@click.argument(
    "service_name", metavar="SERVICE", type=click.Choice(["callmanager", "xcp-auth", "tomcat"])
)
@click.option("--node", default=None, help="Only this node (default: every node running it).")
@click.pass_context
@handle_errors
def restart_cmd(ctx: click.Context, service_name: str, node: str | None) -> None:
    """Restart Cisco CallManager, the Cisco XCP Authentication Service or Cisco Tomcat."""
    nodes = _service(ctx).restart(service_name, node)
    click.echo(f"{service_name} restarted on {', '.join(nodes) if nodes else 'no node'}")


@service_group.command("trace-level")
@click.argument("level", type=click.Choice(["debug", "info"]))
@click.option("--node", default=None, help="Node (default: the publisher; not cluster-wide).")
@click.pass_context
@handle_errors
def trace_level_cmd(ctx: click.Context, level: str, node: str | None) -> None:
    """Set the ssosp (samltrace) log level of one node."""
    name = _service(ctx).set_trace_level(level, node)
    click.echo(f"{name}: samltrace level {level}")


@service_group.command("sso")
@click.argument("action", type=click.Choice(["enable", "disable"]))
@click.pass_context
@handle_errors
def sso_cmd(ctx: click.Context, action: str) -> None:
    """Enable (a new ssosp file per node) or disable SAML SSO."""
    _service(ctx).set_sso(action == "enable")
    click.echo(f"SAML SSO {action}d")


@service_group.command("purge")
@click.pass_context
@handle_errors
def purge_cmd(ctx: click.Context) -> None:
    """Purge expired refresh tokens now (the service does it every night at 02:00)."""
    click.echo(f"purged {_service(ctx).purge()} expired refresh token(s)")


@service_group.group("nodes", invoke_without_command=True)
@click.pass_context
@handle_errors
def nodes_group(ctx: click.Context) -> None:
    """List the nodes and servers of the deployment (subcommands add and set change them)."""
    if ctx.invoked_subcommand is not None:
        return
    info = _service(ctx).info()
    click.echo(f"cluster {info['cluster']} ({info['uuid']})")
    for n in info["nodes"]:
        off = f"\tclock {n['clock_offset']:+g}s" if n["clock_offset"] else ""
        click.echo(f"{n['name']}\t{n['role']}\ttrace {n['trace_level']}{off}")


@nodes_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["subscriber", "imp", "imp-central", "expressway", "unity"]),
)
@click.option("--clock-offset", type=float, default=0.0, help="Seconds ahead (+) or behind (-).")
@click.pass_context
@handle_errors
def nodes_add_cmd(ctx: click.Context, name: str, role: str, clock_offset: float) -> None:
    """Add a node or server (it starts with the cluster's current keys)."""
    node = _service(ctx).add_node(name, role, clock_offset=clock_offset)
    click.echo(f"added {node.name} ({node.role.value})")


@nodes_group.command("set")
@click.argument("name")
@click.option("--clock-offset", type=float, required=True, help="Seconds ahead (+) or behind (-).")
@click.pass_context
@handle_errors
def nodes_set_cmd(ctx: click.Context, name: str, clock_offset: float) -> None:
    """Change a node's clock offset."""
    _service(ctx).set_clock_offset(name, clock_offset)
    click.echo(f"{name}: clock offset {clock_offset:+g}s")


# -- check, rules, timeline (diagnosis) ---------------------------------------------------------


def _ids(values: Sequence[str]) -> list[str]:
    """`--select LD1,LD203 --select LD9` -> ["LD1", "LD203", "LD9"]."""
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


@main.command("check")
@click.argument("paths", nargs=-1)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Deployment file (TOML) declaring what the deployment is meant to be.",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "json", "sarif", "junit"]),
    default="text",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="IDS",
    help="Run only these rules (comma-separated ids or prefixes: LD101,LD2).",
)
@click.option(
    "--ignore", multiple=True, metavar="IDS", help="Do not run these rules (ids or prefixes)."
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding at or above this severity is not in the baseline.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Known findings (rule + subject) that do not fail the check.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write the current findings to FILE as the new baseline (they then pass).",
)
@click.option(
    "--correct-skew",
    is_flag=True,
    help="Shift each node's times by its clock offset before correlating.",
)
@input_options
@handle_errors
def check_cmd(
    paths: Sequence[str],
    config: Path | None,
    out_format: str,
    output: Path | None,
    select: Sequence[str],
    ignore: Sequence[str],
    fail_on: str,
    baseline: Path | None,
    write_baseline: Path | None,
    correct_skew: bool,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Diagnose logs and / or a deployment file; exit 0 clean, 1 findings, 2 bad input.

    PATHS are log files, folders or bundles; --config FILE adds (or alone checks) the
    declared deployment.
    """
    from dataclasses import replace

    from logdoctor.baseline import dump_baseline, load_baseline
    from logdoctor.check import check
    from logdoctor.deployment import DeploymentError

    if not paths and config is None:
        raise CliError("nothing to check: give log paths, --config FILE, or both")
    for p in paths:
        if p.lower().endswith(".toml"):
            raise CliError(
                f"{p}: a TOML file among the log paths; give a deployment file with --config "
                "(one per run)"
            )
    try:
        known = None if baseline is None else load_baseline(baseline)
        report = check(
            list(paths),
            config=config,
            select=_ids(select),
            ignore=_ids(ignore),
            fail_on=fail_on,
            baseline=known,
            correct_skew=correct_skew,
            formats_dir=formats_dirs,
            node=set_node,
            tz=tz,
            jobs=jobs,
        )
    except DeploymentError as exc:
        raise CliError(str(exc)) from None
    if paths and report.files == 0 and not report.errors:
        raise CliError(
            f"no log file found in {', '.join(paths)} (ssoApp.log, ssosp*.log, certMgmt*.log)"
        )
    if write_baseline is not None:
        from logdoctor.baseline import Baseline
        from logdoctor.baseline import load_baseline as _reload

        try:
            write_baseline.write_text(dump_baseline(report.findings), encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{write_baseline}: cannot write ({exc.strerror or exc})") from None
        fresh: Baseline = _reload(write_baseline)
        report = replace(report, baseline=fresh)
        warn(f"wrote {len(fresh.entries)} finding(s) to the baseline {write_baseline}")
    with _binary_out(output) as fh:
        if out_format == "json":
            from logdoctor.outputs.findings import write_json

            write_json(report, fh)
        elif out_format == "sarif":
            from logdoctor.outputs.sarif import write_sarif

            write_sarif(report, fh)
        elif out_format == "junit":
            from logdoctor.outputs.junit import write_junit

            write_junit(report, fh)
        else:
            from logdoctor.outputs.findings import write_text

            color = output is None and sys.stdout.isatty()
            write_text(report, fh, width=_width(), color=color)
    _report_input_errors(report)
    sys.exit(report.exit_code)


def _width() -> int:
    import shutil

    return max(60, min(160, shutil.get_terminal_size((100, 24)).columns))


@main.command("rules")
@click.argument("rule_id", required=False, metavar="[ID]")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@handle_errors
def rules_cmd(rule_id: str | None, out_format: str) -> None:
    """List the diagnostic rules, or print the documentation page of rule ID."""
    from logdoctor.rules import all_rules, get_rule

    if rule_id is not None:
        try:
            r = get_rule(rule_id)
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from None
        if out_format == "json":
            doc = {
                "id": r.id,
                "severity": str(r.severity),
                "title": r.title,
                "category": r.category,
                "sections": r.doc.sections,
                "fix": list(r.doc.fix),
                "references": list(r.doc.references),
            }
            click.echo(json.dumps(doc, indent=2))
            return
        click.echo(f"{r.id} ({r.severity}, {r.category}): {r.title}\n")
        click.echo(r.doc.text)
        return
    rules = all_rules()
    if out_format == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "severity": str(r.severity),
                        "title": r.title,
                        "category": r.category,
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
        return
    from rich.table import Table

    t = Table(show_header=True, header_style="bold")
    t.add_column("id", no_wrap=True)
    t.add_column("severity", no_wrap=True)
    t.add_column("category", no_wrap=True)
    t.add_column("title", overflow="fold")
    for r in rules:
        t.add_row(r.id, str(r.severity), r.category, r.title)
    _console().print(t)


@main.command("timeline")
@click.argument("paths", nargs=-1, required=True)
@click.option("--user", metavar="U", help="Lines about user U.")
@click.option("--device", metavar="D", help="Lines about device D (CSF..., TCT...).")
@click.option("--node", metavar="N", help="Lines written by node N.")
@click.option("--token", metavar="JTI", help="Lines about token JTI (or tid), with its lineage.")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "jsonl"]),
    default="text",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output (jsonl).",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=500,
    show_default=True,
    help="Rows shown by --format text.",
)
@click.option(
    "--correct-skew",
    is_flag=True,
    help="Shift each node's times by its clock offset (see rule LD903) before merging.",
)
@input_options
@handle_errors
def timeline_cmd(
    paths: Sequence[str],
    user: str | None,
    device: str | None,
    node: str | None,
    token: str | None,
    out_format: str,
    output: Path | None,
    limit: int,
    correct_skew: bool,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """The merged, time-ordered lines of several nodes about a user, device, node or token."""
    from logdoctor import correlate
    from logdoctor.events import Events

    if not any((user, device, node, token)):
        raise CliError("give --user, --device, --node or --token (what the timeline is about)")
    result = _load(paths, formats_dirs, tz, set_node, jobs)
    events = Events(result.frame)
    note = ""
    if correct_skew:
        report = correlate.clock_skew(events)
        if report.skewed():
            events = Events(correlate.correct_skew(events.frame, report))
            note = "times corrected for clock skew: " + ", ".join(
                f"{n} {o:+.1f} s" for n, o in report.skewed()
            )
    lin = correlate.lineage(events)
    enriched = correlate.enrich(events, lin)
    frame = correlate.timeline(enriched, user=user, device=device, node=node, token=token, lin=lin)
    if out_format == "jsonl":
        from logdoctor.outputs.timeline import write_timeline_jsonl

        with _binary_out(output) as fh:
            write_timeline_jsonl(frame, fh)
    else:
        from logdoctor.outputs.timeline import timeline_table

        if output is not None:
            raise CliError("--output needs --format jsonl")
        console = _console()
        console.print(timeline_table(frame, limit=limit))
        more = (
            f"; {frame.height - limit:,} more (use --limit or --format jsonl)"
            if (frame.height > limit)
            else ""
        )
        span = ""
        if frame.height:
            lo, hi = frame["time"].min(), frame["time"].max()
            if isinstance(lo, datetime) and isinstance(hi, datetime):
                span = f" from {lo:%Y-%m-%d %H:%M:%S} to {hi:%Y-%m-%d %H:%M:%S} UTC"
        console.print(f"{frame.height:,} line(s){span}{more}", style="dim")
        if note:
            console.print(note, style="dim")
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
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Deployment file the rules compare the logs with (as for check).",
)
@click.option("--no-rules", is_flag=True, help="Show events only; run no rules.")
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
    config: Path | None,
    no_rules: bool,
    formats_dirs: Sequence[Path],
) -> None:
    """Follow logs as they grow and rotate; show events and findings as they happen.

    PATHS are folders (followed recursively: ssoApp.log, ssosp*.log, certMgmt*.log appearing in
    them are picked up) or single files. Ctrl-C stops with a summary (and the checkpoint saved).
    """
    import signal

    from logdoctor.tail.tailer import Tailer

    detector = None
    if not no_rules:
        from logdoctor.tail.rules import rules_detector

        detector = rules_detector(config)
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
        detector=detector,
    )

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        notices = tailer.start()
        if out_format == "jsonl":
            _tail_jsonl(tailer, notices)
        else:
            _tail_live(tailer, notices, rules=detector is not None)
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


def _tail_live(tailer: Any, notices: Sequence[Any], *, rules: bool) -> None:
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
            rules=rules,
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


# -- simulate ------------------------------------------------------------------------------------


def _sim_line(summary: Any, dest: str) -> str:
    from datetime import UTC

    start = datetime.fromtimestamp(summary.start, UTC).strftime("%Y-%m-%d %H:%M")
    exp = summary.expectation
    rules = ", ".join(exp.expect) or "no finding"
    return (
        f"{summary.scenario}: seed {summary.seed}, {summary.users} users "
        f"({summary.clients} clients), {summary.days} day(s) from {start} UTC, "
        f"{summary.files} files, {summary.bytes:,} bytes -> {dest}; expect {rules} "
        f"({summary.seconds:.1f} s)"
    )


@main.command("simulate")
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the scenarios and what each shows.")
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Simulate every scenario into OUT/NAME (what `make samples` does).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write: one folder per node (RTMT layout), deployment.toml, expected.json.",
)
@click.option(
    "--bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also (or instead) write the same as one zip file.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--start",
    metavar="ISO",
    default=None,
    help="First day of the log window (ISO 8601, UTC without a zone; default 2026-11-16, a "
    "Monday).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=None,
    help="Days of logs (default: the scenario's).",
)
@click.option(
    "--users",
    type=click.IntRange(1, 200_000),
    default=None,
    help="End users (default: the scenario's).",
)
@click.option(
    "--gzip-over",
    type=click.IntRange(0),
    default=None,
    metavar="BYTES",
    help="Gzip log files larger than BYTES (FILE.log.gz, as RTMT hands over rotated files).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an output folder that holds an earlier simulation.",
)
@handle_errors
def simulate_cmd(
    name: str | None,
    list_: bool,
    all_: bool,
    out: Path | None,
    bundle: Path | None,
    seed: int,
    start: str | None,
    days: int | None,
    users: int | None,
    gzip_over: int | None,
    force: bool,
) -> None:
    """Simulate a scenario: the token service driven by Jabber clients on a virtual clock.

    Writes what UCM would have logged (ssosp, ssoApp.log, certMgmt*.log per node), the
    declared deployment.toml and the expected.json verdicts. The same seed gives the same
    bytes.
    """
    from logdoctor.simulate import SCENARIOS, simulate

    if list_:
        width = max(len(n) for n in SCENARIOS)
        for sc in SCENARIOS.values():
            click.echo(f"{sc.name:<{width}}  {sc.summary}")
        return
    if all_:
        if name is not None or bundle is not None:
            raise CliError("--all takes no scenario name and no --bundle")
        if out is None:
            raise CliError("--all needs --out DIR (a folder per scenario is written in it)")
        for sc_name in SCENARIOS:
            dest = out / sc_name
            summary = simulate(
                sc_name,
                out=dest,
                seed=seed,
                start=start,
                days=days,
                users=users,
                gzip_over=gzip_over,
                replace=force,
            )
            click.echo(_sim_line(summary, str(dest)))
        return
    if name is None:
        raise CliError("give a scenario NAME (see --list), or --list, or --all")
    if out is None and bundle is None:
        raise CliError("give --out DIR and/or --bundle FILE.zip")
    summary = simulate(
        name,
        out=out,
        bundle=bundle,
        seed=seed,
        start=start,
        days=days,
        users=users,
        gzip_over=gzip_over,
        replace=force,
    )
    dests = [str(p) for p in (out, bundle) if p is not None]
    click.echo(_sim_line(summary, " and ".join(dests)))


# -- fleet ---------------------------------------------------------------------------------------


class _FleetProgress:
    """Progress of a fleet run on stderr with rich (done / failed / running); silent when
    stderr is not a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True, highlight=False)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("done"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[running]} running"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self.task: Any = None
        self.active: set[str] = set()
        self.failed = 0

    def __enter__(self) -> _FleetProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def begin(self, total: int, where: str) -> None:

        self.task = self.progress.add_task("checking", total=total, failed=0, running=0)

    def running(self, cluster: str) -> None:
        self.active.add(cluster)
        self.progress.update(self.task, running=len(self.active))

    def done(self, result: Any) -> None:
        self.active.discard(result.cluster)
        self.failed += 0 if result.ok else 1
        self.progress.update(self.task, advance=1, running=len(self.active), failed=self.failed)


@main.command("fleet")
@click.argument("bundles", nargs=-1, required=True, metavar="BUNDLES...")
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Deployment files, one per cluster: DIR/CLUSTER.toml goes with the bundle named "
    "CLUSTER (CLUSTER.zip, CLUSTER.tar.gz or the folder CLUSTER/). A cluster without one is "
    "checked from its logs alone.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on an existing Dask cluster (tcp://host:8786). Its workers open the bundles "
    "themselves: they must see them at the same paths.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    metavar="N",
    help="Worker processes of the local Dask cluster started without --scheduler "
    "(default: one per core).",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(0.1),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for --scheduler.",
)
@click.option(
    "--in-process",
    is_flag=True,
    help="No Dask: check the bundles one after the other in this process.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("fleet-report"),
    show_default=True,
    metavar="DIR",
    help="Folder for index.html, the fleet tables, summary.json and clusters/ (one report "
    "per cluster).",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["json", "csv", "parquet"]),
    default="json",
    show_default=True,
    help="Format of the fleet tables findings.* and clusters.*.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="warning",
    show_default=True,
    help="Exit 1 when a cluster has a finding at or above this severity.",
)
@click.option("--select", multiple=True, metavar="IDS", help="Run only these rules.")
@click.option("--ignore", multiple=True, metavar="IDS", help="Do not run these rules.")
@click.option("--correct-skew", is_flag=True, help="Shift each node's times by its clock offset.")
@click.option(
    "--split-mb",
    type=click.IntRange(1),
    default=128,
    show_default=True,
    metavar="MB",
    help="A bundle (folder or zip) whose log files total more than MB is parsed as parts "
    "of about MB/2, in parallel across workers, before it is checked.",
)
@click.option(
    "--cluster-reports",
    type=click.Choice(["html", "json", "none"]),
    default="html",
    show_default=True,
    help="Each cluster's report in DIR/clusters/: the HTML report (as `logdoctor report`), "
    "the check document (as `check --format json`), or none.",
)
@click.option("--title", default=None, help="Title of the summary page.")
@click.option(
    "--tz",
    metavar="ZONE",
    default=None,
    help="Zone the logs' timestamps were written in (IANA name or offset). Default: UTC.",
)
@formats_dir_option
@handle_errors
def fleet_cmd(
    bundles: Sequence[str],
    config_dir: Path | None,
    scheduler: str | None,
    workers: int | None,
    connect_timeout: float,
    in_process: bool,
    out: Path,
    out_format: str,
    fail_on: str,
    select: Sequence[str],
    ignore: Sequence[str],
    correct_skew: bool,
    split_mb: int,
    cluster_reports: str,
    title: str | None,
    tz: str | None,
    formats_dirs: Sequence[Path],
) -> None:
    """Check many clusters at once: one bundle (folder or archive) per cluster.

    Each bundle is parsed, correlated and checked as one task on a Dask cluster (a local one
    sized to this machine, or --scheduler's); the results are gathered into fleet tables,
    a summary page (DIR/index.html) and one report per cluster (DIR/clusters/). The cluster
    of a bundle is its name without the archive suffix. Exit 0 clean, 1 findings at or
    above --fail-on, 2 a bundle could not be read (the others are still checked).
    """
    from logdoctor.fleet import FleetOutput, Options, find_bundles, unmatched_configs
    from logdoctor.fleet.runner import run_in_process, validate
    from logdoctor.outputs.terminal import clean

    if in_process and (scheduler is not None or workers is not None):
        raise CliError("--in-process runs without Dask: it takes neither --scheduler nor --workers")
    if scheduler is not None and workers is not None:
        raise CliError("--workers sizes a local cluster; with --scheduler the cluster has its own")
    found = find_bundles(list(bundles), config_dir)
    if config_dir is not None:
        for path in unmatched_configs(config_dir, found):
            warn(f"{path}: no bundle of this cluster among the inputs (not used)")
    opts = Options(
        select=tuple(_ids(select)),
        ignore=tuple(_ids(ignore)),
        fail_on=fail_on,
        correct_skew=correct_skew,
        formats_dir=tuple(str(d) for d in formats_dirs),
        tz=tz,
        jobs=(os.cpu_count() or 1) if in_process else 1,
        split_bytes=split_mb << 20,
        part_bytes=max(1, (split_mb << 20) // 2),
        report=cluster_reports,
    )
    validate(opts)
    if not in_process:
        try:
            from logdoctor.fleet.dask_runner import connect, run_dask
        except ImportError as exc:
            raise CliError(
                f"logdoctor fleet needs Dask ({exc}): pip install 'logdoctor[fleet]', "
                "or run with --in-process"
            ) from None
    output = FleetOutput(out, out_format)
    if in_process:
        with _FleetProgress() as progress:
            result = run_in_process(found, opts, observer=progress, on_result=output.document)
    else:
        with (
            connect(scheduler, workers, timeout=connect_timeout) as conn,
            _FleetProgress() as progress,
        ):
            result = run_dask(found, opts, conn, observer=progress, on_result=output.document)
    written = output.finish(result, title=title)
    for b in result.bundles:
        if not b.ok:
            click.echo(
                f"logdoctor: error: {clean(b.cluster)}: {b.status}: {clean(b.error)}", err=True
            )
    s = result.summary()
    st, sev = s["status"], s["by_severity"]
    start = f" (+{result.startup_seconds:.1f} s start-up)" if result.startup_seconds else ""
    click.echo(
        f"{s['clusters']} cluster(s) on {result.where} in {result.seconds:.1f} s{start}: "
        f"{st['ok']} checked, {st['partial']} partial, {st['failed']} failed"
    )
    verdict = (
        f"{s['failing_clusters']} cluster(s) FAILED at or above {fail_on}"
        if s["failing_clusters"]
        else f"no finding at or above {fail_on}"
    )
    click.echo(
        f"{s['findings']} finding(s): {sev['error']} error, {sev['warning']} warning, "
        f"{sev['info']} info; {verdict}"
    )
    click.echo(
        f"wrote {', '.join(str(p) for p in written)} and {output.reports} cluster "
        f"report(s) in {output.clusters}"
    )
    sys.exit(result.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
