"""1xx, UCM's own OAuth enterprise parameters: declared vs seen, refused changes, the
refresh-token timer, the implicit grant, clients not reset after the refresh-flow change.

The rules about servers outside UCM whose settings must agree with it (Expressway-C, Unity
Connection) are in :mod:`.configuration`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import polars as pl

from logdoctor.analysis.clientside import CLIENT_FAILURES
from logdoctor.model import Severity
from logdoctor.rules.configuration import client_count, client_hit
from logdoctor.rules.context import Context, Hit
from logdoctor.rules.declared import onoff
from logdoctor.rules.registry import INFERRED, Needs, rule


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
            shown = onoff(shown)
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
    "Implicit grant declared disabled while clients need it (lab rule)",
    needs=Needs(kinds=("authorize.rejected",), roles=("ucm",), config="required"),
)
def implicit_grant_needed(ctx: Context) -> Iterator[Hit]:
    """What:
    A lab rule, modelled: the deployment file declares the implicit grant disabled
    (``implicit_grant = "off"``), but clients need it: Jabber older than 11.9, Jabber while
    the refresh login flow is off, and tools such as RTMT.

    Why:
    No Cisco document names a UCM parameter that turns the implicit grant off: the
    documentation says it "is enabled by default" for backward compatibility and documents
    no way to disable it. logdoctor's token service has such a switch (``implicit_grant``)
    to test what would happen, and this rule reads only that lab: it runs only with a
    deployment file (``--config``) and never fires on logs alone, so no finding about a real
    bundle rests on an undocumented parameter. If such a switch existed, older Jabber and
    RTMT could not sign in at all.

    Detection:
    Only with a deployment file whose cluster declares ``implicit_grant = "off"``: authorize
    requests refused with reason ``implicit_disabled`` (the lab's own ssosp wording,
    modelled) are the evidence; or, declared, ``refresh_login_flow = "off"`` or a
    ``[[jabber]]`` group older than 11.9. Subject: the cluster.

    Example:
        2026-11-20 08:00:00,001 WARN  [http-bio-8443-exec-12] oauth.AuthorizeServlet - Authorize request refused: error=unsupported_response_type reason=implicit_disabled response_type=token client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a user=- via=-

    Fix:
    1. In the lab, set the implicit grant on again (``logdoctor service params --set
       implicit_grant=on``); on a real UCM it is always enabled.
    2. Or upgrade every client to Jabber 11.9 or later and enable "OAuth with Refresh Login
       Flow" (System > Enterprise Parameters), then reset all Jabber clients.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    - logdoctor's evidence review of the implicit-grant switch (no public parameter; docs/)
    """  # noqa: E501
    c, d = ctx.cluster, ctx.declared
    if c is None or d is None or c.parameters.implicit_grant is not False:
        return
    ci = d.cluster_index(c.name)
    flag = d.evidence(f"cluster[{ci}].parameters.implicit_grant")
    refused = ctx.events.of("authorize.rejected").filter(pl.col("reason") == "implicit_disabled")
    if refused.height:
        why = (
            " With the refresh login flow off, no Jabber client can sign in."
            if c.parameters.refresh_login_flow is False
            else " Jabber older than 11.9 and RTMT cannot sign in."
        )
        yield Hit(
            subjects=(ctx.cluster_name,),
            message=(
                f"{refused.height} implicit-grant request(s) from {client_count(refused)}"
                f" client(s) were refused because the implicit grant is declared disabled"
                f" (a lab switch: no Cisco parameter disables it).{why}"
            ),
            rows=refused,
            extra=(flag,),
        )
        return
    old = [g for g in d.jabber if g.version[:2] < (11, 9)]
    if c.parameters.refresh_login_flow is False or old:
        why = (
            "the refresh login flow is off too, so no Jabber can sign in"
            if c.parameters.refresh_login_flow is False
            else f"{sum(g.count for g in old)} Jabber installation(s) older than 11.9 need it"
        )
        extra = [flag]
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
    yield client_hit(
        ctx,
        ctx.cluster_name,
        f"{len(names)} client(s) still presented refresh tokens issued while the refresh"
        f" login flow was on ({rows.height} refusal(s)): {shown}. They were not reset"
        " after the change.",
        rows,
    )
