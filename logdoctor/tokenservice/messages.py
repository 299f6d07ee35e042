"""Every message the token service writes, in one place: the writing side of the line contract.

One function per message, named after it, taking the raw values and returning the text after
log4j's ``logger - ``: each value goes through :func:`~logdoctor.tokenservice.logwriter.enc`
here, so no caller formats or encodes a message itself. The ssosp messages are read back by the
``[[event]]`` regexes of ``parsers/ssosp.toml`` (``tests/tokenservice/test_ts_roundtrip.py``
checks each one round trip), the ssoApp ones by ``parsers/ssoapp.toml``, the certMgmt lines of a
key regeneration by ``parsers/certmgmt.toml``. No public Cisco document shows an ssosp line for
an OAuth operation, nor the content of an authz key regeneration's certMgmt file: these messages
are logdoctor's model of them (the format files say which of their lines are published). The
logger of each message is one of the constants below.
"""

from __future__ import annotations

from logdoctor.tokenservice.logwriter import enc

__all__ = [
    "AUTHZ",
    "CLEANER",
    "CONFIG",
    "FILTER",
    "KEYS",
    "REVOKE",
    "SERVICE_MANAGER",
    "SERVLET_AUTHORIZE",
    "SERVLET_REVOKE",
    "SERVLET_TOKEN",
    "SSO_APP",
    "TOKEN",
    "VALIDATOR",
    "access_token_issued",
    "auth_failed",
    "authorize_refused",
    "authorize_request",
    "code_issued",
    "key_loaded",
    "key_received",
    "key_regenerated_lines",
    "logon_locked_out",
    "param_changed",
    "param_refused",
    "purged",
    "refresh_accepted",
    "refresh_token_issued",
    "refresh_token_revoked",
    "revoke_refused",
    "revoke_request",
    "service_restarted",
    "servlet_path",
    "sso_operation",
    "token_refused",
    "token_validated",
    "trace_level_set",
    "user_authenticated",
    "validation_failed",
]

AUTHZ = "oauth.AuthorizeServlet"
TOKEN = "oauth.TokenServlet"
VALIDATOR = "oauth.TokenValidator"
REVOKE = "oauth.RevokeServlet"
CONFIG = "oauth.OAuthConfigManager"
KEYS = "oauth.AuthzKeyManager"
CLEANER = "oauth.RefreshTokenCleaner"
FILTER = "filter.SSOAuthAgentFilter"
SERVICE_MANAGER = "platform.ServiceManager"
SSO_APP = "sso.SSOApp"

_CERT_MANAGER = "com.cisco.cpi.certMgmt.manager.AuthzCertMgr@5e2de80c"

Value = object
"""Anything a message field takes: ``None`` and ``""`` are written ``-``."""


# -- the authorization endpoint -------------------------------------------------------------------


def servlet_path(path: str) -> str:
    """The SSO filter's DEBUG line for a request to ``path``."""
    return f"servlet path :{path}"


SERVLET_AUTHORIZE = servlet_path("/ssosp/oauth/authorize")
SERVLET_TOKEN = servlet_path("/ssosp/oauth/token")
SERVLET_REVOKE = servlet_path("/ssosp/token/revoke")
"""The filter's lines of the three endpoints (made once: most requests drop them, at INFO)."""


def authorize_request(
    *, response_type: Value, client_id: Value, user: Value, device: Value, agent: Value, via: Value
) -> str:
    """An authorization request passed its checks and is about to authenticate the user."""
    return (
        f"Authorize request: response_type={enc(response_type)} client_id={enc(client_id)} "
        f"user={enc(user)} device={enc(device)} agent={enc(agent)} via={enc(via)}"
    )


def authorize_refused(
    *, error: str, reason: str, response_type: Value, client_id: Value, user: Value, via: Value
) -> str:
    """An authorization request refused (``error`` and ``reason`` are fixed words)."""
    return (
        f"Authorize request refused: error={error} reason={reason} "
        f"response_type={enc(response_type)} client_id={enc(client_id)} "
        f"user={enc(user)} via={enc(via)}"
    )


def user_authenticated(*, user: Value, via: Value) -> str:
    """The user's password was right."""
    return f"User authenticated: user={enc(user)} method=password via={enc(via)}"


def auth_failed(*, user: Value, reason: str, via: Value) -> str:
    """An end user's logon failed (no credentials, wrong password, inactive, locked out)."""
    return f"Authentication failed: user={enc(user)} method=password reason={reason} via={enc(via)}"


def logon_locked_out(
    *, user: Value, scope: str, address: Value, failures: int, lock_minutes: str, via: Value
) -> str:
    """A failed logon locked a name or a client address out."""
    return (
        f"Logon locked out: user={enc(user)} scope={scope} address={enc(address)} "
        f"failures={failures} lock_minutes={lock_minutes} via={enc(via)}"
    )


def code_issued(*, user: Value, client_id: Value, device: Value, code: str, via: Value) -> str:
    """An authorization code was issued (``code`` is its fingerprint, never the code)."""
    return (
        f"Authorization code issued: user={enc(user)} client_id={enc(client_id)} "
        f"device={enc(device)} code={code} via={enc(via)}"
    )


# -- the token endpoint ---------------------------------------------------------------------------


def access_token_issued(
    *,
    user: Value,
    client_id: Value,
    device: Value,
    grant: str,
    jti: str,
    kid: Value,
    expires_in: int,
    via: Value,
) -> str:
    """An access token was issued."""
    return (
        f"Access token issued: user={enc(user)} client_id={enc(client_id)} device={enc(device)} "
        f"grant={grant} jti={jti} kid={enc(kid)} expires_in={expires_in} via={enc(via)}"
    )


def refresh_token_issued(
    *,
    user: Value,
    client_id: Value,
    device: Value,
    tid: str,
    kid: Value,
    expires_in: int,
    via: Value,
) -> str:
    """A refresh token was issued (with the access token just logged)."""
    return (
        f"Refresh token issued: user={enc(user)} client_id={enc(client_id)} device={enc(device)} "
        f"tid={tid} kid={enc(kid)} expires_in={expires_in} via={enc(via)}"
    )


def refresh_accepted(
    *, user: Value, client_id: Value, device: Value, tid: Value, via: Value
) -> str:
    """A refresh grant verified; an access token follows."""
    return (
        f"Refresh grant accepted: user={enc(user)} client_id={enc(client_id)} "
        f"device={enc(device)} tid={enc(tid)} via={enc(via)}"
    )


def token_refused(
    *,
    grant: Value,
    error: str,
    reason: str,
    user: Value,
    client_id: Value,
    device: Value,
    tid: Value,
    via: Value,
) -> str:
    """A token-endpoint request refused (``error`` and ``reason`` are fixed words)."""
    return (
        f"Token request refused: grant={enc(grant)} error={error} reason={reason} "
        f"user={enc(user)} client_id={enc(client_id)} device={enc(device)} "
        f"tid={enc(tid)} via={enc(via)}"
    )


# -- validation and revocation --------------------------------------------------------------------


def validation_failed(
    *, server: Value, check: str, user: Value, client_id: Value, jti: Value, kid: Value
) -> str:
    """A resource server refused an access token at its ``check``."""
    return (
        f"Token validation failed: server={enc(server)} check={check} "
        f"user={enc(user)} client_id={enc(client_id)} jti={enc(jti)} kid={enc(kid)}"
    )


def token_validated(*, server: Value, user: Value, client_id: Value, jti: Value, kid: Value) -> str:
    """A resource server accepted an access token (logged at DEBUG)."""
    return (
        f"Token validated: server={enc(server)} user={enc(user)} "
        f"client_id={enc(client_id)} jti={enc(jti)} kid={enc(kid)}"
    )


def revoke_refused(*, admin: Value, reason: str) -> str:
    """A revoke API call whose administrator was not authenticated."""
    return f"Revoke request refused: admin={enc(admin)} reason={reason}"


def revoke_request(
    *, admin: Value, user_id: Value, client_id: Value, result: str, revoked: int
) -> str:
    """A revoke API call by an authenticated administrator, and what came of it."""
    return (
        f"Revoke request: admin={enc(admin)} user_id={enc(user_id)} client_id={enc(client_id)} "
        f"result={result} revoked={revoked}"
    )


def refresh_token_revoked(*, user: Value, client_id: Value, tid: Value, cause: str) -> str:
    """One refresh token revoked (by the revoke API, a timer change or a reused code)."""
    return (
        f"Refresh token revoked: user={enc(user)} client_id={enc(client_id)} "
        f"tid={enc(tid)} cause={cause}"
    )


def purged(count: int) -> str:
    """The purge of expired refresh tokens (nightly, or asked for)."""
    return f"Purged expired refresh tokens: count={count}"


# -- administration -------------------------------------------------------------------------------


def param_changed(*, name: Value, old: Value, new: Value) -> str:
    """An enterprise parameter changed."""
    return f"Enterprise parameter changed: name={enc(name)} old={enc(old)} new={enc(new)}"


def param_refused(*, name: Value, value: Value, reason: Value) -> str:
    """A change of a known enterprise parameter refused (out of range, not a choice)."""
    return (
        f"Enterprise parameter change refused: name={enc(name)} value={enc(value)} "
        f"reason={enc(reason)}"
    )


def key_loaded(*, use: str, checksum: str, version: int, server: Value) -> str:
    """A service loaded an authz key."""
    return f"Authz key loaded: use={use} checksum={checksum} version={version} server={enc(server)}"


def key_received(*, use: str, checksum: str, version: int, publisher: Value) -> str:
    """A node stored a key replicated (or synced) from the publisher."""
    return (
        f"Authz key received from publisher: use={use} checksum={checksum} "
        f"version={version} publisher={enc(publisher)}"
    )


def key_regenerated_lines(
    t: float, *, use: str, checksum: str, version: int
) -> list[tuple[float, str, str]]:
    """The certMgmt file of one key regeneration: (time, level, message) of each line."""
    lines = [
        (t, "INFO", "log4j configuration successful."),
        (t, "INFO", "IN -- CertMgr.java - mainInternal(args) -"),
        (t, "INFO", "op:regenerate"),
        (t, "INFO", "IN -- CertMgr.java - getCertMgrObj(unit) - authz"),
        (t, "INFO", f"OUT -- CertMgr.java - getCertMgrObj - {_CERT_MANAGER}"),
    ]
    if use == "signing":
        lines.append((t + 0.001, "DEBUG", "authz Certificate keysize : 2048"))
    lines += [
        (
            t + 0.002,
            "INFO",
            f"Authz key regenerated: use={use} checksum={checksum} version={version}",
        ),
        (t + 0.002, "INFO", "OUT -- CertMgr.java - mainInternal -"),
    ]
    return lines


def service_restarted(*, service: Value, node: Value) -> str:
    """ssoApp.log: a service restarted on a node."""
    return f"Service restarted: service={enc(service)} node={enc(node)}"


def trace_level_set(level: str) -> str:
    """ssoApp.log: ``set samltrace level`` on a node (``level`` is debug or info)."""
    return f"samltrace level set to {level.upper()}"


def sso_operation(*, enabled: bool) -> str:
    """ssoApp.log: SAML SSO enabled or disabled cluster-wide."""
    word = "enable" if enabled else "disable"
    return f"SAML SSO {word} operation successful"
