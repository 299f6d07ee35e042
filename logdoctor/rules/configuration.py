"""1xx: configuration of the refresh login flow across UCM, Expressway and Unity Connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import polars as pl

from logdoctor.analysis.clientside import CLIENT_FAILURES, with_client_side
from logdoctor.model import Severity
from logdoctor.rules.context import Context, Hit
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


def _onoff(value: object) -> str:
    return "on" if value else "off"


def _clients(rows: pl.DataFrame) -> int:
    key = pl.coalesce(pl.col("device"), pl.col("user"), pl.col("client_id"), pl.lit("?"))
    return int(rows.select(key.n_unique()).item()) if rows.height else 0


@rule(
    "LD101",
    Severity.ERROR,
    "Expressway refreshes while UCM's refresh login flow is off",
    needs=Needs(kinds=(*TOKEN_FLOW,), roles=("ucm",), families=("ssosp",), config="or"),
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
    token earlier in the logs (those are LD109's). With a deployment file: an
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
            yield Hit(
                subjects=(server,),
                message=(
                    f"UCM refused {rows.height} refresh grant(s) from {_clients(rows)} client(s)"
                    f" that came through {server}, because its refresh login flow is disabled:"
                    f" {server} authorizes by OAuth token with refresh, so Jabber over MRA asks"
                    " for refresh tokens that UCM never issues."
                ),
                rows=rows,
            )
    d = ctx.declared
    if d is None:
        return
    for i, e in enumerate(d.expressways):
        c = d.cluster(e.cluster)
        if c is None or e.refresh is not True or c.parameters.refresh_login_flow is not False:
            continue
        ci = d.cluster_index(c.name)
        yield Hit(
            subjects=(e.name,),
            message=(
                f'The deployment file sets {e.name}\'s "Authorize by OAuth token with refresh"'
                f' on while cluster {c.name}\'s "OAuth with Refresh Login Flow" is off.'
            ),
            extra=(
                d.evidence(f"expressway[{i}].authorize_by_oauth_token_with_refresh"),
                d.evidence(f"cluster[{ci}].parameters.refresh_login_flow"),
            ),
        )


@rule(
    "LD102",
    Severity.WARNING,
    "Remote Jabber kept off refresh logins: Expressway refresh off",
    needs=Needs(kinds=INFERRED, roles=("ucm",), families=("ssosp",), config="or"),
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
    grant or refresh token through it. With a deployment file: an ``[[expressway]]`` with
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
            ev.of("token.refresh.issued", "token.refreshed")["server"].drop_nulls().to_list()
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
        onprem = ev.of("token.refresh.issued").filter(pl.col("server").is_null())
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
            contrast = (
                f" while {onprem.height} refresh token(s) went to clients on premises"
                if onprem.height
                else ""
            )
            yield Hit(
                subjects=(server,),
                message=(
                    f"{_clients(rows)} Jabber client(s) that support refresh logins signed in"
                    f" through {server} with the implicit grant ({rows.height} request(s)) and"
                    f" got no refresh token{contrast}: {server} does not authorize by OAuth"
                    " token with refresh, although UCM's refresh login flow is on."
                ),
                rows=pl.concat([rows, onprem.head(2)], how="vertical"),
            )
    d = ctx.declared
    if d is None:
        return
    for i, e in enumerate(d.expressways):
        c = d.cluster(e.cluster)
        if c is None or e.refresh is not False or c.parameters.refresh_login_flow is not True:
            continue
        ci = d.cluster_index(c.name)
        yield Hit(
            subjects=(e.name,),
            message=(
                f'The deployment file sets {e.name}\'s "Authorize by OAuth token with refresh"'
                f' off while cluster {c.name}\'s "OAuth with Refresh Login Flow" is on.'
            ),
            extra=(
                d.evidence(f"expressway[{i}].authorize_by_oauth_token_with_refresh"),
                d.evidence(f"cluster[{ci}].parameters.refresh_login_flow"),
            ),
        )


@rule(
    "LD103",
    Severity.ERROR,
    "Unity Connection out of step with UCM (refresh flow or keys)",
    needs=Needs(kinds=INFERRED, roles=("unity",), config="or"),
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
    Validation failures with check ``signature`` or ``decrypt`` at a Unity Connection server
    for tokens made with the cluster's current key (the kid names it, or, with no kid, more
    than one access-token lifetime after the last regeneration, or with no regeneration at
    all), at least 2, and no current token accepted there afterwards. With a deployment
    file: a ``[[unity]]`` whose ``refresh_login_flow`` or ``keys`` differ from its cluster's.
    Subject: the Unity Connection server.

    Example:
        2026-11-20 08:10:00,000 WARN  [http-bio-8443-exec-9] oauth.TokenValidator - Token validation failed: server=cuc1 check=signature user=- client_id=- jti=- kid=8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b

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
    for server, rows in ctx.stale_servers("unity"):
        yield Hit(
            subjects=(server,),
            message=(
                f"{server} (Unity Connection) rejected {rows.height} token(s) made with UCM's"
                " current keys (signature or decryption failed): its keys are not synchronized"
                " with UCM (Sync Keys not done)."
            ),
            rows=rows,
        )
    d = ctx.declared
    if d is None:
        return
    for i, u in enumerate(d.unity):
        c = d.cluster(u.cluster)
        if c is None:
            continue
        ci = d.cluster_index(c.name)
        want = c.parameters.refresh_login_flow
        if u.refresh_login_flow is not None and want is not None and u.refresh_login_flow != want:
            yield Hit(
                subjects=(u.name,),
                message=(
                    f'The deployment file sets {u.name}\'s "OAuth with Refresh Login Flow"'
                    f" {_onoff(u.refresh_login_flow)} while cluster {c.name}'s is"
                    f" {_onoff(want)}."
                ),
                extra=(
                    d.evidence(f"unity[{i}].refresh_login_flow"),
                    d.evidence(f"cluster[{ci}].parameters.refresh_login_flow"),
                ),
            )
        for use, key in u.keys.items():
            ref = c.keys.get(use)
            if ref is None or ref.checksum is None or key.checksum is None:
                continue
            if ref.checksum != key.checksum:
                yield Hit(
                    subjects=(u.name,),
                    message=(
                        f"The deployment file gives {u.name} another {use} key"
                        f" ({key.checksum[:12]}…) than cluster {c.name}"
                        f" ({ref.checksum[:12]}…)."
                    ),
                    extra=(
                        d.evidence(f"unity[{i}].keys.{use}"),
                        d.evidence(f"cluster[{ci}].keys.{use}"),
                    ),
                )


@rule(
    "LD104",
    Severity.WARNING,
    "The deployment file disagrees with the logs",
    needs=Needs(kinds=INFERRED, config="required"),
)
def declared_vs_inferred(ctx: Context) -> Iterator[Hit]:
    """What:
    A value in the deployment file (an enterprise parameter, a key checksum, an Expressway's
    refresh setting) is contradicted by what the logs show.

    Why:
    Either the file is out of date (and every check made from it is wrong), or the running
    system drifted from the configuration the team keeps under version control.

    Detection:
    Each value logdoctor infers from the logs (see the report's "configuration" section:
    refresh tokens issued mean the refresh flow is on, ``expires_in`` gives the timers, key
    events give the checksums a node holds last, requests through an Expressway show its
    refresh setting) is compared with the declared one. Subject: the cluster (or Expressway)
    and the key.

    Example:
        refresh_login_flow = "off"
        2026-11-20 08:00:01,121 INFO  [http-bio-8443-exec-14] oauth.TokenServlet - Refresh token issued: user=alice client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a device=CSFALICE tid=b991221f-f42e-4e52-8871-c876e635dd5b kid=8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b expires_in=5184000 via=-

    Fix:
    1. Check the value on the system itself (Cisco Unified CM Administration > System >
       Enterprise Parameters; `show key authz signing` and `show key authz encryption` on
       each node; the Expressway's MRA Access Control page).
    2. If the system is right, correct the deployment file; if the file is right, change
       the system to match it (and follow the procedure of that setting, e.g. reset the
       Jabber clients after changing the refresh login flow).

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    for dis in ctx.disagreements:
        key = dis.path.split(".", 1)[1]
        shown = dis.inferred.value
        if isinstance(shown, bool):
            shown = _onoff(shown)
        yield Hit(
            subjects=(dis.subject, key),
            message=(
                f"The deployment file says {key} = {dis.declared!r} for {dis.subject}, but the"
                f" logs show {shown!r}: {dis.inferred.reason}."
            ),
            extra=(dis.declared_at, *dis.inferred.evidence[:5]),
        )


_ON_OFF = {
    "refresh_login_flow": '"OAuth with Refresh Login Flow"',
    "implicit_grant": "the implicit grant parameter",
}
"""The on / off enterprise parameters, as the fix names them."""


def _stays(value: object) -> str:
    """What a parameter keeps, as UCM shows it (on / off, not True / False)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return f"; it stays {'on' if value else 'off'}"
    return f"; it stays at {value}"


@rule(
    "LD105",
    Severity.WARNING,
    "An enterprise parameter change was refused",
    needs=Needs(kinds=INFERRED, roles=("ucm",)),
)
def parameter_refused(ctx: Context) -> Iterator[Hit]:
    """What:
    An administrator tried to set an OAuth enterprise parameter to a value UCM does not
    accept: a timer outside its range (access-token expiry 1-1440 minutes, refresh-token
    expiry 1-365 days), or an on / off setting to anything but on or off. UCM refused it.

    Why:
    The parameter keeps its old value, although the administrator may believe it changed
    (for example a one-day access token meant to spare users a login is still 60 minutes, or
    the refresh login flow is still off).

    Detection:
    Lines of kind ``config.rejected`` (``Enterprise parameter change refused``), one finding
    per parameter. Subject: the parameter. The fix shown is the one for that parameter: the
    timer's range, or the on / off choice.

    Example:
        2026-11-20 07:00:00,000 WARN  [http-bio-8443-exec-1] oauth.OAuthConfigManager - Enterprise parameter change refused: name=access_token_expiry_minutes value=2000 reason=out_of_range%201-1440

    Fix:
    1. In Cisco Unified CM Administration choose System > Enterprise Parameters and set the
       timer to a value in its range: OAuth Access Token Expiry Timer 1-1440 minutes (default
       60), OAuth Refresh Token Expiry Timer 1-365 days (default 60).
    2. Click Save, and remember that changing the refresh-token timer revokes every refresh
       token (all Jabber users sign in again).

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    rows = ctx.events.of("config.rejected")
    for param in sorted(rows["param"].drop_nulls().unique().to_list()):
        mine = rows.filter(pl.col("param") == param)
        values = ", ".join(dict.fromkeys(str(v) for v in mine["value"].to_list()))
        reason = mine["reason"].drop_nulls()
        why = f" ({reason[-1]})" if reason.len() else ""
        stays = _stays(ctx.parameter(param))
        fix: tuple[str, ...] = ()
        label = _ON_OFF.get(param)
        if label is not None:
            fix = (
                "In Cisco Unified CM Administration choose System > Enterprise Parameters and set "
                f"{label} to Enabled or Disabled (the only values it takes), then click Save.",
                "If it was meant to change, check afterwards that the page shows the new value.",
            )
        yield Hit(
            subjects=(param,),
            message=(
                f"{mine.height} attempt(s) to set {param} to {values} were refused{why}{stays}."
            ),
            rows=mine,
            fix=fix,
        )


@rule(
    "LD106",
    Severity.WARNING,
    "Refresh tokens so short-lived that users sign in every day",
    needs=Needs(kinds=INFERRED, roles=("ucm",), config="or"),
)
def refresh_timer_too_short(ctx: Context) -> Iterator[Hit]:
    """What:
    The OAuth Refresh Token Expiry Timer is 1 day (or less): Jabber users have to enter
    their credentials again every day.

    Why:
    Refresh logins exist so that users sign in once and stay signed in for the life of the
    refresh token (60 days by default). A one-day refresh token throws that away: every
    morning each user is asked to log in again, and the help desk hears about it.

    Detection:
    Refresh tokens issued (after the last timer change) with ``expires_in`` of 86400 seconds
    or less, or the parameter declared as ``refresh_token_expiry_days = 1``; refresh grants
    refused as ``expired`` are added as evidence. Subject: the cluster.

    Example:
        2026-11-20 08:00:01,121 INFO  [http-bio-8443-exec-14] oauth.TokenServlet - Refresh token issued: user=alice client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a device=CSFALICE tid=b991221f-f42e-4e52-8871-c876e635dd5b kid=8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b expires_in=86400 via=-

    Fix:
    1. In Cisco Unified CM Administration choose System > Enterprise Parameters and set
       "OAuth Refresh Token Expiry Timer (days)" to the session length users should get
       (default 60, range 1-365).
    2. Click Save. Changing this timer revokes every refresh token: plan it out of hours and
       tell users they will sign in once more.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    - Cisco Unified CM Security Guide 15, Identity management (refresh-token lifetime)
    """  # noqa: E501
    fact = ctx.inferred.fact("parameters.refresh_token_expiry_days") if ctx.has_logs else None
    if fact is not None and isinstance(fact.value, int) and fact.value <= 1:
        expired = ctx.events.grant_refusals.filter(
            (pl.col("grant") == "refresh_token") & (pl.col("reason") == "expired")
        )
        users = expired["user"].drop_nulls().n_unique()
        yield Hit(
            subjects=(ctx.cluster_name,),
            message=(
                f"Refresh tokens are issued for {fact.value} day(s) ({fact.reason}):"
                " Jabber users must sign in again every day"
                + (
                    f"; {expired.height} refresh grant(s) of {users} user(s) were refused as"
                    " expired."
                    if expired.height
                    else "."
                )
            ),
            extra=fact.evidence[:5],
            rows=expired,
        )
    if ctx.cluster is not None and ctx.declared is not None:
        days = ctx.cluster.parameters.refresh_token_expiry_days
        if days is not None and days <= 1:
            ci = ctx.declared.cluster_index(ctx.cluster.name)
            yield Hit(
                subjects=(ctx.cluster_name,),
                message=(
                    f"The deployment file sets the refresh-token expiry to {days} day(s):"
                    " Jabber users must sign in again every day."
                ),
                extra=(
                    ctx.declared.evidence(f"cluster[{ci}].parameters.refresh_token_expiry_days"),
                ),
            )


@rule(
    "LD107",
    Severity.INFO,
    "Refresh-token timer changed: every refresh token was revoked",
    needs=Needs(kinds=INFERRED, roles=("ucm",)),
)
def refresh_timer_changed(ctx: Context) -> Iterator[Hit]:
    """What:
    The OAuth Refresh Token Expiry Timer was changed. UCM revokes every refresh token when it
    changes, so every Jabber user signs in again.

    Why:
    A wave of sign-in prompts right after the change is expected and not a fault; this note
    stops the search for one.

    Detection:
    ``config.changed`` lines for ``refresh_token_expiry_days``; the refresh tokens revoked in
    the five minutes after each change are counted and shown. Subject: the cluster and the
    parameter.

    Example:
        2026-11-20 07:00:00,000 INFO  [http-bio-8443-exec-1] oauth.OAuthConfigManager - Enterprise parameter changed: name=refresh_token_expiry_days old=60 new=1

    Fix:
    1. Nothing to repair: tell users to expect one more sign-in, and change this timer out of
       hours.

    References:
    - Cisco TAC 216948, Configure SAML SSO on CUCM with ADFS (changing the refresh-token timer
      revokes all refresh tokens)
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    changes = ctx.events.of("config.changed").filter(pl.col("param") == "refresh_token_expiry_days")
    if changes.height == 0:
        return
    revoked = ctx.events.of("token.revoked")
    parts = [changes]
    total = 0
    for t in changes["time"].drop_nulls().to_list():
        near = revoked.filter((pl.col("time") >= t) & (pl.col("time") <= t + timedelta(minutes=5)))
        total += near.height
        parts.append(near)
    last = changes.tail(1)
    yield Hit(
        subjects=(ctx.cluster_name, "refresh_token_expiry_days"),
        message=(
            f"The refresh-token expiry timer was changed {changes.height} time(s), last to"
            f" {last['value'][0]} day(s); UCM revoked every refresh token ({total} revocation(s)"
            " logged within five minutes), so every Jabber user signs in again."
        ),
        rows=pl.concat(parts, how="vertical"),
    )


@rule(
    "LD108",
    Severity.ERROR,
    "Implicit grant disabled while clients need it",
    needs=Needs(kinds=INFERRED, roles=("ucm",), config="or"),
)
def implicit_grant_needed(ctx: Context) -> Iterator[Hit]:
    """What:
    The implicit grant is disabled, but clients sign in with it: Jabber older than 11.9,
    Jabber while the refresh login flow is off, and tools such as RTMT.

    Why:
    Older Jabber releases and RTMT know only the implicit grant, and with the refresh login
    flow off every Jabber uses it; refusing it leaves those users unable to sign in at all.

    Detection:
    Authorize requests refused with reason ``implicit_disabled``; with a deployment file,
    ``implicit_grant = "off"`` together with ``refresh_login_flow = "off"`` or a
    ``[[jabber]]`` group older than 11.9. Subject: the cluster.

    Example:
        2026-11-20 08:00:00,001 WARN  [http-bio-8443-exec-12] oauth.AuthorizeServlet - Authorize request refused: error=unsupported_response_type reason=implicit_disabled response_type=token client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a user=- via=-

    Fix:
    1. Re-enable the implicit grant flow on UCM (it is enabled by default, for backward
       compatibility with older Jabber and RTMT).
    2. Or upgrade every client to Jabber 11.9 or later and enable "OAuth with Refresh Login
       Flow" (System > Enterprise Parameters), then reset all Jabber clients.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    - Cisco DevNet, Bad Request for SSO Request URI (the implicit-grant authorize URL)
    """  # noqa: E501
    refused = ctx.events.of("authorize.rejected").filter(pl.col("reason") == "implicit_disabled")
    if refused.height:
        flow = ctx.parameter("refresh_login_flow")
        why = (
            " With the refresh login flow off, no Jabber client can sign in."
            if flow is False
            else " Jabber older than 11.9 and RTMT cannot sign in."
        )
        yield Hit(
            subjects=(ctx.cluster_name,),
            message=(
                f"{refused.height} implicit-grant request(s) from {_clients(refused)} client(s)"
                f" were refused because the implicit grant is disabled.{why}"
            ),
            rows=refused,
        )
    c, d = ctx.cluster, ctx.declared
    if c is None or d is None or c.parameters.implicit_grant is not False:
        return
    ci = d.cluster_index(c.name)
    old = [g for g in d.jabber if g.version[:2] < (11, 9)]
    if c.parameters.refresh_login_flow is False or old:
        why = (
            "the refresh login flow is off too, so no Jabber can sign in"
            if c.parameters.refresh_login_flow is False
            else f"{sum(g.count for g in old)} Jabber installation(s) older than 11.9 need it"
        )
        extra = [d.evidence(f"cluster[{ci}].parameters.implicit_grant")]
        if c.parameters.refresh_login_flow is False:
            extra.append(d.evidence(f"cluster[{ci}].parameters.refresh_login_flow"))
        extra += [d.evidence(f"{g.path}.version") for g in old[:5]]
        yield Hit(
            subjects=(ctx.cluster_name,),
            message=f"The deployment file disables the implicit grant, but {why}.",
            extra=tuple(extra),
        )


@rule(
    "LD109",
    Severity.WARNING,
    "Jabber clients not reset after the refresh-flow change",
    needs=Needs(kinds=(*INFERRED, *CLIENT_FAILURES), roles=("ucm",), families=("ssosp",)),
)
def clients_not_reset(ctx: Context) -> Iterator[Hit]:
    """What:
    The refresh login flow was disabled, but Jabber clients still present the refresh tokens
    they were given while it was on: they were not reset after the parameter change.

    Why:
    After "OAuth with Refresh Login Flow" changes, every Jabber and Webex client must be
    reset; a client that keeps its old refresh token keeps failing its refresh grants until it
    notices the change at its next configuration fetch or the user signs out.

    Detection:
    Refresh grants refused with reason ``refresh_disabled`` for refresh tokens issued earlier
    in the logs (when the flow was on), more than 10 minutes after the change to ``off`` (when
    the change is logged). Subject: the cluster; the message names the clients.

    Example:
        2026-11-21 09:00:00,500 WARN  [http-bio-8443-exec-2] oauth.TokenServlet - Token request refused: grant=refresh_token error=invalid_grant reason=refresh_disabled user=alice client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a device=CSFALICE tid=b991221f-f42e-4e52-8871-c876e635dd5b via=-

    Fix:
    1. Reset all Cisco Jabber and Webex clients (for example from Cisco Unified CM
       Administration, Device > Phone, select the Jabber devices and click Reset), or have
       users sign out and in again.
    2. If the refresh login flow was disabled by mistake, enable it again under System >
       Enterprise Parameters and reset the clients once more.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    - Cisco Jabber 12.6 Planning Guide (Jabber notices an OAuth change at its configuration
      re-fetch)
    """  # noqa: E501
    issued = ctx.lineage.filter((pl.col("type") == "refresh") & pl.col("issued_at").is_not_null())[
        "token_id"
    ]
    rows = ctx.events.grant_refusals.filter(
        (pl.col("reason") == "refresh_disabled") & pl.col("token_id").is_in(issued.to_list())
    )
    t_off = ctx.time_of_last_change("refresh_login_flow", "off")
    if t_off is not None:
        rows = rows.filter(pl.col("time") > t_off + timedelta(minutes=10))
    if rows.height == 0:
        return
    who = rows.select(pl.coalesce("device", "user", "client_id")).to_series().drop_nulls()
    names = sorted(set(who.to_list()))
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    yield Hit(
        subjects=(ctx.cluster_name,),
        message=(
            f"{len(names)} client(s) still presented refresh tokens issued while the refresh"
            f" login flow was on ({rows.height} refusal(s)): {shown}. They were not reset"
            " after the change."
        ),
        rows=with_client_side(ctx.events, rows),
    )
