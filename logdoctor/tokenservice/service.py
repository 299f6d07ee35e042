"""The token service: UCM's OAuth refresh logins, in process, writing UCM's logs.

:class:`Service` owns a data dir (``state.db`` + ``logs/``) and does what the HTTP layer and
the ``logdoctor service`` commands ask: authorize (code and implicit grants), the token endpoint
(authorization-code and refresh grants), validation for resource servers (the seed's four
checks, in its order: signature, decrypt and verify, user active, user has access), the revoke
API, enterprise parameters, key regeneration and replication, key sync on outside servers,
service restarts, trace level, SSO enable, the nightly purge. Each action writes the lines UCM
would write; every message is made in :mod:`~logdoctor.tokenservice.messages` and read back by
the ``[[event]]`` patterns of ``parsers/*.toml``.

It needs no HTTP and takes an injected clock and random source, so a simulation can run days of
virtual time with thousands of users, deterministically for a given seed. Thread-safe: one lock
around state and logs; the RSA signature of an access token is made outside it, when the caller
reads :attr:`~logdoctor.tokenservice.tokens.AccessToken.compact`.

The class is split by endpoint, as Authlib splits its authorization server, over one core:

==================  ===========================================================================
:mod:`.core`        state, lock, clock, the operation helper, log routing, key rings, access
                    checks, failed-logon counting, the purge schedule
:mod:`.grants`      the authorization endpoint (code, implicit) and the token endpoint (code
                    exchange, refresh), issuing tokens
:mod:`.validation`  introspection at resource servers, the revoke API
:mod:`.admin`       nodes, users, parameters, lockouts, keys, restarts, trace level, SSO, purge
:mod:`.edge`        what Expressway-C and Unity Connection write around those endpoints
                    (their diagnostic log and syslog alarm instead of an ssosp log)
==================  ===========================================================================
"""

from __future__ import annotations

from logdoctor.tokenservice.authrequest import LoginAttempt
from logdoctor.tokenservice.core import ACCESS_GROUPS, MAX_NAME, REQUIRED_ROLE
from logdoctor.tokenservice.edge import Edge
from logdoctor.tokenservice.results import (
    AdminCredentials,
    AuthorizeResult,
    Introspection,
    RevokeResult,
    TokenResponse,
)

__all__ = [
    "ACCESS_GROUPS",
    "MAX_NAME",
    "REQUIRED_ROLE",
    "AdminCredentials",
    "AuthorizeResult",
    "Introspection",
    "LoginAttempt",
    "RevokeResult",
    "Service",
    "TokenResponse",
]


class Service(Edge):
    """One emulated UCM cluster (and the servers around it) over one data dir.

    Construct it as :class:`~logdoctor.tokenservice.core.Core` (``Service(data_dir, clock=...,
    rng=...)``); its endpoints come from the mixins, each over the same core state.
    """
