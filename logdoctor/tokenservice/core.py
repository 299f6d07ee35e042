"""What every endpoint of the token service stands on: state, lock, clock, log routing, keys.

:class:`Core` owns a data dir (``state.db`` + ``logs/``): the cached :class:`.state.State` of the
deployment (reloaded when another process changes the database), the one lock around state and
logs, the injected clock and random sources, the operation helper :meth:`Core._op` every public
call runs in (lock, pick up other processes' changes, run the nightly purge when due, flush the
logs), log routing per node (its clock offset and trace level), the key rings of nodes and of
their validating services, the access check, the refusal of inactive users, and the counting of
failed logons. The endpoints are mixins over it (:mod:`.grants`, :mod:`.validation`,
:mod:`.admin`), composed into :class:`~logdoctor.tokenservice.service.Service`; every message
they write comes from :mod:`.messages`.
"""

from __future__ import annotations

import base64
import os
import random
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from logdoctor.tokenservice import messages as msg
from logdoctor.tokenservice.clock import Clock, SystemClock
from logdoctor.tokenservice.cluster import Node
from logdoctor.tokenservice.errors import OAuthError, ServiceError
from logdoctor.tokenservice.lockout import Key, Lockout, Lockouts, OneAtATime, Policy
from logdoctor.tokenservice.logwriter import LogWriter
from logdoctor.tokenservice.passwords import PasswordChecker
from logdoctor.tokenservice.records import RefreshRow, User
from logdoctor.tokenservice.results import AdminCredentials
from logdoctor.tokenservice.site import log_settings
from logdoctor.tokenservice.state import State, init_deployment, load_state, next_purge_after
from logdoctor.tokenservice.store import Store
from logdoctor.tokenservice.tokens import Keyring
from logdoctor.tokenservice.verify import TokenVerifier

__all__ = [
    "ACCESS_GROUPS",
    "CLIENT_ID_RE",
    "CODE_LIFETIME",
    "MAX_FIELD",
    "MAX_NAME",
    "REQUIRED_ROLE",
    "Core",
    "Req",
    "clip",
    "uuid4_text",
]

REQUIRED_ROLE = "Standard CCM End Users"
"""The role a user needs (directly or through an access control group) to use OAuth."""

ACCESS_GROUPS: dict[str, tuple[tuple[str, ...], int]] = {
    "Standard CCM End Users": (("Standard CCM End Users",), 10),
    "Standard CCM Super Users": (("Standard CCM Super Users", "Standard CCM End Users"), 1),
    "Standard CCM Read Only": (("Standard CCM Admin Users",), 10),
}
"""Access control groups: the roles each grants, and the highest user rank (1 = most
privileged, 10 = least) it grants them to."""

DEFAULT_CLUSTER = "StandAloneCluster"
DEFAULT_PUBLISHER = "ucm-pub"
CODE_LIFETIME = 120.0
"""Seconds an authorization code may be exchanged."""
CLIENT_ID_RE = re.compile(r"^C[0-9a-f]{64}$")
"""What a Jabber client id looks like."""
MAX_FIELD = 256
"""Characters of a request value kept (in the logs and the database)."""
MAX_NAME = 128
"""Characters of a user name kept."""
T = TypeVar("T")


def uuid4_text(raw: bytes) -> str:
    """``str(uuid.UUID(bytes=raw, version=4))`` of 16 random bytes, without building a UUID
    (the version nibble set to 4, the variant bits to RFC 4122's ``10``)."""
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def clip(value: str | None, limit: int = MAX_FIELD) -> str | None:
    """``value`` cut to ``limit`` characters (what the logs and the database keep of it)."""
    return None if value is None else value[:limit]


@dataclass
class Req:
    """One request or action: its node, time and thread, and who it concerns (for log lines)."""

    svc: Core
    node: Node
    now: float
    thread: str
    grant: str | None = None
    user: str | None = None
    client_id: str | None = None
    device: str | None = None
    tid: str | None = None
    via: str | None = None

    def log(self, level: str, logger: str, text: str, dt: float = 0.0) -> None:
        """Write a line to the node's ssosp log at the request's time (plus ``dt``)."""
        self.svc._log(self.node, self.now + dt, level, self.thread, logger, text)

    def token_refused(self, error: str, reason: str, text: str, status: int = 400) -> OAuthError:
        """Log a token-endpoint refusal; the error to raise."""
        self.log(
            "WARN",
            msg.TOKEN,
            msg.token_refused(
                grant=self.grant,
                error=error,
                reason=reason,
                user=self.user,
                client_id=self.client_id,
                device=self.device,
                tid=self.tid,
                via=self.via,
            ),
        )
        return OAuthError(status, error, text, reason)

    def authorize_refused(self, status: int, error: str, reason: str, text: str) -> OAuthError:
        """Log an authorization-endpoint refusal; the error to raise."""
        self.log(
            "WARN",
            msg.AUTHZ,
            msg.authorize_refused(
                error=error,
                reason=reason,
                response_type=self.grant,
                client_id=self.client_id,
                user=self.user,
                via=self.via,
            ),
        )
        return OAuthError(status, error, text, reason)


class Core:
    """One emulated UCM cluster (and the servers around it) over one data dir: the shared part
    of :class:`~logdoctor.tokenservice.service.Service`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        key_rng: random.Random | None = None,
        durable: bool = True,
        autoflush: bool = True,
        ssosp_max_bytes: int = 10 * 1024 * 1024,
        log_backups: int | None = None,
        admin: AdminCredentials | None = None,
        cluster: str | None = None,
        publisher: str | None = None,
        password_cost: int = 1 << 14,
    ) -> None:
        """Open (or create) the data dir.

        ``rng`` makes ids (jti, tid, codes, thread numbers) deterministic and ``key_rng`` the
        keys; leave both None outside simulations. ``cluster`` / ``publisher`` name a new
        deployment (defaults StandAloneCluster / ucm-pub) and must match an existing one.
        ``autoflush`` writes log lines at the end of every call (else call :meth:`flush`).
        ``password_cost`` is scrypt's N for passwords set through this object.
        ``ssosp_max_bytes`` is the size at which an ssosp file (and ssoApp.log) rotates, and
        ``log_backups`` how many rotated files of each log are kept (None: all).
        """
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        self.clock: Clock = clock or SystemClock()
        self._rng = rng
        self._threads = random.Random()
        self._key_rng = key_rng
        self._autoflush = autoflush
        self.defer_flush: Callable[[], bool] | None = None
        """Set by the HTTP server (:class:`~logdoctor.tokenservice.server.LogFlush`): asked at
        the end of every operation with ``autoflush``; True when it took the log lines over
        (they are written before the next response leaves), False to write them now."""
        self.admin = admin
        self.password_cost = password_cost
        self.store = Store(data_dir / "state.db", durable=durable)
        self.logs = LogWriter(
            data_dir / "logs", ssosp_max_bytes=ssosp_max_bytes, backups=log_backups
        )
        self.verifier = TokenVerifier()
        self.passwords = PasswordChecker()
        """Checks passwords (scrypt) outside the service lock; the HTTP layer awaits it."""
        self.lockouts = Lockouts(self.store)
        self.one_at_a_time = OneAtATime()
        """Logon attempts on one name, one at a time (so failure counts are exact)."""
        self._lock = threading.RLock()
        self._rings: dict[tuple[int, int], Keyring] = {}
        self._s: State | None = None
        if not self.store.clusters():
            init_deployment(
                self.store,
                cluster or DEFAULT_CLUSTER,
                publisher or DEFAULT_PUBLISHER,
                now=self.clock.time(),
                cluster_uuid=self._uuid(),
                key_rng=self._key_rng,
            )
        self._dv = self.store.data_version()
        self._s = self._load()
        self.logs.configure(*log_settings(self.store, list(self._s.nodes)))
        if cluster is not None and cluster != self._s.cluster:
            raise ServiceError(f"{data_dir}: holds cluster {self._s.cluster!r}, not {cluster!r}")
        if publisher is not None and publisher not in self._s.nodes:
            raise ServiceError(f"{data_dir}: no node {publisher!r}")

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The cached state (reloaded when another process changes the database)."""
        assert self._s is not None
        return self._s

    def close(self) -> None:
        """Flush logs, stop the password threads and close the database."""
        self.passwords.close()
        with self._lock:
            self.logs.close()
            self.store.close()

    def tick(self) -> None:
        """Pick up other processes' changes, run due jobs (the nightly purge) and forget
        failed-logon counts that no longer matter."""
        with self._op() as now, self.store.tx() as db:
            self.lockouts.prune(db, now, self._policy())

    def flush(self) -> None:
        """Write buffered log lines."""
        with self._lock:
            self.logs.flush()

    @contextmanager
    def _op(self) -> Iterator[float]:
        """One public operation: lock, pick up other processes' changes, run due jobs."""
        with self._lock:
            dv = self.store.data_version()
            if dv != self._dv:
                self._dv = dv
                self._s = self._load()
                self.logs.rescan()
                self.logs.configure(*log_settings(self.store, list(self._s.nodes)))
            now = self.clock.time()
            if now >= self.state.next_purge:
                self._purge_due(now)
            try:
                yield now
            finally:
                if self._autoflush and (self.defer_flush is None or not self.defer_flush()):
                    self.logs.flush()

    def _req(self, node: Node, now: float, **who: str | None) -> Req:
        return Req(self, node, now, self._thread(), **who)

    # -- state -----------------------------------------------------------------------------------

    def _load(self) -> State:
        return load_state(self.store, self._s, self.clock, self.password_cost)

    def _reload(self) -> None:
        self._s = self._load()

    def _node(self, name: str | None, *, issuing: bool = False) -> Node:
        s = self.state
        if name is None:
            return s.publisher
        node = s.nodes.get(name)
        if node is None:
            raise ServiceError(f"unknown node {name!r} (known: {', '.join(s.nodes)})")
        if issuing and not node.spec.issues:
            raise ServiceError(f"node {name!r} is a {node.role.value} node, not a UCM node")
        return node

    def _flow_on(self) -> bool:
        return self.state.params["refresh_login_flow"] == "on"

    # -- ids -------------------------------------------------------------------------------------

    def _uuid(self) -> str:
        if self._rng is None:
            return uuid4_text(os.urandom(16))
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _secret(self) -> str:
        if self._rng is None:
            return secrets.token_urlsafe(32)
        return base64.urlsafe_b64encode(self._rng.randbytes(32)).rstrip(b"=").decode()

    def _thread(self) -> str:
        # A thread number is no secret: a seeded PRNG (not the OS's) picks it.
        rng = self._rng if self._rng is not None else self._threads
        return self.logs.profile.thread(rng.randrange(1, 41))

    def _relay_token(self, via: str | None, node: str | None, call: Callable[[], T]) -> T:
        """A token-endpoint grant (``call``) as the proxy ``via`` relays it to ``node``: here
        the call alone; :class:`~logdoctor.tokenservice.edge.Edge` writes an Expressway's relay
        around it."""
        return call()

    # -- logs ------------------------------------------------------------------------------------

    def _log(self, node: Node, t: float, level: str, thread: str, logger: str, text: str) -> None:
        if level == "DEBUG" and node.trace_level != "debug":
            return
        self.logs.ssosp(node.name, t + node.clock_offset, level, thread, logger, text)

    def _ssoapp(self, node: Node, t: float, logger: str, text: str) -> None:
        self.logs.ssoapp(node.name, t + node.clock_offset, "INFO", "main", logger, text)

    def _syslog(self, node: Node, t: float, severity: int, text: str) -> None:
        """A CiscoSyslog alarm of ``node`` (its clock; the lab's zone is UTC, as its logs')."""
        self.logs.syslog(node.name, t + node.clock_offset, 0.0, severity, text)

    def _audit(self, node: Node, t: float, text: str) -> None:
        self.logs.audit(node.name, t + node.clock_offset, text)

    @staticmethod
    def _log_revoked(r: Req, row: RefreshRow, cause: str) -> None:
        r.log(
            "INFO",
            msg.REVOKE,
            msg.refresh_token_revoked(
                user=row.user, client_id=row.client_id, tid=row.tid, cause=cause
            ),
        )

    # -- key rings -------------------------------------------------------------------------------

    def _ring(self, sig_version: int, enc_version: int) -> Keyring:
        key = (sig_version, enc_version)
        ring = self._rings.get(key)
        if ring is None:
            s = self.state
            ring = Keyring(s.uuid, s.signing[sig_version], s.encryption[enc_version])
            self._rings[key] = ring
        return ring

    def _node_ring(self, node: Node) -> Keyring:
        """Keys a node stores (what its ssosp issues and checks refresh tokens with)."""
        nk = self.state.node_keys
        return self._ring(nk[(node.name, "signing")], nk[(node.name, "encryption")])

    def _validator_ring(self, node: Node) -> Keyring:
        """Keys the node's validating service has loaded."""
        svc = node.spec.restart_service
        if svc is None:
            return self._node_ring(node)
        sk = self.state.service_keys
        return self._ring(sk[(node.name, svc, "signing")], sk[(node.name, svc, "encryption")])

    # -- access ----------------------------------------------------------------------------------

    @staticmethod
    def has_access(user: User) -> bool:
        """The user holds REQUIRED_ROLE directly or through a group that grants it at its rank."""
        if REQUIRED_ROLE in user.roles:
            return True
        for g in user.groups:
            roles, max_rank = ACCESS_GROUPS.get(g, ((), 0))
            if REQUIRED_ROLE in roles and user.rank <= max_rank:
                return True
        return False

    def _user_refusal(self, r: Req) -> User:
        user = self.state.users.get(r.user or "")
        if user is None or not user.active:
            raise r.token_refused("invalid_grant", "inactive_user", "the user is not active")
        if not self.has_access(user):
            raise r.token_refused("invalid_grant", "no_access", "the user has no access")
        return user

    # -- failed logons ---------------------------------------------------------------------------

    def _policy(self) -> Policy:
        return Policy.from_params(self.state.params)

    @staticmethod
    def _auth_failed(
        r: Req, reason: str, status: int = 401, *, lock: Lockout | None = None
    ) -> OAuthError:
        r.log("WARN", msg.AUTHZ, msg.auth_failed(user=r.user, reason=reason, via=r.via))
        if lock is not None:
            return lock.error(r.now)
        return OAuthError(status, "access_denied", "user authentication failed", reason)

    def _logon_failed(self, r: Req, logger: str, keys: tuple[Key, ...], now: float) -> None:
        """Count a failed logon against ``keys``; log each lockout it causes."""
        policy = self._policy()
        if not any(policy.limit(scope) for scope, _ in keys):
            return
        with self.store.tx() as db:
            locks = self.lockouts.failed(db, now, policy, keys)
        address = next((k for scope, k in keys if scope == "address"), None)
        for lock in locks:
            text = msg.logon_locked_out(
                user=r.user,
                scope=lock.scope,
                address=address,
                failures=lock.failures,
                lock_minutes=policy.lock_minutes,
                via=r.via,
            )
            r.log("WARN", logger, text)

    def _logon_succeeded(self, scope: str, name: str) -> None:
        with self.store.tx() as db:
            self.lockouts.succeeded(db, scope, name)

    # -- the nightly purge -----------------------------------------------------------------------

    def _purge_due(self, now: float) -> None:
        s = self.state
        pub = s.publisher
        due = s.next_purge
        runs = 0
        while due <= now and runs < 400:
            with self.store.tx() as db:
                last = self.store.job_last("purge") or 0.0
                count = -1  # another process ran it
                if last < due:
                    count = self.store.purge_expired(db, due)
                    self.store.delete_codes_before(db, due)
                    self.store.set_job(db, "purge", due)
            if count >= 0:
                self._log(pub, due, "INFO", "Timer-3", msg.CLEANER, msg.purged(count))
            due = next_purge_after(due, pub.clock_offset)
            runs += 1
        s.next_purge = next_purge_after(now, pub.clock_offset)
