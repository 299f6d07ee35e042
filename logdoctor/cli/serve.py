"""``serve``: run the built-in token service; also the token service options and secret files
the ``service`` commands share."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import CliError, F, handle_errors

# -- the token service -----------------------------------------------------------------------------

if TYPE_CHECKING:
    from logdoctor.tokenservice.service import AdminCredentials

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


def read_secret_file(path: Path, what: str) -> str:
    """The secret in ``path``: its text without the final line break (one line when unreadable
    or empty)."""
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
@click.option(
    "--log-backups",
    type=click.IntRange(0, 10000),
    default=10,
    show_default=True,
    help="Rotated files kept per log (ssosp, ssoApp.log, certMgmt) besides the current one; "
    "older ones are deleted when a log rotates (at 10 MB).",
)
@click.option(
    "--ucm-version",
    type=click.Choice(["12.5", "14", "15"]),
    default=None,
    help="UCM version whose logs to write (threads, loggers, ssosp folder), kept in the data "
    "dir [default: the data dir's, else 12.5].",
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
    log_backups: int,
    ucm_version: str | None,
) -> None:
    """Run the token service (UCM's ssosp OAuth endpoints) over HTTP."""
    from logdoctor.tokenservice import server
    from logdoctor.tokenservice.service import Service

    admin = _admin(admin_user, admin_password_file)
    if (tls_cert is None) != (tls_key is None):
        raise CliError("--tls-cert and --tls-key go together")
    for p in (tls_cert, tls_key):
        if p is not None and not p.is_file():
            raise CliError(f"{p}: no such file")
    service = Service(data_dir, admin=admin, cluster=cluster)
    if ucm_version is not None:
        service.set_ucm_version(ucm_version)
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
            f"logdoctor: serving {node or info['publisher']} of {info['cluster']} "
            f"(UCM {info['ucm_version']}) on "
            f"{scheme}://{bound_host}:{bound_port} (data dir {data_dir})",
            err=True,
        )
        click.echo(f"{scheme}://{bound_host}:{bound_port}", err=False)
        sys.stdout.flush()

    server.run_workers(
        lambda: Service(data_dir, admin=admin, log_backups=log_backups),
        sock,
        workers,
        node=node,
        tls_cert=tls_cert,
        tls_key=tls_key,
        on_ready=ready,
    )


def _admin(user: str | None, password_file: Path | None) -> AdminCredentials:
    """The revoke API's administrator: --admin-user and the password from
    --admin-password-file or the environment (one line when either is missing)."""
    from logdoctor.tokenservice.service import AdminCredentials

    if not user:
        raise CliError("--admin-user is required (the revoke API's administrator)")
    if password_file is not None:
        password = read_secret_file(password_file, "admin password")
    elif os.environ.get(ADMIN_PASSWORD_ENV):
        password = os.environ[ADMIN_PASSWORD_ENV]
    else:
        raise CliError(f"give --admin-password-file FILE or set ${ADMIN_PASSWORD_ENV}")
    return AdminCredentials(user, password)
