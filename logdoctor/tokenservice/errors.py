"""Errors the token service raises (the HTTP layer and the CLI turn them into answers)."""

from __future__ import annotations

from typing import Any

__all__ = ["OAuthError", "ServiceError"]


class ServiceError(ValueError):
    """A request of the administrator that cannot be done (unknown node, bad name, ...)."""


class OAuthError(Exception):
    """An OAuth refusal: HTTP ``status``, RFC 6749 ``error``, and logdoctor's ``reason``."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        reason: str,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description
        self.reason = reason
        self.retry_after = retry_after
        """Seconds after which a retry may succeed (a lockout's end), for ``Retry-After``."""

    def to_json(self) -> dict[str, Any]:
        """The RFC 6749 error body."""
        return {"error": self.error, "error_description": self.description}
