"""Fixed chart colours: one colour per event kind and per level, the same in every report.

A colour belongs to the kind, not to its position among the kinds a report happens to chart,
so ``token.rejected`` is the same red in every report. Kinds are coloured by family: failures
red, sign-in blue, token grants green, revocations magenta, configuration, keys and
certificates purple and orange, SAML and SSO olive, the rest grey.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "FAILURE_COLOR",
    "KIND_COLORS",
    "LEVEL_COLORS",
    "OTHER_COLOR",
    "kind_color",
    "level_color",
]

FAILURE_COLOR = "#d62728"
"""The red of failures (the failures series and ``token.rejected``)."""

OTHER_COLOR = "#aaaaaa"
"""Kinds summed as ``other`` and anything without a colour of its own."""


KIND_COLORS: Mapping[str, str] = {
    # failures: reds
    "token.rejected": FAILURE_COLOR,
    "auth.failure": "#b91c1c",
    "auth.locked": "#9f1239",
    "authorize.rejected": "#ef4444",
    "oauth.error": "#f87171",
    "config.rejected": "#991b1b",
    "saml.time.invalid": "#dc2626",
    "saml.cert.mismatch": "#7f1d1d",
    "saml.decrypt.failed": "#e11d48",
    "saml.status.invalid": "#fb7185",
    "saml.error": "#be123c",
    "service.failed": "#f43f5e",
    "authz.keys.mismatch": "#e53935",
    "client.refresh.failed": "#ff4d4d",
    "client.auth.failed": "#c81e1e",
    # sign-in: blues
    "authorize.request": "#1f77b4",
    "auth.success": "#3b82f6",
    "code.issued": "#93c5fd",
    "oauth.request": "#1e3a8a",
    # token grants and validations: greens and teal
    "token.access.issued": "#2ca02c",
    "token.refresh.issued": "#15803d",
    "token.refreshed": "#4ade80",
    "token.validated": "#0d9488",
    # revocations: magentas
    "token.revoked": "#c026d3",
    "revoke.request": "#a21caf",
    "token.purged": "#e879f9",
    # configuration, keys, certificates, services: purple, oranges, browns, cyan
    "config.changed": "#7c3aed",
    "trace.level": "#6d28d9",
    "key.regenerated": "#c2410c",
    "key.replicated": "#ea580c",
    "key.loaded": "#fb923c",
    "cert.regenerated": "#92400e",
    "cert.imported": "#b45309",
    "cert.deleted": "#d97706",
    "cert.unit": "#a16207",
    "cert.trace": "#ca8a04",
    "service.restarted": "#0e7490",
    "service.started": "#0891b2",
    "service.stopped": "#155e75",
    "cert.expiry": "#78350f",
    "alarm": "#64748b",
    "audit.service": "#0369a1",
    "audit.event": "#5b21b6",
    # SSO and SAML (not failures): olives
    "sso.enabled": "#65a30d",
    "sso.disabled": "#4d7c0f",
    "sso.test": "#84cc16",
    "sso.metadata": "#a3e635",
    "sso.filter": "#bef264",
    "sso.cluster": "#3f6212",
    "saml.request": "#bcbd22",
    "saml.response": "#a8a21c",
    "saml.detail": "#d4d47a",
    "saml.assertion": "#8c8c1a",
    "saml.time.valid": "#9e9d24",
    "saml.user": "#c0ca33",
    "saml.relay": "#afb42b",
    # the Jabber client: indigos
    "client.http": "#4f46e5",
    "client.sso": "#818cf8",
    "client.trace": "#c7d2fe",
    # Expressway: teals and slate
    "edge.request": "#14b8a6",
    "edge.response": "#5eead4",
    "edge.access": "#0f766e",
    "edge.alarm": "#f97316",
    "edge.config.changed": "#8b5cf6",
    "edge.trace": "#94a3b8",
    # the rest: browns and greys
    "push.token": "#8c564b",
    "log.info": "#9ca3af",
    "unrecognized": "#6b7280",
    "other": OTHER_COLOR,
}
"""Every event kind's colour (a test checks that each kind of the vocabulary has one)."""

LEVEL_COLORS: Mapping[str, str] = {
    "failures": FAILURE_COLOR,
    "FATAL": "#4c0519",
    "ERROR": "#9f1239",
    "WARN": "#f59e0b",
    "INFO": "#1f77b4",
    "DEBUG": "#9ca3af",
    "TRACE": "#d1d5db",
}
"""Colours of the level chart's series (``failures`` first, then the other lines by level)."""


def kind_color(kind: str) -> str:
    """The fixed colour of an event kind (grey for a kind outside the vocabulary)."""
    return KIND_COLORS.get(kind, OTHER_COLOR)


def level_color(level: str) -> str:
    """The fixed colour of a level series (grey for an unknown level)."""
    return LEVEL_COLORS.get(level, OTHER_COLOR)
