"""The vocabulary every part of logdoctor agrees on: families, bases, levels, event kinds
(with the kind sets the analysis, the rules and the report share) and findings.

Defined once here: the closed set of event kinds (each with a one-line description that the
report shows next to an evidence line), the facts about kinds (which ones issue, use or reject
a token, which are failures), and the frozen dataclasses of a diagnostic finding. The event
table's columns and types are in :mod:`logdoctor.table`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NewType

RuleId = NewType("RuleId", str)
"""A rule identifier: ``LD`` followed by three digits (``LD101``)."""


class Family(enum.StrEnum):
    """The log families of logdoctor's built-in formats (``parsers/*.toml``)."""

    SSOAPP = "ssoapp"
    SSOSP = "ssosp"
    CERTMGMT = "certmgmt"
    CISCOSYSLOG = "ciscosyslog"
    JABBER = "jabber"
    EXPRESSWAY = "expressway"
    AUDITAPP = "auditapp"


class Basis(enum.StrEnum):
    """How well-founded an event pattern is (every ``[[event]]`` of a format declares one).

    ``published``: a verbatim public line (a Cisco document) backs the pattern's form.
    ``documented``: the behaviour is documented (that the log records it), the wording is
    modelled. ``modelled``: neither; the form is logdoctor's own (its token service writes it).
    """

    PUBLISHED = "published"
    DOCUMENTED = "documented"
    MODELLED = "modelled"

    @property
    def rank(self) -> int:
        """2 for published, 1 for documented, 0 for modelled (higher is better founded)."""
        return {"published": 2, "documented": 1, "modelled": 0}[self.value]


def weakest_basis(values: Iterable[str | None]) -> Basis | None:
    """The weakest basis among ``values`` (None values, e.g. unrecognized lines, are skipped);
    None when there is none."""
    out: Basis | None = None
    for v in values:
        if v is None:
            continue
        b = Basis(v)
        if out is None or b.rank < out.rank:
            out = b
    return out


class Level(enum.StrEnum):
    """Normalized log levels (a format's level map folds its own names onto these)."""

    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    FATAL = "FATAL"


class EventKind(enum.StrEnum):
    """The closed vocabulary of event kinds; ``description`` says what a line of that kind means."""

    description: str

    def __new__(cls, value: str, description: str) -> EventKind:  # noqa: D102
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    # OAuth: authorization endpoint and user authentication
    AUTHORIZE_REQUEST = (
        "authorize.request",
        "A client asked the authorization endpoint for a code (refresh flow) or a token "
        "(implicit grant).",
    )
    AUTHORIZE_REJECTED = (
        "authorize.rejected",
        "The authorization endpoint refused a request (bad parameters, unknown redirect URI, "
        "grant type disabled).",
    )
    AUTH_SUCCESS = ("auth.success", "A user authenticated (password or SAML assertion).")
    AUTH_FAILURE = (
        "auth.failure",
        "A user or administrator failed to authenticate (wrong password, unknown or inactive "
        "user, bad admin credentials; CiscoSyslog UC_IMS auth and UC_LOGIN alarms).",
    )
    AUTH_LOCKED = (
        "auth.locked",
        "Failed logons locked an account (end user or administrator) or a client address "
        "out for a while (a line logdoctor's token service writes; UCM raises a syslog alarm).",
    )
    CODE_ISSUED = ("code.issued", "An authorization code was issued to a client.")
    # OAuth: tokens
    TOKEN_ACCESS_ISSUED = (
        "token.access.issued",
        "An access token (signed and encrypted JWT) was issued.",
    )
    TOKEN_REFRESH_ISSUED = (
        "token.refresh.issued",
        "A refresh token (signed JWT) was issued; only with the refresh login flow enabled.",
    )
    TOKEN_REFRESHED = (
        "token.refreshed",
        "A refresh grant succeeded: the client traded its refresh token for a new access token.",
    )
    TOKEN_VALIDATED = (
        "token.validated",
        "A server checked an access token: signature, decryption, active user and access all "
        "passed.",
    )
    TOKEN_REJECTED = (
        "token.rejected",
        "A token or grant was refused; the reason says which check failed (signature, decrypt, "
        "expired, revoked, inactive_user, no_access, refresh_disabled, ...).",
    )
    TOKEN_REVOKED = ("token.revoked", "A refresh token was revoked (revoke API or timer change).")
    TOKEN_PURGED = ("token.purged", "The nightly job purged expired refresh tokens.")
    REVOKE_REQUEST = (
        "revoke.request",
        "The revoke API (/ssosp/token/revoke) was called for a user (and optionally a client).",
    )
    # Configuration, keys, certificates, services
    CONFIG_CHANGED = (
        "config.changed",
        "An enterprise parameter (refresh login flow, expiry timers, implicit grant...) changed.",
    )
    CONFIG_REJECTED = (
        "config.rejected",
        "An enterprise parameter change was refused (value out of its allowed range).",
    )
    KEY_REGENERATED = (
        "key.regenerated",
        "An authz key (signing RSA or encryption AES) was regenerated; tokens made with the old "
        "key become invalid.",
    )
    KEY_REPLICATED = (
        "key.replicated",
        "A node received a regenerated authz key from its publisher.",
    )
    KEY_LOADED = (
        "key.loaded",
        "A service loaded the authz key it will sign, encrypt or validate with (at start or "
        "restart, or after a key sync).",
    )
    CERT_REGENERATED = ("cert.regenerated", "Certificate management regenerated a certificate.")
    CERT_IMPORTED = ("cert.imported", "Certificate management imported a certificate.")
    CERT_DELETED = ("cert.deleted", "Certificate management deleted a certificate.")
    CERT_UNIT = (
        "cert.unit",
        "Certificate management named the unit (tomcat, authz, ...) of the current operation.",
    )
    CERT_TRACE = (
        "cert.trace",
        "Certificate management method tracing (IN/OUT of a CertMgr method) or run detail.",
    )
    CERT_EXPIRY = (
        "cert.expiry",
        "A certificate validity alarm (CiscoSyslog UC_CERT: expiry approaching, valid less "
        "than a month, 7 days or a day, expired); reason holds the alarm's message.",
    )
    AUTHZ_KEYS_MISMATCH = (
        "authz.keys.mismatch",
        "Unity Connection's EvtAuthzKeyRotation alarm: its authz keys differ from its Authz "
        "Server's (UCM), so Jabber logins through it fail until Sync Keys.",
    )
    ALARM = (
        "alarm",
        "Any other CiscoSyslog alarm (%APP-severity-Name); key names the alarm.",
    )
    SERVICE_RESTARTED = (
        "service.restarted",
        "A service (Cisco CallManager, Cisco Tomcat, Cisco XCP Authentication Service...) "
        "restarted, as logdoctor's emulator writes it to ssoApp.log (real UCM records service "
        "starts and stops in CiscoSyslog: service.started, service.stopped).",
    )
    SERVICE_STARTED = (
        "service.started",
        "A service started or was activated (CiscoSyslog ServiceStarted, ServiceActivated, "
        "CallManagerOnline); param names the service.",
    )
    SERVICE_STOPPED = (
        "service.stopped",
        "A service stopped or was deactivated (CiscoSyslog ServiceStopped, "
        "ServiceDeactivated); param names the service.",
    )
    SERVICE_FAILED = (
        "service.failed",
        "A service terminated, or failed to start, stop or restart, or exceeded its restarts "
        "(CiscoSyslog Service Manager alarms); param names the service, reason says why.",
    )
    SSO_ENABLED = (
        "sso.enabled",
        "A SAML SSO enable operation (CiscoSyslog UC_SAMLSSO alarm); reason says whether it "
        "succeeded.",
    )
    SSO_DISABLED = (
        "sso.disabled",
        "A SAML SSO disable operation (CiscoSyslog UC_SAMLSSO alarm); reason says whether it "
        "succeeded.",
    )
    SSO_TEST = ("sso.test", "The SAML SSO test ran (passed or failed).")
    SSO_METADATA = ("sso.metadata", "SP or IdP metadata was exported, imported or pushed.")
    TRACE_LEVEL = ("trace.level", "The samltrace (ssosp) log level of a node changed.")
    # SAML SSO (ssosp)
    SSO_FILTER = ("sso.filter", "The SSO agent filter saw a request for a protected path.")
    SAML_REQUEST = ("saml.request", "An AuthnRequest was built and sent to the IdP.")
    SAML_RESPONSE = ("saml.response", "A SAML response arrived from the IdP.")
    SAML_DETAIL = (
        "saml.detail",
        "Detail of the SAML exchange: entity ids, endpoints, bindings, relay state.",
    )
    SAML_ASSERTION = ("saml.assertion", "The SAML assertion or its attributes being validated.")
    SAML_TIME_VALID = ("saml.time.valid", "The assertion's validity window check passed.")
    SAML_TIME_INVALID = (
        "saml.time.invalid",
        "The assertion's validity window check failed: clocks of UCM and the IdP disagree (NTP).",
    )
    SAML_USER = ("saml.user", "The user id taken from the SAML assertion.")
    SAML_CERT_MISMATCH = (
        "saml.cert.mismatch",
        "The IdP signed with a certificate that is not the one in the imported IdP metadata.",
    )
    SAML_DECRYPT_FAILED = (
        "saml.decrypt.failed",
        "UCM could not decrypt the assertion's secret key: the IdP encrypts for an old SP "
        "(Tomcat) certificate.",
    )
    SAML_STATUS_INVALID = (
        "saml.status.invalid",
        "The IdP answered with a non-success status (claim rules, IdP configuration).",
    )
    SAML_ERROR = ("saml.error", "Processing a SAML response failed.")
    SAML_RELAY = ("saml.relay", "After login, the user was relayed to the original application.")
    SSO_CLUSTER = ("sso.cluster", "Cluster-wide SSO metadata or configuration operation.")
    # Generic OAuth detection for lines no specific pattern knows
    OAUTH_REQUEST = (
        "oauth.request",
        "A line that names an OAuth endpoint (/ssosp/oauth/..., /ssosp/token/revoke).",
    )
    OAUTH_ERROR = (
        "oauth.error",
        "A line that carries an OAuth error code (invalid_grant, invalid_token, ...).",
    )
    PUSH_TOKEN = (
        "push.token",
        "Push-notification or cloud-onboarding token traffic (XCPConfigMgr, CCMPNServer): not "
        "Jabber OAuth.",
    )
    # Jabber client (PRT jabber.log / csf-unified.log)
    CLIENT_REFRESH_FAILED = (
        "client.refresh.failed",
        "Jabber could not get an access token from its refresh token "
        "(handleRefreshTokenFailure): keys differ between nodes, or a server issue.",
    )
    CLIENT_AUTH_FAILED = (
        "client.auth.failed",
        "Jabber failed to authenticate with UCM (HOME_UDS_AUTHENTICATION_FAILED, "
        "FAILED_TO_AUTHENTICATE_WITH_CALL_MANAGER); reason holds the code.",
    )
    CLIENT_HTTP = (
        "client.http",
        "Jabber logged the HTTP status of a request (reason: the status, server: the host).",
    )
    CLIENT_SSO = ("client.sso", "A step of Jabber's single sign-on (Single-Sign-On-Logger).")
    CLIENT_TRACE = (
        "client.trace",
        "A routine Jabber client line (recognized, with no diagnostic meaning of its own).",
    )
    # Expressway (diagnostic log, loggingsnapshot)
    EDGE_REQUEST = (
        "edge.request",
        "Expressway received an HTTP request (traffic_server, MRA); key: Txn-id, value: path.",
    )
    EDGE_RESPONSE = (
        "edge.response",
        "Expressway received the HTTP response to a request; key: Txn-id, reason: status.",
    )
    EDGE_ACCESS = (
        "edge.access",
        "Expressway allowed or denied an MRA request (key: Allowed or Denied, reason: why).",
    )
    EDGE_ALARM = (
        "edge.alarm",
        "An Expressway alarm (key: its Id, e.g. 40054 Token decryption failure; value: Raised "
        "or Lowered).",
    )
    EDGE_CONFIG_CHANGED = (
        "edge.config.changed",
        "Expressway's configuration changed (System Configuration Changed).",
    )
    EDGE_TRACE = ("edge.trace", "Any other Expressway log line.")
    # Application audit log (audit/AuditApp)
    AUDIT_SERVICE = (
        "audit.service",
        "An administrator changed a service's status (audit EventType ServiceStatusUpdated); "
        "param: the service, reason: what happened.",
    )
    AUDIT_EVENT = (
        "audit.event",
        "Another administrative audit event (key: its EventType, user: who).",
    )
    LOG_INFO = ("log.info", "Logging infrastructure or startup detail with no diagnostic meaning.")
    UNRECOGNIZED = (
        "unrecognized",
        "A well-formed log record that no event pattern knows; kept with its message.",
    )


DRAFT_KIND = re.compile(r"draft\.[1-9][0-9]*")
"""Kinds ``draft.<n>``: events drafted by ``logdoctor formats suggest``, before an engineer
renames them to kinds of :class:`EventKind`. A format file may use them; no rule reads them."""


def is_event_kind(kind: str) -> bool:
    """True for a kind a format's event may give: an :class:`EventKind` or ``draft.<n>``."""
    return kind in EventKind._value2member_map_ or DRAFT_KIND.fullmatch(kind) is not None


class Severity(enum.StrEnum):
    """Finding severity, ordered: error > warning > info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """2 for error, 1 for warning, 0 for info (higher is worse)."""
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Evidence:
    """One log line that supports a finding."""

    node: str
    file: str
    line: int
    time: datetime | None
    kind: str
    excerpt: str
    basis: str | None = None
    """The basis of the pattern that recognized the line (see :class:`Basis`); None for a
    line that is not a recognized log record (a deployment-file line, an unrecognized one)."""


@dataclass(frozen=True)
class Finding:
    """A diagnosed problem: what, where, proof and fix."""

    rule: RuleId
    severity: Severity
    title: str
    message: str
    evidence: tuple[Evidence, ...] = ()
    evidence_total: int = 0
    subjects: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    fix: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    """Users the lines behind the finding name (all of them, not only the evidence shown;
    sorted, at most ``rules.engine.USERS_CAP``), for the report's links to each user."""
    basis: str | None = None
    """The weakest basis (see :class:`Basis`) of the log records behind the finding (all of
    them, not only the evidence shown); None when no recognized log record backs it (a
    deployment file alone, unrecognized lines)."""


# -- facts about kinds (one home: the analysis, the rules and the report read them here) ------

ISSUE_KINDS = {
    "code.issued": "code",
    "token.access.issued": "access",
    "token.refresh.issued": "refresh",
}
"""Kinds that issue a token id, and the type of token (or code) they issue."""

USE_KINDS = ("token.refreshed", "token.validated", "token.rejected", "token.revoked")
"""Kinds that use (or refuse, or revoke) a token id issued earlier."""

SESSION_KINDS = (
    "authorize.request",
    "authorize.rejected",
    "code.issued",
    "token.access.issued",
    "token.refresh.issued",
    "token.refreshed",
    "token.validated",
    "token.rejected",
    "token.revoked",
)
"""Kinds that belong to a login session (authorize request to the last use)."""

VIA_KINDS = (
    "authorize.request",
    "authorize.rejected",
    "auth.success",
    "auth.failure",
    "code.issued",
    "token.access.issued",
    "token.refresh.issued",
    "token.refreshed",
)
"""Kinds whose ``server`` column is the proxy a request came through (``via=``, an
Expressway for Mobile and Remote Access); ``token.rejected`` also, when it refuses a grant
(``grant`` set). For validation lines ``server`` is the validating server instead."""

GRANT_KINDS = ("token.access.issued", "token.refresh.issued", "token.refreshed")
"""Kinds that record a successful grant."""

FAILURE_KINDS: tuple[str, ...] = (
    "auth.failure",
    "auth.locked",
    "authorize.rejected",
    "token.rejected",
    "oauth.error",
    "config.rejected",
    "saml.time.invalid",
    "saml.cert.mismatch",
    "saml.decrypt.failed",
    "saml.status.invalid",
    "saml.error",
    "service.failed",
    "authz.keys.mismatch",
    "client.refresh.failed",
    "client.auth.failed",
)
"""Event kinds that record a refusal or a failure (charted in red, counted as failures)."""
