"""An authorization request as the service receives it: its parameters (checked as a signature
would check them) and, once it has passed the first checks, the login attempt whose password is
still to be checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Required, TypedDict, get_origin, get_type_hints

from logdoctor.tokenservice.core import Req
from logdoctor.tokenservice.lockout import Key
from logdoctor.tokenservice.passwords import Check

__all__ = ["AuthorizeRequest", "LoginAttempt", "check_parameters"]


class AuthorizeRequest(TypedDict, total=False):
    """The parameters of an authorization request (each value as received, or None)."""

    response_type: Required[str | None]
    """``code`` or ``token`` (the implicit grant)."""
    client_id: Required[str | None]
    redirect_uri: Required[str | None]
    state: str | None
    scope: str | None
    username: str | None
    password: str | None
    device: str | None
    """The Jabber device (``CSFALICE``)."""
    agent: str | None
    """The ``User-Agent``."""
    via: str | None
    """The proxy the request came through (an Expressway-C for MRA), from ``Via``."""
    node: str | None
    """The UCM node asked (default: the publisher)."""
    code_challenge: str | None
    code_challenge_method: str | None
    address: str | None
    """The client's address (counted for lockouts)."""


_PARAMETERS = get_type_hints(AuthorizeRequest, include_extras=True)
# Not AuthorizeRequest.__required_keys__: with postponed annotations Python 3.11 sees none.
_REQUIRED = frozenset(k for k, t in _PARAMETERS.items() if get_origin(t) is Required)


@dataclass
class LoginAttempt:
    """An authorization request that passed ``Grants.authorize_start``: its password is still
    to be checked (outside the service lock), then ``Grants.authorize_finish``."""

    req: Req
    check: Check
    response_type: str
    redirect_uri: str
    state: str | None
    code_challenge: str | None
    keys: tuple[Key, ...]
    """What a failure counts against: the name tried, and the client address if known."""
    counted: frozenset[Key] = frozenset()
    """Those of ``keys`` that had a failure count when the attempt started."""


def check_parameters(request: AuthorizeRequest) -> None:
    """Refuse what a signature would: a parameter unknown or missing (a misspelled keyword from
    an unchecked caller must not pass unseen)."""
    unknown = request.keys() - _PARAMETERS.keys()
    missing = _REQUIRED - request.keys()
    if unknown or missing:
        what = [f"unexpected {k!r}" for k in sorted(unknown)]
        what += [f"missing {k!r}" for k in sorted(missing)]
        raise TypeError(f"authorize request: {', '.join(what)}")
