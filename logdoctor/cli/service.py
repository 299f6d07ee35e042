"""``service``: administer the built-in token service's data dir (``serve`` runs it:
:mod:`logdoctor.cli.serve`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import CliError, F, handle_errors
from logdoctor.cli.inputs import write_document
from logdoctor.cli.options import format_option

# Importing serve registers the ``serve`` command too (cli/__init__ imports only this module).
from logdoctor.cli.serve import data_dir_option, read_secret_file

if TYPE_CHECKING:
    from logdoctor.tokenservice.service import Service


@main.group("service")
@data_dir_option
@click.pass_context
def service_group(ctx: click.Context, data_dir: Path) -> None:
    """Administer the token service's data dir (works whether or not `serve` runs on it)."""
    ctx.obj = data_dir


def _service(ctx: click.Context) -> Service:
    """The data dir's service (closed when the command ends)."""
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
    password = read_secret_file(password_file, "password")
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
    password = read_secret_file(password_file, "password") if password_file else None
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
@format_option("listing", "table", show_default=False)
@click.pass_context
@handle_errors
def params_cmd(ctx: click.Context, assignments: Sequence[str], out_format: str) -> None:
    """Show or set the service's parameters: enterprise parameters (refresh_login_flow,
    access_token_expiry_minutes, refresh_token_expiry_days, implicit_grant, redirect_uris) and
    the credential policy (failed_logon, reset_failed_logon_minutes, lockout_duration_minutes,
    failed_logon_per_address)."""
    from logdoctor.ucm.params import PARAMS

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
    if write_document("listing", out_format, lambda: values):
        return
    for name, spec in PARAMS.items():
        click.echo(
            f"{name} = {values[name] or '-'}\t({spec.group} > {spec.label}; {spec.range_text})"
        )


@service_group.command("lockouts")
@click.option(
    "--reset",
    "resets",
    multiple=True,
    metavar="SCOPE:NAME",
    help="Clear a failed-logon count and its lockout: user:NAME, admin:NAME, address:ADDR, or "
    "SCOPE:* for all of a scope (repeatable; UCM's Reset Hack Count).",
)
@format_option("listing", "table", show_default=False)
@click.pass_context
@handle_errors
def lockouts_cmd(ctx: click.Context, resets: Sequence[str], out_format: str) -> None:
    """List failed-logon counts and lockouts (end users, the administrator, client addresses),
    or reset them."""
    from logdoctor.outputs.terminal import clean
    from logdoctor.tokenservice.lockout import SCOPES

    pairs: list[tuple[str, str | None]] = []
    for item in resets:
        scope, sep, name = item.partition(":")
        if not sep or scope not in SCOPES or not name:
            raise CliError(
                f"--reset {item!r}: write SCOPE:NAME with SCOPE one of {', '.join(SCOPES)}"
            )
        pairs.append((scope, None if name == "*" else name))
    svc = _service(ctx)
    for scope, key in pairs:
        n = svc.reset_lockouts(scope, key)
        click.echo(f"{scope}:{key or '*'}: {n} count(s) cleared")
    if pairs:
        return
    rows = svc.lockout_list()
    if write_document("listing", out_format, lambda: rows):
        return
    for r in rows:
        if r["locked"]:
            state = (
                "locked until reset" if r["until"] is None else f"locked until {_iso(r['until'])}"
            )
        else:
            state = "not locked"
        name = clean(r["name"])  # names tried by anyone: never raw to the terminal
        click.echo(
            f"{r['scope']}:{name}\t{r['failures']} failure(s), last {_iso(r['last_failure'])}"
            f"\t{state}"
        )


def _iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
@format_option("listing", "table", show_default=False)
@click.pass_context
@handle_errors
def key_show_cmd(ctx: click.Context, use: str, node: str | None, out_format: str) -> None:
    """Print the key checksum each node holds (`show key authz ...`)."""
    rows = _service(ctx).key_show(use, node)
    if write_document("listing", out_format, lambda: rows):
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
    "service_name",
    metavar="SERVICE",
    type=click.Choice(["callmanager", "xcp-auth", "tomcat", "ssosp-tomcat"]),
)
@click.option("--node", default=None, help="Only this node (default: every node running it).")
@click.pass_context
@handle_errors
def restart_cmd(ctx: click.Context, service_name: str, node: str | None) -> None:
    """Restart Cisco CallManager, the Cisco XCP Authentication Service, Cisco Tomcat or (UCM 14
    and later) Cisco SSOSP Tomcat."""
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
    click.echo(f"cluster {info['cluster']} ({info['uuid']}), UCM {info['ucm_version']}")
    for n in info["nodes"]:
        off = f"\tclock {n['clock_offset']:+g}s" if n["clock_offset"] else ""
        zone = f"\tzone {n['zone']}" if n["zone"] != "UTC" else ""
        click.echo(f"{n['name']}\t{n['role']}\ttrace {n['trace_level']}{off}{zone}")


@nodes_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["subscriber", "imp", "imp-central", "expressway", "unity"]),
)
@click.option("--clock-offset", type=float, default=0.0, help="Seconds ahead (+) or behind (-).")
@click.option("--zone", default=None, help="Time zone of its log times (IANA name; default UTC).")
@click.pass_context
@handle_errors
def nodes_add_cmd(
    ctx: click.Context, name: str, role: str, clock_offset: float, zone: str | None
) -> None:
    """Add a node or server (it starts with the cluster's current keys)."""
    svc = _service(ctx)
    node = svc.add_node(name, role, clock_offset=clock_offset)
    if zone is not None:
        svc.set_zone(node.name, zone)
    click.echo(f"added {node.name} ({node.role.value})")


@nodes_group.command("set")
@click.argument("name")
@click.option("--clock-offset", type=float, default=None, help="Seconds ahead (+) or behind (-).")
@click.option("--zone", default=None, help="Time zone of its log times (IANA name, or UTC).")
@click.pass_context
@handle_errors
def nodes_set_cmd(
    ctx: click.Context, name: str, clock_offset: float | None, zone: str | None
) -> None:
    """Change a node's clock offset or time zone."""
    if clock_offset is None and zone is None:
        raise CliError("give --clock-offset SECONDS or --zone ZONE")
    svc = _service(ctx)
    if clock_offset is not None:
        svc.set_clock_offset(name, clock_offset)
        click.echo(f"{name}: clock offset {clock_offset:+g}s")
    if zone is not None:
        click.echo(f"{name}: zone {svc.set_zone(name, zone)}")
