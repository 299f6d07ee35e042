"""The one line builder of the tests: UCM log lines rendered through the built-in formats'
templates and ``[writer]`` layouts (:func:`logdoctor.ingest.formats.encoders.family`), so a
line's wording lives only in ``parsers/*.toml``.

:func:`ssosp_line` writes an ssosp event with the level, logger and thread of the servlet
that writes it (:data:`SOURCES`); :func:`service_line` a Cisco Service Manager alarm of a
restart (CiscoSyslog); :func:`audit_service_line` the administrator's AuditApp record of it.
The paths are those of an RTMT collection (:data:`PATHS`, :func:`node_path`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from logdoctor.ingest.formats.encoders import family

__all__ = [
    "CLIENT",
    "CLUSTER",
    "ENCODERS",
    "JABBER",
    "JABBER_HEADERS",
    "PATHS",
    "SOURCES",
    "SSOSP",
    "START",
    "SYSLOG",
    "UDS_B64",
    "audit_service_line",
    "checksum",
    "kid",
    "node_path",
    "service_line",
    "ssoapp_path",
    "ssosp_line",
    "ssosp_path",
]

CLIENT = "C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a"
"""The Jabber OAuth client id (a ``C`` and 64 hex digits, as UCM gives it)."""
CLUSTER = "8d0d5324-f4f0-4b0b-811e-4a59fdb6b722"
"""The cluster id that prefixes a key id (``kid``)."""

ENCODERS = {
    name: family(name)
    for name in ("ssosp", "ssoapp", "certmgmt", "ciscosyslog", "auditapp", "expressway")
}
SSOSP = ENCODERS["ssosp"]
JABBER = family("jabber")
JABBER_HEADERS = {
    "client.refresh.failed": (
        "vices\\impl\\system\\SingleSignOn.cpp(1186)",
        "Single-Sign-On-Logger",
    ),
    "client.sso.request": (
        "vices\\impl\\system\\SingleSignOn.cpp(1186)",
        "Single-Sign-On-Logger",
    ),
    "client.http.401": ("ls\\src\\http\\BasicHttpClientImpl.cpp(675)", "csf.httpclient"),
    "client.auth.failed": ("ces\\impl\\ucm-config\\UdsProvider.cpp(996)", "csf.config"),
}
"""Source path and logger of the published Jabber lines (TN-212794, TN-221845)."""
SYSLOG = ENCODERS["ciscosyslog"]

PATHS = {
    "ssosp": "tomcat/logs/ssosp/log4j/ssosp00001.log",
    "ssoapp": "platform/log/ssoApp.log",
    "certmgmt": "platform/log/certMgmt00001.log",
    "syslog": "syslog/CiscoSyslog",
    "audit": "audit/AuditApp/AuditApp00001.log",
}
"""Each family's file in a node's folder of an RTMT collection."""

_AUTHORIZE = ("oauth.AuthorizeServlet", "http-bio-8443-exec-12")
_TOKEN = ("oauth.TokenServlet", "http-bio-8443-exec-14")
_REFRESH = ("oauth.TokenServlet", "http-bio-8443-exec-2")
_VALIDATOR = ("oauth.TokenValidator", "http-bio-8443-exec-9")
_REVOKE = ("oauth.RevokeServlet", "http-bio-8443-exec-4")
_CONFIG = ("oauth.OAuthConfigManager", "http-bio-8443-exec-1")
_KEYS = ("oauth.AuthzKeyManager", "main")

SOURCES: dict[str, tuple[str, str, str]] = {
    "authorize.request": ("INFO", *_AUTHORIZE),
    "authorize.rejected": ("WARN", *_AUTHORIZE),
    "auth.success": ("INFO", *_AUTHORIZE),
    "auth.failure": ("WARN", *_AUTHORIZE),
    "code.issued": ("INFO", *_AUTHORIZE),
    "token.access.issued": ("INFO", *_TOKEN),
    "token.refresh.issued": ("INFO", *_TOKEN),
    "token.refreshed": ("INFO", *_REFRESH),
    "token.rejected": ("WARN", *_REFRESH),
    "token.validated": ("DEBUG", *_VALIDATOR),
    "validation.failed": ("WARN", *_VALIDATOR),
    "revoke.request": ("INFO", *_REVOKE),
    "token.revoked": ("INFO", *_REVOKE),
    "token.purged": ("INFO", "oauth.RefreshTokenCleaner", "Timer-3"),
    "config.changed": ("INFO", *_CONFIG),
    "config.rejected": ("WARN", *_CONFIG),
    "key.loaded": ("INFO", *_KEYS),
    "key.regenerated": ("INFO", *_KEYS),
    "key.replicated": ("INFO", *_KEYS),
}
"""ssosp event kind -> (level, logger, thread) of the code that writes it."""


def checksum(label: str) -> str:
    """A key checksum (64 hex) derived from a label."""
    return hashlib.sha256(label.encode()).hexdigest()


START = datetime(2026, 11, 16, 7, 0, 0)  # a Monday; written without a zone (UTC)
"""When the rule cases' traffic starts."""

UDS_B64 = "ZXhhbXBsZS5jb20vaHR0cHMvdWNtLXB1Yi5leGFtcGxlLmNvbS84NDQz"
"""base64 of example.com/https/ucm-pub.example.com/8443 (the MRA path to UCM's UDS)."""


def kid(sign: str) -> str:
    """The key id of signing key ``sign`` in :data:`CLUSTER`."""
    return f"{CLUSTER}:{sign}"


def ssosp_line(kind: str, t: datetime, *, thread: str | None = None, **fields: object) -> str:
    """One ssosp line of event ``kind`` at ``t`` (level, logger and thread from
    :data:`SOURCES`; ``thread`` overrides the thread)."""
    level, logger, default_thread = SOURCES[kind]
    msg = SSOSP.message(kind, **fields)
    return SSOSP.line(msg, ts=t, level=level, thread=thread or default_thread, logger=logger)


def service_line(name: str, t: datetime, service: str, target: str, *, pid: int, seq: int) -> str:
    """A Cisco Service Manager alarm (``service.stopped`` or ``service.started``) of
    ``service`` on node ``target``, as its CiscoSyslog line."""
    msg = SYSLOG.message(name, param=service, pid=pid, cluster="StandAloneCluster", node=target)
    head = {"host": target, "level": "6", "fqdn": f"{target}.example.com"}
    return SYSLOG.line(msg, local=t, ts=t, seq=str(seq), **head)


def audit_service_line(t: datetime, service: str, target: str) -> str:
    """The administrator's ServiceStatusUpdated record of a restart (AuditApp)."""
    audit = ENCODERS["auditapp"]
    msg = audit.message(
        "audit.service",
        user="admin",
        address="10.0.0.5",
        param=service,
        value="Successful",
        reason="Service restarted",
        cluster="StandAloneCluster",
        node=target,
    )
    return audit.line(msg, ts=t, level="INFO", thread="http-bio-443-exec-1")


def node_path(root: Path, node: str, family_: str) -> Path:
    """The file of ``family_`` (a key of :data:`PATHS`) in ``node``'s folder under ``root``."""
    return root / node / PATHS[family_]


def ssosp_path(root: Path, node: str, n: int = 1) -> Path:
    """``node``'s n-th rotated ssosp file under ``root``."""
    return root / node / "tomcat" / "logs" / "ssosp" / "log4j" / f"ssosp{n:05d}.log"


def ssoapp_path(root: Path, node: str) -> Path:
    """``node``'s ssoApp.log under ``root``."""
    return node_path(root, node, "ssoapp")
