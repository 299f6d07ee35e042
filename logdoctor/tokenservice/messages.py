"""Every message the token service writes, in one place: the writing side of the line contract.

One function per message, named after it, taking the raw values and returning the text after
log4j's ``logger - `` (or a CiscoSyslog alarm, an audit event). Each renders the ``template`` of
its ``[[event]]`` in ``parsers/ssosp.toml``, ``ssoapp.toml``, ``certmgmt.toml``,
``ciscosyslog.toml`` or ``auditapp.toml`` through the family's encoder
(:func:`logdoctor.ingest.formats.encoders.family`), which encodes every value, so no caller formats
or encodes a
message itself and the wording lives only in the format files (the format check proves each
template reads back; ``tests/tokenservice/test_ts_roundtrip.py`` checks the service's lines).
No public Cisco document shows an ssosp line for an OAuth operation, nor the content of an
authz key regeneration's certMgmt file: these messages are logdoctor's model of them (the format
files say which of their lines are published). The logger of each message is one of the
constants below.
"""

from __future__ import annotations

from logdoctor.ingest.formats.encoders import family

_SSOSP = family("ssosp")
_SSOAPP = family("ssoapp")
_CERTMGMT = family("certmgmt")
_SYSLOG = family("ciscosyslog")
_AUDIT = family("auditapp")

__all__ = [
    "AUTHZ",
    "CLEANER",
    "CLUSTER_ID",
    "CONFIG",
    "FILTER",
    "KEYS",
    "REVOKE",
    "SERVLET_AUTHORIZE",
    "SERVLET_REVOKE",
    "SERVLET_TOKEN",
    "SSO_APP",
    "TOKEN",
    "VALIDATOR",
    "access_token_issued",
    "audit_service",
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
    "service_started",
    "service_stopped",
    "servlet_path",
    "sso_alarm",
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
SSO_APP = "sso.SSOApp"

_CERT_MANAGER = "com.cisco.cpi.certMgmt.manager.AuthzCertMgr@5e2de80c"

Value = object
"""Anything a message field takes: ``None`` and ``""`` are written ``-``."""


# -- the authorization endpoint -------------------------------------------------------------------


def servlet_path(path: str) -> str:
    """The SSO filter's DEBUG line for a request to ``path`` (the published form, a path of
    the service's own, never a client's value: written as is, not percent-encoded)."""
    return f"servlet path :{path}"


SERVLET_AUTHORIZE = servlet_path("/ssosp/oauth/authorize")
SERVLET_TOKEN = servlet_path("/ssosp/oauth/token")
SERVLET_REVOKE = servlet_path("/ssosp/token/revoke")
"""The filter's lines of the three endpoints (made once: most requests drop them, at INFO)."""


def authorize_request(
    *, response_type: Value, client_id: Value, user: Value, device: Value, agent: Value, via: Value
) -> str:
    """An authorization request passed its checks and is about to authenticate the user."""
    return _SSOSP.message(
        "authorize.request",
        grant=response_type,
        client_id=client_id,
        user=user,
        device=device,
        agent=agent,
        server=via,
    )


def authorize_refused(
    *, error: str, reason: str, response_type: Value, client_id: Value, user: Value, via: Value
) -> str:
    """An authorization request refused (``error`` and ``reason`` are fixed words)."""
    return _SSOSP.message(
        "authorize.rejected",
        error=error,
        reason=reason,
        grant=response_type,
        client_id=client_id,
        user=user,
        server=via,
    )


def user_authenticated(*, user: Value, via: Value) -> str:
    """The user's password was right."""
    return _SSOSP.message("auth.success", user=user, param="password", server=via)


def auth_failed(*, user: Value, reason: str, via: Value) -> str:
    """An end user's logon failed (no credentials, wrong password, inactive, locked out)."""
    return _SSOSP.message("auth.failure", user=user, param="password", reason=reason, server=via)


def logon_locked_out(
    *, user: Value, scope: str, address: Value, failures: int, lock_minutes: str, via: Value
) -> str:
    """A failed logon locked a name or a client address out."""
    return _SSOSP.message(
        "auth.locked",
        user=user,
        param=scope,
        address=address,
        value=failures,
        lock_minutes=lock_minutes,
        server=via,
    )


def code_issued(*, user: Value, client_id: Value, device: Value, code: str, via: Value) -> str:
    """An authorization code was issued (``code`` is its fingerprint, never the code)."""
    return _SSOSP.message(
        "code.issued", user=user, client_id=client_id, device=device, token_id=code, server=via
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
    return _SSOSP.message(
        "token.access.issued",
        user=user,
        client_id=client_id,
        device=device,
        grant=grant,
        token_id=jti,
        key=kid,
        value=expires_in,
        server=via,
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
    return _SSOSP.message(
        "token.refresh.issued",
        user=user,
        client_id=client_id,
        device=device,
        token_id=tid,
        key=kid,
        value=expires_in,
        server=via,
    )


def refresh_accepted(
    *, user: Value, client_id: Value, device: Value, tid: Value, via: Value
) -> str:
    """A refresh grant verified; an access token follows."""
    return _SSOSP.message(
        "token.refreshed", user=user, client_id=client_id, device=device, token_id=tid, server=via
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
    return _SSOSP.message(
        "token.rejected",
        grant=grant,
        error=error,
        reason=reason,
        user=user,
        client_id=client_id,
        device=device,
        token_id=tid,
        server=via,
    )


# -- validation and revocation --------------------------------------------------------------------


def validation_failed(
    *, server: Value, check: str, user: Value, client_id: Value, jti: Value, kid: Value
) -> str:
    """A resource server refused an access token at its ``check``."""
    return _SSOSP.message(
        "validation.failed",
        server=server,
        reason=check,
        user=user,
        client_id=client_id,
        token_id=jti,
        key=kid,
    )


def token_validated(*, server: Value, user: Value, client_id: Value, jti: Value, kid: Value) -> str:
    """A resource server accepted an access token (logged at DEBUG)."""
    return _SSOSP.message(
        "token.validated", server=server, user=user, client_id=client_id, token_id=jti, key=kid
    )


def revoke_refused(*, admin: Value, reason: str) -> str:
    """A revoke API call whose administrator was not authenticated."""
    return _SSOSP.message("revoke.refused", user=admin, reason=reason)


def revoke_request(
    *, admin: Value, user_id: Value, client_id: Value, result: str, revoked: int
) -> str:
    """A revoke API call by an authenticated administrator, and what came of it."""
    return _SSOSP.message(
        "revoke.request",
        param=admin,
        user=user_id,
        client_id=client_id,
        reason=result,
        value=revoked,
    )


def refresh_token_revoked(*, user: Value, client_id: Value, tid: Value, cause: str) -> str:
    """One refresh token revoked (by the revoke API, a timer change or a reused code)."""
    return _SSOSP.message(
        "token.revoked", user=user, client_id=client_id, token_id=tid, reason=cause
    )


def purged(count: int) -> str:
    """The purge of expired refresh tokens (nightly, or asked for)."""
    return _SSOSP.message("token.purged", value=count)


# -- administration -------------------------------------------------------------------------------


def param_changed(*, name: Value, old: Value, new: Value) -> str:
    """An enterprise parameter changed."""
    return _SSOSP.message("config.changed", param=name, old=old, value=new)


def param_refused(*, name: Value, value: Value, reason: Value) -> str:
    """A change of a known enterprise parameter refused (out of range, not a choice)."""
    return _SSOSP.message("config.rejected", param=name, value=value, reason=reason)


def key_loaded(*, use: str, checksum: str, version: int, server: Value) -> str:
    """A service loaded an authz key."""
    return _SSOSP.message("key.loaded", param=use, key=checksum, value=version, server=server)


def key_received(*, use: str, checksum: str, version: int, publisher: Value) -> str:
    """A node stored a key replicated (or synced) from the publisher."""
    return _SSOSP.message(
        "key.replicated", param=use, key=checksum, value=version, server=publisher
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
            _CERTMGMT.message("key.regenerated", param=use, key=checksum, value=version),
        ),
        (t + 0.002, "INFO", "OUT -- CertMgr.java - mainInternal -"),
    ]
    return lines


CLUSTER_ID = "StandAloneCluster"
"""The ClusterID a CiscoSyslog alarm and an audit event name (UCM's default cluster name)."""


def service_stopped(*, service: Value, node: Value, pid: int) -> str:
    """CiscoSyslog: Cisco Service Manager stopped ``service`` (UC_GENERIC-6-ServiceStopped)."""
    return _SYSLOG.message("service.stopped", param=service, pid=pid, cluster=CLUSTER_ID, node=node)


def service_started(*, service: Value, node: Value, pid: int) -> str:
    """CiscoSyslog: Cisco Service Manager started ``service`` (UC_GENERIC-6-ServiceStarted)."""
    return _SYSLOG.message("service.started", param=service, pid=pid, cluster=CLUSTER_ID, node=node)


def sso_alarm(*, enabled: bool, node: Value) -> str:
    """CiscoSyslog: the UC_SAMLSSO alarm of a successful SSO enable or disable."""
    return _SYSLOG.message(
        "sso.enabled" if enabled else "sso.disabled", cluster=CLUSTER_ID, node=node
    )


def audit_service(*, admin: Value, address: Value, service: Value, node: Value) -> str:
    """AuditApp: an administrator restarted ``service`` (EventType ServiceStatusUpdated)."""
    return _AUDIT.message(
        "audit.service",
        user=admin,
        address=address,
        param=service,
        value="Successful",
        reason="Service restarted",
        cluster=CLUSTER_ID,
        node=node,
    )


def trace_level_set(level: str) -> str:
    """ssoApp.log: ``set samltrace level`` on a node (``level`` is debug or info)."""
    return _SSOAPP.message("trace.level", value=level.upper())
