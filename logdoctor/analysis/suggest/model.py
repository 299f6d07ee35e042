"""What a draft is made of and the names it gives fields (:data:`COLUMN_KEYS`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from logdoctor.analysis.shapes import Template

__all__ = [
    "COLUMN_KEYS",
    "DEFAULT_MIN_COUNT",
    "DEVICE_NAME",
    "GENERIC_KINDS",
    "Draft",
    "DraftEvent",
    "SuggestError",
]

DEFAULT_MIN_COUNT = 2
"""Templates seen fewer times than this are left out of a draft (one-off lines)."""

GENERIC_KINDS: tuple[str, ...] = ("oauth.error", "oauth.request")
"""Kinds of generic detectors: an RFC 6749 error code or an OAuth endpoint path anywhere in a
line no specific pattern knows. Such a line is recognized only in part (no user, no client), so
a draft mines these records too by default, and its events go before those detectors."""

COLUMN_KEYS: Mapping[str, tuple[str, ...]] = {
    "user": ("user", "userid", "username", "uid", "principal", "login", "subject", "account"),
    "client_id": ("clientid", "client", "oauthclient"),
    "device": ("device", "devicename", "deviceid", "dev"),
    "token_id": (
        "jti",
        "tid",
        "tokenid",
        "refreshtokenid",
        "accesstokenid",
        "code",
        "authcode",
        "token",
    ),
    "grant": ("grant", "granttype", "responsetype", "grantflow", "flow"),
    "reason": (
        "reason",
        "cause",
        "check",
        "failedcheck",
        "errordescription",
        "error",
        "errorcode",
        "outcome",
        "result",
        "status",
    ),
    "key": ("kid", "keyid", "checksum", "key", "keychecksum", "fingerprint", "thumbprint"),
    "server": ("via", "server", "validator", "proxy", "node", "host", "publisher", "edge"),
    "param": ("param", "parameter", "name", "use", "keyuse", "method", "authmethod", "service"),
    "value": (
        "value",
        "newvalue",
        "new",
        "count",
        "version",
        "keyversion",
        "expiresin",
        "ttl",
        "lifetime",
        "revoked",
        "tokensrevoked",
    ),
    "agent": ("agent", "useragent", "clientversion"),
}
"""Names a key may have (lower case, without ``_``, ``-`` or ``.``) for each event column, the
preferred first: when two keys of one template name the same column, the earlier one wins."""

DEVICE_NAME = re.compile(r"(?:CSF|TCT|BOT|TAB)[A-Z0-9._-]+")
"""A Jabber device name (Windows/Mac CSF, iPhone TCT, Android BOT, iPad TAB)."""


class SuggestError(ValueError):
    """Nothing can be drafted (no unrecognized record, an unknown family...)."""


@dataclass(frozen=True)
class DraftEvent:
    """One drafted event: its kind, regex and the template it comes from."""

    kind: str
    regex: str
    template: Template
    fields: tuple[tuple[str, str], ...]
    """(column, key or shape it was named after)."""
    unnamed: tuple[str, ...]
    """Keys whose values vary but that no column name fits (left as ``\\S+``)."""
    samples: tuple[tuple[str, Mapping[str, str]], ...] = ()


@dataclass(frozen=True)
class Draft:
    """A drafted format file and what it covers."""

    family: str
    format_name: str
    base_path: str
    text: str
    events: tuple[DraftEvent, ...]
    records: int
    """Records mined (unrecognized, plus those of ``include`` kinds)."""
    covered: int
    """Records a draft event matches."""
    left_out: tuple[Template, ...] = field(default_factory=tuple)
    """Templates below ``min_count``."""

    @property
    def coverage(self) -> float:
        """Share of the mined records the draft events match (1.0 when there were none)."""
        return self.covered / self.records if self.records else 1.0
