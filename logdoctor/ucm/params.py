"""The service's parameters: names, UCM labels, ranges and defaults.

The names are logdoctor's (``refresh_login_flow``, ...); ``label`` is the UCM administration
page's and ``group`` the page it is on: the OAuth enterprise parameters (System > Enterprise
Parameters) and the credential policy that locks an account after failed logons (User
Management > User Settings > Credential Policy: Failed Logon 1-100 or 0 for no limit, default 3;
Reset Failed Logon Attempts Every 1-120 minutes, default 30; Lockout Duration 0-1440 minutes,
0 meaning an administrator must unlock, default 30). ``failed_logon_per_address`` is
logdoctor's own: UCM counts failures per account only. Out-of-range values are refused with the
range in the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["PARAMETER_RANGES", "PARAMS", "ParamError", "ParamSpec", "defaults", "normalize"]

Kind = Literal["bool", "int", "list"]


class ParamError(ValueError):
    """A parameter name or value that cannot be set; ``reason`` is short, for the log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ParamSpec:
    """One enterprise parameter."""

    name: str
    label: str
    kind: Kind
    default: str
    low: int = 0
    high: int = 0
    help: str = ""
    group: str = "Enterprise Parameters"

    @property
    def range_text(self) -> str:
        """The allowed values, as the refusal message and ``params`` print them."""
        if self.kind == "bool":
            return "on|off"
        if self.kind == "int":
            return f"{self.low}-{self.high}"
        return "comma-separated URIs"


PARAMS: dict[str, ParamSpec] = {
    p.name: p
    for p in (
        ParamSpec(
            "refresh_login_flow",
            "OAuth with Refresh Login Flow",
            "bool",
            "off",
            help="Issue refresh tokens and accept refresh grants (UCM default: Disabled).",
        ),
        ParamSpec(
            "access_token_expiry_minutes",
            "OAuth Access Token Expiry Timer (minutes)",
            "int",
            "60",
            1,
            1440,
            help="Lifetime of access tokens (implicit and refresh flows).",
        ),
        ParamSpec(
            "refresh_token_expiry_days",
            "OAuth Refresh Token Expiry Timer (days)",
            "int",
            "60",
            1,
            365,
            help="Lifetime of refresh tokens; changing it revokes every refresh token.",
        ),
        ParamSpec(
            "implicit_grant",
            "Implicit grant flow (response_type=token)",
            "bool",
            "on",
            help="Older Jabber (< 11.9) and RTMT use it; on by default.",
        ),
        ParamSpec(
            "redirect_uris",
            "Redirect URIs for Third Party SSO Client",
            "list",
            "",
            help="Extra redirect URIs allowed besides loopback ones.",
        ),
        ParamSpec(
            "failed_logon",
            "Failed Logon",
            "int",
            "3",
            0,
            100,
            help="Failed logons (wrong password or unknown user) that lock an account: end "
            "users at the authorization endpoint, the administrator at the revoke API; "
            "0 = no limit.",
            group="Credential Policy",
        ),
        ParamSpec(
            "reset_failed_logon_minutes",
            "Reset Failed Logon Attempts Every (minutes)",
            "int",
            "30",
            1,
            120,
            help="Minutes without a failed logon after which the failure count starts again.",
            group="Credential Policy",
        ),
        ParamSpec(
            "lockout_duration_minutes",
            "Lockout Duration (minutes)",
            "int",
            "30",
            0,
            1440,
            help="How long a lockout lasts; 0 = until an administrator resets it "
            "(`service lockouts --reset`).",
            group="Credential Policy",
        ),
        ParamSpec(
            "failed_logon_per_address",
            "Failed Logon per client address (logdoctor's; UCM has none)",
            "int",
            "20",
            0,
            10000,
            help="Failed logons from one client address (any user, and the administrator) "
            "that lock the address out; same reset and duration; 0 = no limit.",
            group="Credential Policy",
        ),
    )
}

PARAMETER_RANGES: Mapping[str, tuple[int, int]] = {
    p.name: (p.low, p.high)
    for p in PARAMS.values()
    if p.kind == "int" and p.group == "Enterprise Parameters"
}
"""Allowed ranges of the numeric OAuth enterprise parameters (UCM 12.5 and later), as a
deployment file may declare them."""

_TRUE = {"on", "enabled", "enable", "true", "yes", "1"}
_FALSE = {"off", "disabled", "disable", "false", "no", "0"}


def defaults() -> dict[str, str]:
    """Every parameter at its default."""
    return {name: spec.default for name, spec in PARAMS.items()}


def normalize(name: str, raw: str) -> str:
    """The canonical stored form of ``raw`` for parameter ``name``, or :class:`ParamError`."""
    spec = PARAMS.get(name)
    if spec is None:
        known = ", ".join(PARAMS)
        raise ParamError(f"unknown parameter {name!r} (known: {known})", "unknown_parameter")
    value = raw.strip()
    if spec.kind == "bool":
        low = value.lower()
        if low in _TRUE:
            return "on"
        if low in _FALSE:
            return "off"
        raise ParamError(f"{name}: {raw!r} is not on or off", "not_on_off")
    if spec.kind == "int":
        try:
            n = int(value, 10)
        except ValueError:
            raise ParamError(
                f"{name}: {raw!r} is not a whole number (allowed {spec.range_text})",
                f"not_a_number {spec.range_text}",
            ) from None
        if not spec.low <= n <= spec.high:
            raise ParamError(
                f"{name}: {n} is out of range (allowed {spec.range_text})",
                f"out_of_range {spec.range_text}",
            )
        return str(n)
    uris = [u.strip() for u in value.split(",") if u.strip()]
    for u in uris:
        if not u.isprintable() or " " in u or len(u) > 2048:
            raise ParamError(f"{name}: {u!r} is not a URI", "bad_uri")
    return ",".join(uris)
