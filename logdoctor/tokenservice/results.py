"""What the token service answers: the values its endpoints return, ready for JSON.

:class:`TokenResponse` (token endpoint and implicit grant), :class:`AuthorizeResult` (where the
authorization endpoint redirects), :class:`Introspection` (a resource server's verdict) and
:class:`RevokeResult` (the revoke API's answer), plus :class:`AdminCredentials`, the account the
revoke API checks. Each ``to_json`` gives the body UCM sends.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from logdoctor.tokenservice.tokens import SCOPE, AccessClaims, AccessToken, digest_hex

__all__ = ["AdminCredentials", "AuthorizeResult", "Introspection", "RevokeResult", "TokenResponse"]


@dataclass(frozen=True)
class AdminCredentials:
    """The administrator (AXL) account that may call the revoke API."""

    user: str
    password: str = field(repr=False)

    def check(self, user: str, password: str) -> bool:
        """Constant-time comparison of both parts (digests, so lengths leak nothing)."""
        u = hmac.compare_digest(digest_hex(user), digest_hex(self.user))
        p = hmac.compare_digest(digest_hex(password), digest_hex(self.password))
        return u & p


@dataclass
class TokenResponse:
    """A successful token-endpoint (or implicit) answer."""

    access: AccessToken
    expires_in: int
    refresh_token: str | None = None

    def to_json(self) -> dict[str, Any]:
        """RFC 6749 §5.1 JSON (signs the access token if it was not yet)."""
        out: dict[str, Any] = {
            "access_token": self.access.compact,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": SCOPE,
        }
        if self.refresh_token is not None:
            out["refresh_token"] = self.refresh_token
        return out


@dataclass
class AuthorizeResult:
    """Where the authorization endpoint redirects the user agent."""

    redirect_uri: str
    state: str | None
    code: str | None = None
    token: TokenResponse | None = None

    def location(self) -> str:
        """The ``Location`` of the 302 (query for a code, fragment for an implicit token)."""
        if self.code is not None:
            params: dict[str, str] = {"code": self.code}
            if self.state is not None:
                params["state"] = self.state
            sep = "&" if "?" in self.redirect_uri else "?"
            return f"{self.redirect_uri}{sep}{urlencode(params)}"
        assert self.token is not None
        frag = {
            "access_token": self.token.access.compact,
            "token_type": "Bearer",
            "expires_in": str(self.token.expires_in),
            "scope": SCOPE,
        }
        if self.state is not None:
            frag["state"] = self.state
        return f"{self.redirect_uri}#{urlencode(frag)}"


@dataclass(frozen=True)
class Introspection:
    """What a resource server concluded about an access token."""

    active: bool
    server: str
    reason: str | None = None
    claims: AccessClaims | None = None

    def to_json(self) -> dict[str, Any]:
        """RFC 7662 answer (``reason`` added when inactive)."""
        if not self.active or self.claims is None:
            return {"active": False, "reason": self.reason}
        c = self.claims
        return {
            "active": True,
            "sub": c.sub,
            "client_id": c.client_id,
            "scope": c.scope,
            "exp": c.exp,
            "iat": c.iat,
            "jti": c.jti,
            "iss": c.iss,
            "token_type": "access_token",
            "server": self.server,
        }


@dataclass(frozen=True)
class RevokeResult:
    """What the revoke API revoked."""

    user_id: str
    tokens: tuple[tuple[str, str], ...]
    """(client_id, 64-hex index) of each revoked refresh token."""

    def to_json(self) -> dict[str, Any]:
        """UCM's answer: ``{"revoked_tokens": {"status", "user_id", "clientID_tokens"}}``."""
        return {
            "revoked_tokens": {
                "status": "success",
                "user_id": self.user_id,
                "clientID_tokens": [
                    {"client_id": c, "refresh_token": idx} for c, idx in self.tokens
                ],
            }
        }
