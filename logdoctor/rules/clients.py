"""4xx: Jabber clients (releases, push notifications, duplicate device names)."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from logdoctor.analysis.clientside import (
    CLIENT_FAILURES,
    uncovered_client_failures,
    with_client_side,
)
from logdoctor.analysis.events import Events
from logdoctor.model import Severity
from logdoctor.rules.configuration import client_hit, distinct
from logdoctor.rules.context import Context, Hit, when
from logdoctor.rules.registry import INFERRED, TOKEN_FLOW, Needs, rule
from logdoctor.ucm.deploymodel import Deployment, JabberGroup

FLAP_RETURNS = 2
"""A device name flaps when its lines go back to an earlier client at least this often."""


def _per_device(rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    key = pl.coalesce("device", "user")
    rows = rows.with_columns(key.alias("_who")).filter(pl.col("_who").is_not_null())
    return {
        w: rows.filter(pl.col("_who") == w).drop("_who")
        for w in sorted(rows["_who"].unique().to_list())
    }


def _agent_rows(ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
    return with_client_side(ctx.events, rows.select(ctx.events.frame.columns))


def _declared_groups(
    d: Deployment, groups: list[JabberGroup], key: str, problem: str
) -> Iterator[Hit]:
    """A hit per Jabber group of the deployment file with a ``problem`` (the rest of the
    message); its evidence is the group's ``key``. Subject: the group's label."""
    for g in groups:
        yield Hit(
            subjects=(g.label,),
            message=f"The deployment file lists {g.count} {g.label} installation(s){problem}",
            extra=(d.evidence(f"{g.path}.{key}"),),
        )


@rule(
    "LD401",
    Severity.WARNING,
    "Jabber older than 11.9 on the implicit grant",
    needs=Needs(kinds=(*INFERRED, *CLIENT_FAILURES), roles=("ucm",), config="or"),
)
def old_jabber_implicit(ctx: Context) -> Iterator[Hit]:
    """What:
    The refresh login flow is on, but Jabber clients older than 11.9 sign in with the implicit
    grant: they cannot use refresh logins.

    Why:
    Refresh logins exist since Jabber 11.9; older releases keep asking users to sign in again
    every time their access token expires (every hour by default), and they stop working if
    the implicit grant is ever disabled.

    Detection:
    With the refresh login flow on (refresh tokens issued, or declared; requests before a
    logged change to ``on`` are ignored), authorize requests with ``response_type=token``
    whose agent is Jabber older than 11.9. With a deployment file: ``[[jabber]]`` groups
    older than 11.9 while ``refresh_login_flow = "on"``. Subject: the device (or, from the
    file, the group: "Jabber 11.8.5 Windows").

    Example:
        2026-11-20 08:00:00,001 INFO  [http-bio-8443-exec-12] oauth.AuthorizeServlet - Authorize request: response_type=token client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a user=frank device=CSFFRANK agent=Jabber%2F11.8.5%20%28Windows%29 via=-

    Fix:
    1. Upgrade these clients to Jabber 11.9 or later (a supported current release).
    2. After the upgrade, reset them (or have users sign out and in) so that they start the
       refresh login flow.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    flow = ctx.parameter("refresh_login_flow")
    if ctx.has_logs and flow is True:
        rows = ctx.agents.filter(
            (pl.col("grant") == "token") & (pl.col("a_capable") == False)  # noqa: E712
        )
        t_on = ctx.time_of_last_change("refresh_login_flow", "on")
        if t_on is not None:
            rows = rows.filter(pl.col("time") >= t_on)
        for who, mine in _per_device(rows).items():
            agents = ", ".join(dict.fromkeys(mine["agent"].to_list()))
            users = distinct(mine, "user")
            yield Hit(
                subjects=(who,),
                message=(
                    f"{who}{f' ({users})' if users and users != who else ''} runs {agents}:"
                    f" {mine.height} implicit-grant sign-in(s) while the refresh login flow is"
                    " on; releases before 11.9 cannot use refresh logins."
                ),
                rows=_agent_rows(ctx, mine),
            )
    c, d = ctx.cluster, ctx.declared
    if c is None or d is None or c.parameters.refresh_login_flow is not True:
        return
    yield from _declared_groups(
        d,
        [g for g in d.jabber if g.version[:2] < (11, 9)],
        "version",
        ", older than 11.9, while the refresh login flow is on: they stay on the implicit grant.",
    )


@rule(
    "LD402",
    Severity.WARNING,
    "Jabber on iPhone or iPad without push notifications",
    needs=Needs(kinds=(*TOKEN_FLOW, *CLIENT_FAILURES), roles=("ucm",), config="or"),
)
def ios_without_push(ctx: Context) -> Iterator[Hit]:
    """What:
    Jabber on an iPhone or iPad signs in without push notifications.

    Why:
    Push notifications are mandatory for Jabber on iPhone and iPad: without them iOS suspends
    Jabber in the background and the user misses calls and messages.

    Detection:
    Authorize requests whose agent says iPhone or iPad (or a TCT device) with ``push=off``.
    With a deployment file: ``[[jabber]]`` groups on iPhone or iPad with ``push = false``.
    Subject: the device (or, from the file, the group).

    Example:
        2026-11-20 08:00:00,001 INFO  [http-bio-8443-exec-12] oauth.AuthorizeServlet - Authorize request: response_type=code client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a user=gina device=TCTGINA agent=Jabber%2F14.1.0%20%28iPhone%3B%20push%3Doff%29 via=expc1

    Fix:
    1. Deploy Push Notifications for Cisco Jabber on iPhone and iPad (on UCM and IM and
       Presence: onboard the cluster to the Cisco cloud and enable push notifications).
    2. Have the users allow notifications for Jabber on their devices, then sign out and in.

    References:
    - Push Notifications Deployment for Cisco Jabber on iPhone and iPad with Cisco Unified
      Communications Manager
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    if ctx.has_logs:
        rows = ctx.agents.filter(
            (pl.col("a_push") == False)  # noqa: E712
            & (
                pl.col("a_platform").is_in(["iPhone", "iPad"])
                | (
                    pl.col("a_platform").is_null()
                    & pl.col("device").cast(pl.String).str.starts_with("TCT")
                )
            )
        )
        for who, mine in _per_device(rows).items():
            platform = mine["a_platform"].drop_nulls()
            what = platform[0] if platform.len() else "iPhone"
            yield Hit(
                subjects=(who,),
                message=(
                    f"{who} runs Jabber on {what} without push notifications"
                    f" ({mine.height} sign-in(s)): calls and messages are missed while Jabber"
                    " is in the background."
                ),
                rows=_agent_rows(ctx, mine),
            )
    d = ctx.declared
    if d is None:
        return
    yield from _declared_groups(
        d,
        [g for g in d.jabber if g.platform in ("iPhone", "iPad") and g.push is False],
        "push",
        " without push notifications, which Jabber on iPhone and iPad requires.",
    )


@rule(
    "LD403",
    Severity.WARNING,
    "Two MRA clients share one device name (registration flapping)",
    needs=Needs(kinds=(*TOKEN_FLOW, *CLIENT_FAILURES), roles=("ucm",), families=("ssosp",)),
)
def duplicate_device_mra(ctx: Context) -> Iterator[Hit]:
    """What:
    Two Jabber clients use the same device name over Mobile and Remote Access (for example
    one laptop at the office and one at home): their lines alternate between two clients.

    Why:
    With graceful registration, the second registration de-registers the first; on premises
    the first then stays de-registered, but over MRA it registers again, and the two clients
    keep knocking each other off (calls drop, the phone flaps).

    Detection:
    For one device name, refresh grants and refresh tokens through an Expressway (``via=``)
    that switch back to an earlier refresh token (``tid``) at least twice (one client's
    chain, the other's, the first again...), or authorize requests through an Expressway that
    switch back to an earlier agent at least twice. Subject: the device name.

    Example:
        2026-11-20 08:45:00,500 INFO  [http-bio-8443-exec-2] oauth.TokenServlet - Refresh grant accepted: user=hank client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a device=CSFHANK tid=b991221f-f42e-4e52-8871-c876e635dd5b via=expc1

    Fix:
    1. Sign Jabber out on one of the two computers before using the other (the documented
       restriction for MRA).
    2. Or give each installation its own device (a second CSF device for the user) so that
       both can be registered.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    ev = ctx.events
    hits: dict[str, pl.DataFrame] = {}
    for kinds, col in (
        (["token.refresh.issued", "token.refreshed"], "token_id"),
        (["authorize.request"], "agent"),
    ):
        for device, mine in _returning(ev, kinds, col).items():
            old = hits.get(device)
            hits[device] = mine if old is None else pl.concat([old, mine], how="vertical")
    for device in sorted(hits):
        rows = hits[device].sort("time")
        clients = rows.select(pl.col("token_id").n_unique()).item()
        servers = distinct(rows, "server")
        yield client_hit(
            ctx,
            device,
            f"{device} is used by two clients at once through {servers}: its refresh"
            f" tokens (or agents) alternate ({clients} distinct token chains); with MRA the"
            " de-registered client registers again, and the two keep flapping.",
            rows,
        )


def _returning(ev: Events, kinds: list[str], col: str) -> dict[str, pl.DataFrame]:
    """Devices whose lines of ``kinds`` through an Expressway switch back to an earlier
    ``col`` (refresh token or agent) at least :data:`FLAP_RETURNS` times, with those lines
    (every column). Decided on the device, ``col`` and server of the lines alone; every
    column is gathered for the devices found only."""
    at = ev.positions(kinds)
    keep = (
        pl.col("device").is_not_null() & pl.col(col).is_not_null() & pl.col("server").is_not_null()
    )
    rows = ev.frame.select(pl.col("device", col, "server").gather(at), at.alias("_at")).filter(keep)
    if rows.height == 0:
        return {}
    rows = rows.with_columns(pl.int_range(pl.len()).over("device").alias("_i"))
    first = pl.col("_i").min().over(["device", col])
    changed = pl.col(col) != pl.col(col).shift(1).over("device")
    rows = rows.with_columns((changed.fill_null(False) & (pl.col("_i") > first)).alias("_ret"))
    counts = rows.group_by("device").agg(pl.col("_ret").sum().alias("_n"))
    found = {}
    for device, n in counts.iter_rows():
        if n >= FLAP_RETURNS:
            mine = rows.filter(pl.col("device") == device).get_column("_at")
            found[device] = ev.frame.select(pl.all().gather(mine))
    return found


CLIENT_REPEATS = 3
"""Client failures of one client, outside every server log, that make LD404 speak."""


@rule(
    "LD404",
    Severity.WARNING,
    "Jabber reports failures that no server log of the bundle covers",
    needs=Needs(kinds=CLIENT_FAILURES, families=("jabber",)),
)
def client_failures_without_server_logs(ctx: Context) -> Iterator[Hit]:
    """What:
    A Jabber problem report (PRT) shows the client's refresh grants refused
    (``handleRefreshTokenFailure``), servers answering 401 or UDS authentication failures,
    repeatedly, at times for which the bundle holds no server log at all.

    Why:
    Every other rule judges the servers' side of a failure; here only the client's side was
    collected, so nothing in the bundle can say why. A TAC engineer needs the UCM (and
    Expressway) logs of those hours: without them the failures stay unexplained, and the
    absence is easy to miss when the server logs of other days are there.

    Detection:
    Client failures (``client.refresh.failed``, ``client.auth.failed``, ``client.http`` with
    a status of 400 or more) of one client (user and device, from the PRT folder
    ``jabber-prt/<user>/<device>/``) outside the time span of every server log file of the
    bundle (2 minutes of slack): at least 3 of them. The client lines are published forms
    (TN-212794, TN-221845); that the server side is missing is what the bundle shows, not
    what a log line says. Subject: the user (the device when the PRT's user is unknown).

    Example:
        2021-03-30 14:21:49,631 WARN  [0x0000264c] [vices\\impl\\system\\SingleSignOn.cpp(1186)] [Single-Sign-On-Logger] [CSFUnified::SingleSignOn::Impl::handleRefreshTokenFailure] - Failed to get valid access token from refresh token, maybe server issue.

    Fix:
    1. Collect the UCM logs of the hours the PRT's failures span (RTMT Trace & Log Central:
       Cisco SSO, Cisco Tomcat, and CiscoSyslog of every node) and, for MRA clients, the
       Expressway-C and -E diagnostic logs of the same time.
    2. Check the bundle again with the PRT and those logs together: the server-side rules
       then say why the client failed.

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/jabber/212794-cisco-collaboration-solutions-12-0-oaut.html
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/jabber/221845-troubleshoot-jabber-log-in-common-issu.html
    """  # noqa: E501
    rows = uncovered_client_failures(ctx.events, ctx.stats)
    if rows.height < CLIENT_REPEATS:
        return
    who = pl.coalesce(pl.col("user").cast(pl.String), pl.col("device").cast(pl.String))
    rows = rows.with_columns(who.alias("_who")).filter(pl.col("_who").is_not_null())
    for subject in sorted(rows["_who"].unique().to_list()):
        mine = rows.filter(pl.col("_who") == subject).drop("_who")
        if mine.height < CLIENT_REPEATS:
            continue
        devices = distinct(mine, "device")
        kinds = mine["kind"].value_counts(sort=True)
        what = ", ".join(f"{n} {k}" for k, n in kinds.iter_rows())
        t0, t1 = when(mine["time"].min()), when(mine["time"].max())
        span = f" from {t0:%Y-%m-%d %H:%M} to {t1:%Y-%m-%d %H:%M} UTC" if t0 and t1 else ""
        yield Hit(
            subjects=(subject,),
            message=(
                f"{subject}'s Jabber{f' ({devices})' if devices and devices != subject else ''}"
                f" reports {mine.height} failure(s){span} ({what}), and no server log of the"
                " bundle covers that time: collect the UCM and Expressway logs of those hours."
            ),
            rows=mine,
        )
