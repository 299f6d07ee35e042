"""The event table schema, the event-kind vocabulary, parse statistics and findings.

Everything that more than one part of logdoctor agrees on lives here, defined once:
the column names and dtypes of the event table, the closed set of event kinds (each with a
one-line description that the report shows next to an evidence line), the per-file parse
statistics, and the frozen dataclasses of a diagnostic finding.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NewType

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


COLUMNS: tuple[str, ...] = (
    "time",
    "node",
    "family",
    "file",
    "line",
    "level",
    "thread",
    "logger",
    "kind",
    "basis",
    "user",
    "client_id",
    "device",
    "token_id",
    "grant",
    "reason",
    "key",
    "server",
    "param",
    "value",
    "agent",
    "message",
)
"""Event table columns, in order. One row per log record (header line + continuation lines)."""

FIELD_COLUMNS: tuple[str, ...] = (
    "user",
    "client_id",
    "device",
    "token_id",
    "grant",
    "reason",
    "key",
    "server",
    "param",
    "value",
    "agent",
)
"""Columns an event pattern may fill from its named groups."""

HEADER_FIELDS: tuple[str, ...] = ("ts", "level", "thread", "logger", "msg", "node", "local")
"""Named groups a header regex may use (``ts`` and ``msg`` are required). ``node``: the host
the line names (it replaces the node of the bundle layout); ``local``: the same moment as
``ts`` in the node's local time, without a year (gives the node's UTC offset)."""

NODE_FIELD = "node"
"""The one column besides FIELD_COLUMNS that a ``[[field]]`` extractor may fill: the node a
line names (CiscoSyslog ``NodeID``, an Expressway host) replaces the bundle layout's."""

COLUMN_DOC: Mapping[str, str] = {
    "time": "When the record was written, converted to UTC (tz-aware).",
    "node": "The node that wrote the record: the one the line names (CiscoSyslog NodeID, an "
    "Expressway host), else the one of the bundle layout (or --node).",
    "family": "Log family: ssoapp, ssosp, certmgmt, ciscosyslog, jabber, expressway, auditapp.",
    "file": "The file the record came from (archive members as archive!member).",
    "line": "1-based line number of the record's first line in its file.",
    "level": "Normalized level: TRACE, DEBUG, INFO, WARN, ERROR, FATAL.",
    "thread": "Thread name, e.g. http-bio-8443-exec-12.",
    "logger": "Logger (category) as written, e.g. authentication.SAMLAuthenticator.",
    "kind": "Event kind (see `logdoctor kinds`), or unrecognized.",
    "basis": "How well-founded the pattern that recognized the record is: published (a "
    "verbatim public line backs it), documented (the behaviour is, the wording is modelled) "
    "or modelled; empty for unrecognized records.",
    "user": "End user (or admin) the record concerns.",
    "client_id": "OAuth client id (C + 64 hex for Jabber).",
    "device": "Device name (CSF..., TCT..., BOT..., TAB...).",
    "token_id": "Token identifier: access-token jti, refresh-token tid or its index.",
    "grant": "OAuth grant or response type: authorization_code, refresh_token, implicit, code.",
    "reason": "Why something failed or happened: error code, check name, an alarm's "
    "Reason / ErrorDetails / Message, an HTTP status (Jabber, Expressway response).",
    "key": "Key checksum or kid that signed / encrypted / validated the token; what names the "
    "record otherwise: a CiscoSyslog alarm's name, an Expressway Txn-id or alarm Id, Allowed or "
    "Denied for MRA access, an audit EventType.",
    "server": "Server that validated or proxied: IM&P, Unity Connection, Expressway, UCM node.",
    "param": "Parameter, key use, certificate unit or service name the record is about; an "
    "HTTP method (Expressway), the function that logged (Jabber).",
    "value": "New value of param, or a count; an HTTP path (Expressway), an alarm's state "
    "(Raised, Lowered), an audit event's status.",
    "agent": "Client software as declared by the client (e.g. Jabber/14.1 Windows).",
    "message": "The record's message text, continuation lines included.",
}

STRING_DTYPE = "str"
CATEGORY_DTYPE = "category"
TIME_DTYPE = "datetime64[us, UTC]"

DTYPES: Mapping[str, str] = {
    "time": TIME_DTYPE,
    "node": CATEGORY_DTYPE,
    "family": CATEGORY_DTYPE,
    "file": CATEGORY_DTYPE,
    "line": "int64",
    "level": CATEGORY_DTYPE,
    "thread": STRING_DTYPE,
    "logger": STRING_DTYPE,
    "kind": CATEGORY_DTYPE,
    "basis": CATEGORY_DTYPE,
    **{c: STRING_DTYPE for c in FIELD_COLUMNS},
    "message": STRING_DTYPE,
}
"""pandas dtype of each column of the event table handed to users."""


@dataclass
class ParseStats:
    """What happened to one input file: counts that reconcile with its lines.

    Invariant: ``lines == record_lines + malformed``, where ``record_lines`` counts the lines
    folded into records (each record's header plus its continuation lines).
    """

    path: str
    family: str | None = None
    node: str | None = None
    bytes: int = 0
    lines: int = 0
    records: int = 0
    record_lines: int = 0
    malformed: int = 0
    unrecognized: int = 0
    decode_errors: int = 0
    bad_timestamps: int = 0
    nul_bytes: int = 0
    """NUL bytes removed from lines (the hole a writer leaves after a truncation); a line of
    nothing but NULs is dropped and not counted in ``lines``."""
    truncated: int = 0
    """Records (or malformed lines) whose text was cut to ``parse.MAX_RECORD_BYTES``."""
    first_time: datetime | None = None
    last_time: datetime | None = None
    kinds: dict[str, int] = field(default_factory=dict)
    malformed_lines: list[int] = field(default_factory=list)
    utc_offsets: dict[str, int] = field(default_factory=dict)
    """For a file whose records state two clocks (CiscoSyslog: the node's local time and UTC):
    the node's UTC offsets they show (``+02:00``), with how many records show each."""
    zone_from: str | None = None
    """For a file whose times carry no zone, read in the zone another file of its node states
    (see :mod:`logdoctor.clocks`): that file."""
    error: str | None = None
    """Why nothing of the file could be read."""
    partial: str | None = None
    """Why only the first part of the file could be read (a truncated compressed file); the
    counts are those of that part, and the file is also listed among the input errors."""

    MALFORMED_LINES_KEPT = 1000
    """At most this many malformed line numbers are listed (the count is always exact)."""

    @property
    def utc_offset(self) -> str | None:
        """The node's UTC offset most of the file's records state (None: they state none)."""
        if not self.utc_offsets:
            return None
        return max(sorted(self.utc_offsets), key=lambda k: self.utc_offsets[k])

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``logdoctor stats``."""
        out: dict[str, Any] = {
            "path": self.path,
            "family": self.family,
            "node": self.node,
            "bytes": self.bytes,
            "lines": self.lines,
            "records": self.records,
            "malformed": self.malformed,
            "unrecognized": self.unrecognized,
            "decode_errors": self.decode_errors,
            "bad_timestamps": self.bad_timestamps,
            "nul_bytes": self.nul_bytes,
            "truncated": self.truncated,
            "first_time": _iso(self.first_time),
            "last_time": _iso(self.last_time),
            "kinds": dict(sorted(self.kinds.items())),
            "malformed_lines": list(self.malformed_lines),
            "utc_offset": self.utc_offset,
        }
        if len(self.utc_offsets) > 1:
            out["utc_offsets"] = dict(sorted(self.utc_offsets.items()))
        if self.zone_from is not None:
            out["zone_from"] = self.zone_from
        if self.error is not None:
            out["error"] = self.error
        if self.partial is not None:
            out["partial"] = self.partial
        return out


def _iso(t: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, milliseconds unless the time has finer digits (as in exports)."""
    if t is None:
        return None
    text = t.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text[:-3] if t.microsecond % 1000 == 0 else text) + "Z"


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
