"""3xx: users and tokens (revocation, inactive users, access rights, expired tokens)."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from logdoctor.analysis.clientside import CLIENT_FAILURES
from logdoctor.model import Severity
from logdoctor.rules.configuration import client_hit, distinct, expressway_refusals
from logdoctor.rules.context import Context, Hit, when
from logdoctor.rules.registry import TOKEN_FLOW, Needs, rule

KEEPS_TRYING = 3
"""A revoked user "keeps trying" after this many refusals following the revocation."""
EXPRESSWAY_LIMIT = 5
"""Expressway-E blocks a client after more than this many expired-token requests..."""
EXPRESSWAY_WINDOW = "10m"
"""...within this window."""

NO_ACCESS = ("no_access", "no_role")


def _revocations(ctx: Context) -> pl.DataFrame:
    """Revoke API calls and the tokens they revoked (not timer-change revocations)."""
    req = ctx.events.of("revoke.request").filter(
        pl.col("user").is_not_null()
        & (pl.col("reason").is_null() | (pl.col("reason") == "success"))
    )
    revoked = ctx.events.of("token.revoked").filter(
        pl.col("user").is_not_null()
        & pl.col("reason").cast(pl.String).str.contains("(?i)revoke|api|admin")
    )
    return pl.concat([req, revoked], how="vertical").sort("time")


@rule(
    "LD301",
    Severity.WARNING,
    "A revoked user keeps trying to refresh",
    needs=Needs(kinds=(*TOKEN_FLOW, "revoke.request", *CLIENT_FAILURES), roles=("ucm",)),
)
def revoked_user_keeps_trying(ctx: Context) -> Iterator[Hit]:
    """What:
    A user's refresh tokens were revoked (revoke API), and their Jabber keeps presenting them:
    the refresh grants are refused again and again.

    Why:
    Revoking is how an administrator locks out a departed employee or a lost phone; a client
    that keeps retrying is still installed and configured somewhere (and may be someone
    trying to get back in). It also fills the logs and loads the node.

    Detection:
    After a revocation for the user (``revoke.request`` with result success, or
    ``token.revoked`` with a revoke cause), at least 3 refusals for that user (reason
    ``revoked``, or a refusal naming one of the revoked tokens). Subject: the user.

    Example:
        2026-11-20 09:30:00,500 WARN  [http-bio-8443-exec-2] oauth.TokenServlet - Token request refused: grant=refresh_token error=invalid_grant reason=revoked user=carol client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a device=CSFCAROL tid=b991221f-f42e-4e52-8871-c876e635dd5b via=-

    Fix:
    1. Find the device still trying (the device name in the evidence) and remove the Jabber
       installation, or wipe the lost phone.
    2. If the user must stay locked out, also make them inactive (remove them from the LDAP
       directory, or disable the end user in UCM) so that a new sign-in fails too.
    3. If the revocation was meant to force a single re-login only, ask the user to sign out
       and in again.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/jabber/212794-cisco-collaboration-solutions-12-0-oaut.html
    """  # noqa: E501
    rev = _revocations(ctx)
    if rev.height == 0:
        return
    refusals = ctx.events.of("token.rejected")
    for user in sorted(rev["user"].drop_nulls().unique().to_list()):
        mine = rev.filter(pl.col("user") == user)
        t = when(mine["time"].min())
        if t is None:
            continue
        # Only this user's revoked tokens: another revoked user's retries are not theirs.
        revoked_tids = mine.filter(pl.col("kind") == "token.revoked")["token_id"].drop_nulls()
        after = refusals.filter(
            (pl.col("time") > t)
            & (
                ((pl.col("user") == user) & (pl.col("reason") == "revoked"))
                | pl.col("token_id").is_in(revoked_tids.to_list())
            )
        )
        if after.height < KEEPS_TRYING:
            continue
        on = distinct(after, "device", " from {}")
        yield client_hit(
            ctx,
            user,
            f"{user}'s refresh tokens were revoked at {t:%Y-%m-%d %H:%M:%S} UTC, and"
            f" {after.height} refused attempt(s){on} followed.",
            pl.concat([rev.filter(pl.col("user") == user).head(3), after], how="vertical"),
        )


@rule(
    "LD302",
    Severity.INFO,
    "A user's refresh tokens were revoked",
    needs=Needs(kinds=(*TOKEN_FLOW, "revoke.request"), roles=("ucm",)),
)
def user_revoked(ctx: Context) -> Iterator[Hit]:
    """What:
    An administrator revoked a user's refresh tokens with the revoke API
    (``/ssosp/token/revoke``), for all of the user's clients or one.

    Why:
    Revocation ends the user's Jabber sessions at their next refresh; noting it explains the
    failures and sign-in prompts of that user that follow.

    Detection:
    ``revoke.request`` lines with result success (and ``token.revoked`` lines with a revoke
    cause). Subject: the user.

    Example:
        2026-11-20 09:00:00,000 INFO  [http-bio-8443-exec-4] oauth.RevokeServlet - Revoke request: admin=admin user_id=carol client_id=- result=success revoked=2

    Fix:
    1. Nothing to repair if the revocation was intended; otherwise ask the user to sign in
       again.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    rev = _revocations(ctx)
    for user in sorted(rev["user"].unique().to_list()):
        rows = rev.filter(pl.col("user") == user)
        tokens = rows.filter(pl.col("kind") == "token.revoked").height
        req = rows.filter(pl.col("kind") == "revoke.request")
        by = distinct(req, "param", " by {}")
        yield Hit(
            subjects=(user,),
            message=(
                f"{user}'s refresh tokens were revoked{by}"
                f" ({req.height} request(s), {tokens} token(s) logged as revoked)."
            ),
            rows=rows,
        )


def _by_user(ctx: Context, reasons: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    rows = ctx.events.of("auth.failure", "token.rejected", "authorize.rejected").filter(
        pl.col("reason").is_in(list(reasons))
        & pl.col("user").is_not_null()
        & (pl.col("param") != "admin").fill_null(True)
    )
    return {u: rows.filter(pl.col("user") == u) for u in sorted(rows["user"].unique().to_list())}


@rule(
    "LD303",
    Severity.WARNING,
    "An inactive (LDAP-removed) user is still trying to sign in",
    needs=Needs(kinds=(*TOKEN_FLOW, *CLIENT_FAILURES), roles=("ucm",)),
)
def inactive_user(ctx: Context) -> Iterator[Hit]:
    """What:
    Sign-ins or tokens of a user who is inactive in UCM (typically removed from the LDAP
    directory, which leaves them in the database as inactive) were refused.

    Why:
    UCM refuses an inactive user even with valid tokens. Either the user left and a Jabber
    somewhere still tries (remove it), or the user was removed from LDAP by mistake and cannot
    work.

    Detection:
    Authentication failures, token refusals and validation failures with reason
    ``inactive_user``, and UCM's own alarm ``UC_IMS-4-authLdapInactive`` in CiscoSyslog (its
    ``UserID``). Subject: the user.

    Example:
        2026-11-20 08:00:00,002 WARN  [http-bio-8443-exec-12] oauth.AuthorizeServlet - Authentication failed: user=bob method=password reason=inactive_user via=-

    Fix:
    1. In Cisco Unified CM Administration open User Management > End User for the user and
       check the User Status (Inactive LDAP Synchronized User).
    2. If the user should work, restore them in the LDAP directory and synchronize (System >
       LDAP > LDAP Directory > Perform Full Sync Now).
    3. If the user has left, remove their Jabber devices and revoke their refresh tokens.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/unified-communications-manager-callmanager/216948-configure-saml-sso-on-cisco-unified-comm.html
    """  # noqa: E501
    found = _by_user(ctx, ("inactive_user",))
    alarms = ctx.events.of("auth.failure").filter(
        (pl.col("key") == "authLdapInactive") & pl.col("user").is_not_null()
    )
    for user in alarms["user"].unique().to_list():
        mine = alarms.filter(pl.col("user") == user)
        both = [found[user], mine] if user in found else [mine]
        found[user] = pl.concat(both, how="vertical").sort("time", nulls_last=True)
    for user, rows in sorted(found.items()):
        yield client_hit(
            ctx,
            user,
            f"{user} is inactive in UCM (removed from LDAP?) and {rows.height} sign-in or"
            " token attempt(s) were refused.",
            rows,
        )


@rule(
    "LD304",
    Severity.WARNING,
    "A user lacks the role or access control group Jabber needs",
    needs=Needs(kinds=(*TOKEN_FLOW, *CLIENT_FAILURES), roles=("ucm",)),
)
def user_without_access(ctx: Context) -> Iterator[Hit]:
    """What:
    A user's token was refused at the last of UCM's four checks: the user has no access by
    role, access control group or user rank.

    Why:
    The user authenticates (password or SSO) and gets tokens, but every service refuses
    them: Jabber signs in and fails, which looks like an OAuth fault but is a provisioning one.

    Detection:
    Authentication failures, token refusals and validation failures with reason
    ``no_access`` (or ``no_role``). Subject: the user.

    Example:
        2026-11-20 08:10:00,000 WARN  [http-bio-8443-exec-9] oauth.TokenValidator - Token validation failed: server=imp1 check=no_access user=dave client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a jti=5f1e2d3c-0a9b-4c8d-9e7f-112233445566 kid=8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b

    Fix:
    1. In Cisco Unified CM Administration open User Management > End User for the user.
    2. Add the user to an access control group with the "Standard CCM End Users" role (and
       the roles their Jabber features need), and check the user rank.
    3. Ask the user to sign in again.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    for user, rows in _by_user(ctx, NO_ACCESS).items():
        at = distinct(rows, "server", " (at {})")
        yield client_hit(
            ctx,
            user,
            f"{user} was refused {rows.height} time(s) for lack of access{at}: no role,"
            " access control group or user rank that allows it.",
            rows,
        )


@rule(
    "LD305",
    Severity.WARNING,
    "Expired access tokens presented again and again",
    needs=Needs(
        kinds=(*TOKEN_FLOW, "edge.alarm", "edge.request", "edge.response", *CLIENT_FAILURES)
    ),
)
def expired_tokens_repeated(ctx: Context) -> Iterator[Hit]:
    """What:
    A client presented expired access tokens more than 5 times within 10 minutes instead of
    refreshing them first.

    Why:
    Jabber does this after a laptop wakes from sleep or the network comes back. Through
    Mobile and Remote Access, the Expressway-E counts these requests as "HTTP proxy
    authorization failure" and blocks the client's address for 10 minutes after more than 5
    of them, so the user cannot sign in for a while. Against UCM, such retries have driven the
    CPU high (CSCvu33113).

    Detection:
    Validation failures with check ``expired``, and the UDS requests an Expressway-C's
    diagnostic log shows answered 401 while it held UCM's keys (no alarm 40054 since its
    last Refresh servers: those are LD205's), grouped by server, user and device: more than
    5 in any 10-minute window. Subject: the user (or the server when the user is unknown).

    Example:
        2026-11-20 08:10:00,000 WARN  [http-bio-8443-exec-9] oauth.TokenValidator - Token validation failed: server=expc1 check=expired user=erin client_id=C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a jti=5f1e2d3c-0a9b-4c8d-9e7f-112233445566 kid=8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b

    Fix:
    1. Upgrade Jabber to a release that refreshes its access token before using it after a
       resume (see the Jabber release notes for the intrusion-protection limitation).
    2. On the Expressway-E check System > Protection > Automated detection > Blocked
       addresses and unblock the client if needed; consider an exemption for the HTTP proxy
       authorization failure category.
    3. Consider a longer OAuth Access Token Expiry Timer (System > Enterprise Parameters).

    References:
    - Cisco Jabber 12.6 Planning Guide, Jabber triggers automated intrusion protection
    - Cisco Jabber for Windows 12.8 release notes (CSCvu33113)
    """  # noqa: E501
    rows = ctx.events.validation_failures.filter(pl.col("reason") == "expired")
    edge = expressway_refusals(ctx)
    if edge.height:
        rows = pl.concat([rows, edge.select(rows.columns)], how="vertical")
    if rows.height <= EXPRESSWAY_LIMIT:
        return
    key = pl.concat_str(
        [
            pl.col("server").fill_null(""),
            pl.col("user").fill_null(""),
            pl.col("device").fill_null(""),
        ],
        separator="\x1f",
    )
    rows = rows.with_columns(key.alias("_k")).sort(["_k", "time"])
    counts = rows.rolling(index_column="time", period=EXPRESSWAY_WINDOW, group_by="_k").agg(
        pl.len().alias("_n")
    )
    bad = counts.group_by("_k").agg(pl.col("_n").max()).filter(pl.col("_n") > EXPRESSWAY_LIMIT)
    worst: dict[str, tuple[int, pl.DataFrame, str]] = {}
    for k, n in bad.sort("_k").iter_rows():
        server, user, device = k.split("\x1f")
        subject = user or server or device or "?"
        mine = rows.filter(pl.col("_k") == k).drop("_k")
        prev = worst.get(subject)
        if prev is None or n > prev[0]:
            where = f" at {server}" if server else ""
            on = f" from {device}" if device else ""
            worst[subject] = (int(n), mine, f"{where}{on}")
    for subject, (n, mine, where) in sorted(worst.items()):
        yield client_hit(
            ctx,
            subject,
            f"{subject}: up to {n} expired access tokens within 10 minutes{where}"
            f" ({mine.height} in all); an Expressway-E blocks a client after more than"
            f" {EXPRESSWAY_LIMIT}.",
            mine,
        )
