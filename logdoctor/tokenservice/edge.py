"""The servers at the edge: what Expressway-C and Unity Connection write, not UCM's ssosp.

Neither product keeps an ssosp log. :class:`Edge` (a layer of
:class:`~logdoctor.tokenservice.service.Service`) drops the ssosp lines the core would write
for an Expressway or Unity Connection node and writes what those products write instead:

- **Expressway-C** (its diagnostic log, ``loggingsnapshot_<host>_<date>.txt``, see
  :func:`~logdoctor.tokenservice.logwriter.snapshot_path`): one traffic_server
  ``Receive Request`` / ``Receive Response`` pair with a Txn-id for every request it relays
  (``via`` names it): the authorize request (``GET /<base64 of the SSO domain>/authorize?
  response_type=...``), the token endpoint (``POST /<base64 of domain/https/host/8443>/ssosp/
  oauth/token``) and, when a client presents its access token, a UDS request (``GET .../
  cucm-uds/user/<user>/devices``), each with the status the token service gave (401 when
  the Expressway cannot decrypt the token: it answers itself, ``Src-ip="127.0.0.1"``). The
  first such refusal after the keys changed raises alarm 40054 "Token decryption failure";
  "Refresh servers" (:meth:`sync_keys`) writes a ``System Configuration Changed`` line.
- **Unity Connection**: the ``EvtAuthzKeyRotation`` alarm in its CiscoSyslog, once, the first
  time it refuses a token for a signature or decryption failure after the keys changed
  ("Jabber login for user is failing due to improper Authz keys").

Every line is rendered through the ``expressway`` and ``ciscosyslog`` formats' templates and
``[writer]`` tables; which wordings are Cisco's and which are modelled is the ``basis`` of
their ``[[event]]`` patterns. Txn-ids count per Expressway; tracking ids and the relay's
few milliseconds come from a hash of the Expressway and the Txn-id (no random draw, so the
service's seeded stream is the same with or without these lines).
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from typing import TypeVar, Unpack

from logdoctor.ingest.formats.encoders import family
from logdoctor.tokenservice.admin import Admin
from logdoctor.tokenservice.authrequest import AuthorizeRequest, LoginAttempt
from logdoctor.tokenservice.cluster import Node, Role
from logdoctor.tokenservice.errors import OAuthError
from logdoctor.tokenservice.grants import Grants
from logdoctor.tokenservice.results import AuthorizeResult, Introspection
from logdoctor.tokenservice.tokens import AccessToken
from logdoctor.tokenservice.validation import Validation

__all__ = ["DOMAIN", "EDGE_ROLES", "Edge", "mra_path"]

DOMAIN = "example.com"
"""The lab's SSO / service domain (hosts are ``<node>.example.com``)."""
EDGE_ROLES = (Role.EXPRESSWAY, Role.UNITY)
"""Roles whose nodes write no ssosp log."""
KEY_FAILURES = ("signature", "decrypt")
"""Validation failures that mean the server holds other keys than the tokens were made with."""
ALARM_40054 = (
    "Token decryption failure: The Expressway-C failed to decrypt or decode an OAuth token"
    " issued by Unified CM. This could be caused by changes to the issuer."
)
"""The administrator guide's text of alarm 40054."""

_EXP = family("expressway")
_SYSLOG = family("ciscosyslog")
_TS = "traffic_server"
T = TypeVar("T")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def mra_path(host: str | None, path: str) -> str:
    """The path Jabber asks an Expressway-C for over MRA: ``/<base64 of domain/https/host/
    8443>/<path>`` for a UCM ``host`` (the published UDS form), ``/<base64 of domain>/<path>``
    without one (the published authorize form)."""
    head = f"{DOMAIN}/https/{host}.{DOMAIN}/8443" if host else DOMAIN
    return f"/{_b64(head)}{path}"


def _utc(t: float) -> str:
    ms = int((t - int(t)) * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(t))) + f",{ms:03d}"


class Edge(Grants, Validation, Admin):
    """Expressway-C and Unity Connection logs around the token service's endpoints."""

    _edge_txn: dict[str, int]
    _edge_stale: set[str]

    def _edge_state(self) -> tuple[dict[str, int], set[str]]:
        if not hasattr(self, "_edge_txn"):
            self._edge_txn, self._edge_stale = {}, set()
        return self._edge_txn, self._edge_stale

    def forget_alarms(self) -> None:
        """Raise the key alarms again at the next failure (the logs that held the raised ones
        were dropped: a simulation's collection window starts)."""
        self._edge_state()[1].clear()

    # -- routing ---------------------------------------------------------------------------------

    def _log(self, node: Node, t: float, level: str, thread: str, logger: str, text: str) -> None:
        """No ssosp line for an Expressway or a Unity Connection node."""
        if node.role in EDGE_ROLES:
            return
        super()._log(node, t, level, thread, logger, text)

    def _expressway(self, name: str | None) -> Node | None:
        node = self.state.nodes.get(name) if name else None
        return node if node is not None and node.role is Role.EXPRESSWAY else None

    # -- lines -----------------------------------------------------------------------------------

    def _edge_line(self, node: Node, t: float, proc: str, msg: str) -> None:
        local = t + node.clock_offset
        self.logs.expressway(node.name, local, "+00:00", proc, msg)

    def _relay(
        self, exp: Node, now: float, method: str, url: str, status: int, upstream: str
    ) -> None:
        """A Receive Request / Receive Response pair of ``exp``'s traffic_server."""
        txns, _stale = self._edge_state()
        txn = txns.get(exp.name, 0) + 1
        txns[exp.name] = txn
        seed = hashlib.sha256(f"{exp.name}:{txn}".encode()).digest()
        pid = 2000 + int.from_bytes(seed[:1]) % 200
        proc = f"{_TS}[{pid}]: "
        request = _EXP.message(
            "edge.request",
            utc=_utc(now + exp.clock_offset),
            key=str(txn),
            tracking=str(uuid.UUID(bytes=seed[:16], version=4)),
            port=str(30000 + int.from_bytes(seed[1:3]) % 30000),
            param=method,
            url=f"http://vcs_control.{DOMAIN}:8443{url}",
        )
        self._edge_line(exp, now, proc, request)
        done = now + (5 + seed[3] % 60) / 1000
        response = _EXP.message(
            "edge.response",
            utc=_utc(done + exp.clock_offset),
            key=str(txn),
            server=upstream,
            reason=str(status),
        )
        self._edge_line(exp, done, proc, response)

    def _alarm_40054(self, exp: Node, now: float) -> None:
        _txns, stale = self._edge_state()
        if exp.name in stale:
            return
        stale.add(exp.name)
        seed = hashlib.sha256(f"{exp.name}:alarm:{now}".encode()).digest()
        msg = _EXP.message(
            "edge.alarm",
            key="40054",
            uuid=str(uuid.UUID(bytes=seed[:16], version=4)),
            reason=ALARM_40054,
            utc=_utc(now + exp.clock_offset),
        )
        self._edge_line(exp, now, 'alarm: Level="WARN" ', msg)

    def _unity_alarm(self, node: Node, now: float) -> None:
        _txns, stale = self._edge_state()
        if node.name in stale:
            return
        stale.add(node.name)
        text = _SYSLOG.message("authz.keys.mismatch", cluster=node.cluster, node=node.name)
        self._syslog(node, now, 4, text)

    def _relayed(
        self, via: str | None, method: str, url: str, upstream: str, call: Callable[[], T]
    ) -> T:
        """``call()`` (an endpoint); when ``via`` names an Expressway, its relay of the request
        with the status the endpoint gave (``ok`` when it returns)."""
        exp = self._expressway(via)
        if exp is None:
            return call()
        with self._op() as now:
            try:
                result = call()
            except OAuthError as exc:
                self._relay(exp, now, method, url, exc.status, upstream)
                raise
            self._relay(exp, now, method, url, 302 if method == "GET" else 200, upstream)
            return result

    def _upstream(self, node: str | None) -> str:
        return node if node in self.state.nodes else self.state.publisher.name

    # -- endpoints -------------------------------------------------------------------------------

    def authorize_start(self, **request: Unpack[AuthorizeRequest]) -> LoginAttempt:
        """As :meth:`Grants.authorize_start`; a refusal relayed by an Expressway is in its log
        (a request that gets as far as the password is logged by :meth:`authorize_finish`)."""
        exp = self._expressway(request.get("via"))
        if exp is None:
            return super().authorize_start(**request)
        try:
            # Not under the lock: the password check it prepares runs outside it.
            return super().authorize_start(**request)
        except OAuthError as exc:
            with self._op() as now:
                url = _authorize_url(request.get("response_type"), request.get("client_id"))
                up = self._upstream(request.get("node"))
                self._relay(exp, now, "GET", url, exc.status, up)
            raise

    def authorize_finish(self, attempt: LoginAttempt, password_ok: bool) -> AuthorizeResult:
        """As :meth:`Grants.authorize_finish`, relayed by the request's Expressway if any."""
        r = attempt.req
        url = _authorize_url(attempt.response_type, r.client_id)
        return self._relayed(
            r.via,
            "GET",
            url,
            r.node.name,
            lambda: super(Edge, self).authorize_finish(attempt, password_ok),
        )

    def _relay_token(self, via: str | None, node: str | None, call: Callable[[], T]) -> T:
        """A token-endpoint grant (``call``), relayed by ``via`` if it is an Expressway."""
        if self._expressway(via) is None:
            return call()
        up = self._upstream(node)
        return self._relayed(via, "POST", mra_path(up, "/ssosp/oauth/token"), up, call)

    def introspect(self, token: str | AccessToken, *, server: str | None = None) -> Introspection:
        """As :meth:`Validation.introspect`. At an Expressway the token came with a UDS request
        it relays (200) or answers itself (401, and alarm 40054 the first time its keys cannot
        decrypt a token); at Unity Connection a key failure raises EvtAuthzKeyRotation once."""
        with self._op() as now:
            result = super().introspect(token, server=server)
            node = self.state.nodes.get(server) if server else None
            if node is None or node.role not in EDGE_ROLES:
                return result
            stale = not result.active and result.reason in KEY_FAILURES
            if node.role is Role.UNITY:
                if stale:
                    self._unity_alarm(node, now)
                return result
            user = token.claims.sub if isinstance(token, AccessToken) else None
            if result.claims is not None:
                user = result.claims.sub
            pub = self.state.publisher.name
            url = mra_path(pub, f"/cucm-uds/user/{user or 'me'}/devices")
            if stale:
                self._alarm_40054(node, now)
            status, up = (200, pub) if result.active else (401, "127.0.0.1")
            self._relay(node, now, "GET", url, status, up)
            return result

    def sync_keys(self, server: str) -> None:
        """As :meth:`Admin.sync_keys`; an Expressway's "Refresh servers" is a configuration
        change in its log, and the server raises its key alarm again when keys next differ."""
        with self._op() as now:
            super().sync_keys(server)
            node = self.state.nodes[server]
            _txns, stale = self._edge_state()
            stale.discard(node.name)
            if node.role is Role.EXPRESSWAY:
                pub = self.state.publisher.name
                text = _EXP.message(
                    "edge.config.changed",
                    utc=_utc(now + node.clock_offset),
                    reason=f"Refresh servers: Unified CM servers refreshed ({pub}.{DOMAIN})",
                    user="admin",
                )
                self._edge_line(node, now, "", text)


def _authorize_url(response_type: str | None, client_id: str | None) -> str:
    query = f"?response_type={response_type or ''}&client_id={client_id or ''}"
    return mra_path(None, "/authorize") + query
