"""1xx, the servers around UCM: Expressway-C and Unity Connection settings and keys that must
agree with UCM's (LD101, LD102, LD103). UCM's own parameters are in :mod:`.parameters`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import polars as pl

from logdoctor.analysis.clientside import with_client_side
from logdoctor.model import Severity
from logdoctor.rules.context import Context, Hit
from logdoctor.rules.declared import key_mismatches, refresh_flag_conflicts
from logdoctor.rules.registry import INFERRED, TOKEN_FLOW, Needs, rule

SYSCFG = (
    "Cisco Unified CM System Configuration Guide 12.5(1), Configure Cisco Jabber: "
    "https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/"
    "cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_"
    "0111000.html"
)
TN212794 = (
    "Cisco TAC 212794, Deploy and Troubleshoot Authorization Code Grant Flow (OAuth, "
    "Collaboration 12.0): https://www.cisco.com/c/en/us/support/docs/unified-communications/"
    "jabber/212794-cisco-collaboration-solutions-12-0-oaut.html"
)


TOKEN_PATH = "/ssosp/oauth/token"
"""UCM's token endpoint, as an Expressway relays it (``/<base64>/ssosp/oauth/token``)."""
EDGE_ROWS = 10
"""Expressway lines added to a finding as corroborating evidence, at most."""


def distinct(rows: pl.DataFrame, column: str, form: str = "{}") -> str:
    """The values of ``column`` in ``rows`` (nulls left out), sorted, once each, comma-separated
    and put in ``form`` (a message's list of devices, servers, users: ``" from {}"``); ""
    when there are none."""
    values = sorted(set(rows[column].drop_nulls().to_list()))
    return form.format(", ".join(values)) if values else ""


def client_hit(ctx: Context, subject: str, message: str, rows: pl.DataFrame) -> Hit:
    """A hit about a user (or server, device) whose rows come with the client side's lines
    (:func:`~logdoctor.analysis.clientside.with_client_side`)."""
    return Hit(subjects=(subject,), message=message, rows=with_client_side(ctx.events, rows))


def client_count(rows: pl.DataFrame) -> int:
    """How many clients (device, else user, else client id) ``rows`` come from."""
    key = pl.coalesce(pl.col("device"), pl.col("user"), pl.col("client_id"), pl.lit("?"))
    return int(rows.select(key.n_unique()).item()) if rows.height else 0


def relayed(ctx: Context, server: str, path: str, status: str | None = None) -> pl.DataFrame:
    """What Expressway ``server``'s diagnostic log shows of the requests it relayed whose
    path contains ``path``: the requests (``edge.request``) and their responses
    (``edge.response``, joined by Txn-id; only those with ``status`` and their requests when
    given), in time order."""
    ev = ctx.events
    req = ev.of("edge.request").filter(
        (pl.col("node") == server)
        & pl.col("value").cast(pl.String).str.contains(path, literal=True)
    )
    if req.height == 0:
        return req
    resp = ev.of("edge.response").filter(
        (pl.col("node") == server) & pl.col("key").is_in(req["key"].to_list())
    )
    if status is not None:
        resp = resp.filter(pl.col("reason") == status)
        req = req.filter(pl.col("key").is_in(resp["key"].to_list()))
    return pl.concat([req, resp], how="vertical").sort("time", maintain_order=True)


def expressway_refusals(ctx: Context) -> pl.DataFrame:
    """The UDS requests (``/cucm-uds/``) each Expressway answered 401 while it held the same
    keys as UCM (not after its alarm 40054 "Token decryption failure" until a later "Refresh
    servers"): tokens it refused for themselves (expired, revoked user), not for its keys.
    The request rows, ``server`` set to the Expressway."""
    ev = ctx.events
    alarms = ev.of("edge.alarm").filter(pl.col("key") == "40054")
    refreshed = ev.of("edge.config.changed").filter(
        pl.col("reason").cast(pl.String).str.starts_with("Refresh servers")
    )
    parts = []
    for server in sorted(ev.of("edge.response")["node"].drop_nulls().unique().to_list()):
        rows = relayed(ctx, server, "/cucm-uds/", "401")
        req = rows.filter(pl.col("kind") == "edge.request")
        if req.height == 0:
            continue
        raised: list[datetime] = alarms.filter(pl.col("node") == server)["time"].to_list()
        fixed: list[datetime] = refreshed.filter(pl.col("node") == server)["time"].to_list()

        def keys_ok(
            t: datetime, raised: list[datetime] = raised, fixed: list[datetime] = fixed
        ) -> bool:
            last_alarm = max((a for a in raised if a <= t), default=None)
            return last_alarm is None or any(last_alarm < f <= t for f in fixed)

        ok = [keys_ok(t) for t in req["time"].to_list()]
        req = req.filter(pl.Series(ok, dtype=pl.Boolean))
        parts.append(req.with_columns(pl.lit(server).cast(req.schema["server"]).alias("server")))
    return pl.concat(parts, how="vertical") if parts else ev.of("edge.request").head(0)


@rule(
    "LD101",
    Severity.ERROR,
    "Expressway refreshes while UCM's refresh login flow is off",
    needs=Needs(
        kinds=(*TOKEN_FLOW, "edge.request", "edge.response"),
        roles=("ucm",),
        families=("ssosp",),
        config="or",
    ),
)
def expressway_refresh_ucm_off(ctx: Context) -> Iterator[Hit]:
    """What:
    An Expressway-C authorizes Jabber by OAuth token *with refresh* while UCM's enterprise
    parameter "OAuth with Refresh Login Flow" is Disabled: Jabber over Mobile and Remote
    Access is steered into the refresh login flow and presents refresh grants that UCM
    refuses.

    Why:
    UCM ships with the refresh login flow disabled and Expressway ships with "Authorize by
    OAuth token with refresh" on, so the defaults mismatch. Remote users are asked to sign
    in again every time their access token runs out (every hour by default), or cannot sign
    in at all, while users on premises are fine.

    Detection:
    Refresh grants refused with reason ``refresh_disabled`` that came through an Expressway
    (``via=`` set), at least 2 per Expressway, from clients that were not issued a refresh
    token earlier in the logs (those are LD109's): UCM's side, in its ssosp log. When the
    Expressway's diagnostic log is in the bundle, its side is added as evidence: the token
    requests (``POST /<base64>/ssosp/oauth/token``) it relayed that were answered 400
    (``edge.request`` / ``edge.response``, joined by Txn-id). With a deployment file: an
    ``[[expressway]]`` whose ``authorize_by_oauth_token_with_refresh = "on"`` serves a
    cluster whose ``refresh_login_flow = "off"``. Subject: the Expressway.

    Example:
        2026-11-20 08:45:00,500 WARN  [http-bio-8443-exec-2] oauth.TokenServlet - Token request refused: grant=refresh_token error=invalid_grant reason=refresh_disabled user=- client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a device=- tid=- via=expc1

    Fix:
    1. Decide whether the deployment uses OAuth refresh logins (Jabber 11.9 or later
       everywhere, Unity Connection and Expressway releases that support them).
    2. To use them: in Cisco Unified CM Administration choose System > Enterprise
       Parameters, set "OAuth with Refresh Login Flow" to Enabled under SSO Configuration,
       set the access and refresh token expiry timers, and click Save.
    3. Otherwise, on the Expressway-C choose Configuration > Unified Communications >
       Configuration > MRA Access Control and set "Authorize by OAuth token with refresh" to
       Off, so that the two products agree.
    4. Reset all Cisco Jabber and Webex clients after changing the parameter.

    References:
    - Cisco Unified CM System Configuration Guide 12.5(1), Configure Cisco Jabber, Configure
      Refresh Logins for Cisco Jabber (the note on the Expressway default)
    - Cisco Expressway MRA Deployment Guide X12.6, MRA Access Control
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/jabber/212794-cisco-collaboration-solutions-12-0-oaut.html
    """  # noqa: E501
    ev = ctx.events
    refusals = ev.grant_refusals.filter(
        (pl.col("reason") == "refresh_disabled") & pl.col("server").is_not_null()
    )
    if refusals.height:
        issued = ctx.lineage.filter(
            (pl.col("type") == "refresh") & pl.col("issued_at").is_not_null()
        )["token_id"]
        fresh = refusals.filter(
            pl.col("token_id").is_null() | ~pl.col("token_id").is_in(issued.to_list())
        )
        for server in sorted(fresh["server"].unique().to_list()):
            rows = fresh.filter(pl.col("server") == server)
            if rows.height < 2:
                continue
            edge = relayed(ctx, server, TOKEN_PATH, "400")
            yield Hit(
                subjects=(server,),
                message=(
                    f"UCM refused {rows.height} refresh grant(s) from {client_count(rows)}"
                    f" client(s) that came through {server}, because its refresh login flow is"
                    f" disabled: {server} authorizes by OAuth token with refresh, so Jabber over"
                    " MRA asks for refresh tokens that UCM never issues."
                    + (
                        f" {server}'s own log shows {edge.height // 2} token request(s) it"
                        " relayed answered 400."
                        if edge.height
                        else ""
                    )
                ),
                rows=pl.concat([rows, edge.head(EDGE_ROWS)], how="vertical"),
            )
    yield from refresh_flag_conflicts(ctx.declared, "expressway", peer_on=True)


@rule(
    "LD102",
    Severity.WARNING,
    "Remote Jabber kept off refresh logins: Expressway refresh off",
    needs=Needs(
        kinds=(*INFERRED, "edge.request"), roles=("ucm",), families=("ssosp",), config="or"
    ),
)
def expressway_refresh_off_ucm_on(ctx: Context) -> Iterator[Hit]:
    """What:
    UCM's refresh login flow is enabled, but an Expressway-C does not authorize by OAuth token
    with refresh: Jabber clients that could use refresh logins sign in through it with the
    implicit grant and get no refresh token, while clients on premises do get one.

    Why:
    Refresh logins must be on across UCM, IM and Presence, Unity Connection and Expressway.
    With the Expressway off, remote users sign in again whenever their access token expires
    (every hour by default) although the deployment was meant to spare them that.

    Detection:
    The refresh login flow is on (refresh tokens issued, or declared), and through an
    Expressway only implicit-grant authorize requests (``response_type=token``) arrive, at
    least 2 of them from Jabber 11.9 or later (or an undeclared release), with no refresh
    grant or refresh token through it (UCM's ssosp log); the Expressway's own log, when
    present, adds the authorize requests it relayed with ``response_type=token``. With a
    deployment file: an ``[[expressway]]`` with
    ``authorize_by_oauth_token_with_refresh = "off"`` serving a cluster whose
    ``refresh_login_flow = "on"``. Subject: the Expressway.

    Example:
        2026-11-20 08:00:00,001 INFO  [http-bio-8443-exec-12] oauth.AuthorizeServlet - Authorize request: response_type=token client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a user=alice device=CSFALICE agent=Jabber%2F14.1.0%20%28Windows%29 via=expc1

    Fix:
    1. On the Expressway-C choose Configuration > Unified Communications > Configuration >
       MRA Access Control and set "Authorize by OAuth token with refresh" to On.
    2. Under Configuration > Unified Communications > Unified CM servers (and Unity
       Connection servers) click Refresh servers, so that the Expressway fetches UCM's keys.
    3. Reset the Jabber clients that sign in over MRA.

    References:
    - Cisco Expressway MRA Deployment Guide X12.6, MRA Access Control (Authorize by OAuth
      token with refresh, Refresh servers)
    - Cisco Jabber 12.6 Planning Guide, OAuth prerequisites
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    ev = ctx.events
    if ctx.has_logs and ctx.parameter("refresh_login_flow") is True:
        refresh_through = set(
            ev.narrow(["token.refresh.issued", "token.refreshed"], ["server"])["server"]
            .drop_nulls()
            .unique()
            .to_list()
        )
        refresh_through |= set(
            ev.grant_refusals.filter(pl.col("grant") == "refresh_token")["server"]
            .drop_nulls()
            .to_list()
        )
        refresh_through |= set(
            ev.of("authorize.request")
            .filter(pl.col("grant") == "code")["server"]
            .drop_nulls()
            .to_list()
        )
        onprem = ev.where(["token.refresh.issued"], pl.col("server").is_null())
        implicit = ctx.agents.filter(
            (pl.col("grant") == "token")
            & pl.col("server").is_not_null()
            & pl.col("a_capable").fill_null(True)
        )
        for server in sorted(implicit["server"].unique().to_list()):
            if server in refresh_through or ctx.role(server) not in ("expressway", "unknown"):
                continue
            rows = implicit.filter(pl.col("server") == server).select(ev.frame.columns)
            if rows.height < 2:
                continue
            edge = relayed(ctx, server, "/authorize").filter(pl.col("grant") == "token")
            contrast = (
                f" while {onprem.height} refresh token(s) went to clients on premises"
                if onprem.height
                else ""
            )
            yield Hit(
                subjects=(server,),
                message=(
                    f"{client_count(rows)} Jabber client(s) that support refresh logins signed in"
                    f" through {server} with the implicit grant ({rows.height} request(s)) and"
                    f" got no refresh token{contrast}: {server} does not authorize by OAuth"
                    " token with refresh, although UCM's refresh login flow is on."
                ),
                rows=pl.concat([rows, onprem.head(2), edge.head(EDGE_ROWS)], how="vertical"),
            )
    yield from refresh_flag_conflicts(ctx.declared, "expressway", peer_on=False)


@rule(
    "LD103",
    Severity.ERROR,
    "Unity Connection out of step with UCM (refresh flow or keys)",
    needs=Needs(
        kinds=("authz.keys.mismatch",), roles=("unity",), families=("ciscosyslog",), config="or"
    ),
)
def unity_mismatch(ctx: Context) -> Iterator[Hit]:
    """What:
    Unity Connection does not accept the tokens UCM issues now: it holds other authz keys than
    UCM (keys not synchronized with its Authz Server), or its own "OAuth with Refresh Login
    Flow" setting differs from UCM's.

    Why:
    Unity Connection validates Jabber's access tokens itself with keys fetched from the UCM
    publisher. When its keys are stale, voicemail in Jabber fails with HTTP 401 (Unity raises
    the EvtAuthzKeyRotation alarm) while calls and chat work.

    Detection:
    The ``EvtAuthzKeyRotation`` alarm (kind ``authz.keys.mismatch``) in a Unity Connection
    server's CiscoSyslog: Cisco's troubleshooting guide says it means the authorization keys
    were changed on UCM and Unity Connection was not synchronized. The alarm's name and text
    are Cisco's (the CUC alarm catalog); its emitted prefix is not public (basis
    documented). Validation failures Unity Connection itself would log are not read: UCM
    does not log them. With a deployment file: a ``[[unity]]`` whose ``refresh_login_flow``
    or ``keys`` differ from its cluster's. Subject: the Unity Connection server.

    Example:
        Nov 20 08:20:00 cuc1 local7 4 : 12: cuc1.example.com: Nov 20 2026 08:20:00.000 UTC : %UC_CUC-4-EvtAuthzKeyRotation: %[AppID=Cisco Unity Connection][ClusterID=][NodeID=cuc1]: Jabber login for user is failing due to improper Authz keys. Sync keys with the associated Authz Server.

    Fix:
    1. In Cisco Unity Connection Administration choose System Settings > Enterprise
       Parameters > SSO and OAuth Configuration and set "OAuth with Refresh Login Flow" to
       the same value as on UCM.
    2. Choose System Settings > Authz Servers, check that the UCM publisher is listed (with
       an administrator that has AXL access), and click Sync Keys.
    3. Confirm that the EvtAuthzKeyRotation alarm clears and that Jabber voicemail works.

    References:
    - Cisco Unity Connection Troubleshooting Guide 14, Authz Server (Sync Keys,
      EvtAuthzKeyRotation)
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/jabber/212794-cisco-collaboration-solutions-12-0-oaut.html
    """  # noqa: E501
    alarms = ctx.events.of("authz.keys.mismatch")
    for server in sorted(alarms["node"].drop_nulls().unique().to_list()):
        rows = alarms.filter(pl.col("node") == server)
        yield Hit(
            subjects=(server,),
            message=(
                f"{server} (Unity Connection) raised EvtAuthzKeyRotation {rows.height} time(s),"
                f" last at {rows['time'][-1]:%Y-%m-%d %H:%M:%S} UTC: Jabber logins fail there"
                " because its authz keys are not UCM's (Sync Keys not done since the keys"
                " changed)."
            ),
            rows=rows,
        )
    d = ctx.declared
    if d is not None:
        yield from refresh_flag_conflicts(d, "unity")
        yield from key_mismatches(d, d.unity, "unity")
