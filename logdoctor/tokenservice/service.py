"""The token service's core: UCM's OAuth refresh logins, in process, writing UCM's logs.

:class:`Service` owns a data dir (``state.db`` + ``logs/``) and does what the HTTP layer and
the ``logdoctor service`` commands ask: authorize (code and implicit grants), the token endpoint
(authorization-code and refresh grants), validation for resource servers (the seed's four
checks, in its order: signature, decrypt and verify, user active, user has access), the revoke
API, enterprise parameters, key regeneration and replication, key sync on outside servers,
service restarts, trace level, SSO enable, the nightly purge. Each action writes the lines UCM
would write, with the message templates of ``parsers/*.toml``.

It needs no HTTP and takes an injected clock and random source, so a simulation can run days of
virtual time with thousands of users, deterministically for a given seed. Thread-safe: one lock
around state and logs; the RSA signature of an access token is made outside it, when the caller
reads :attr:`~logdoctor.tokenservice.tokens.AccessToken.compact`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import math
import os
import random
import re
import secrets
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from logdoctor.tokenservice.clock import Clock, SystemClock
from logdoctor.tokenservice.cluster import SERVICES, Node, Role, check_name
from logdoctor.tokenservice.errors import OAuthError, ServiceError
from logdoctor.tokenservice.keys import (
    EncryptionKey,
    KeyUse,
    SigningKey,
    generate_encryption_key,
    generate_signing_key,
    load_encryption_key,
    load_signing_key,
)
from logdoctor.tokenservice.lockout import SCOPES, Key, Lockout, Lockouts, OneAtATime, Policy
from logdoctor.tokenservice.logwriter import LogWriter, enc
from logdoctor.tokenservice.params import PARAMS, ParamError, defaults, normalize
from logdoctor.tokenservice.passwords import Check, PasswordChecker, typical_cost
from logdoctor.tokenservice.store import (
    CodeRow,
    RefreshRow,
    Store,
    User,
    hash_password,
)
from logdoctor.tokenservice.tokens import (
    SCOPE,
    AccessClaims,
    AccessToken,
    Keyring,
    Reason,
    RefreshClaims,
    TokenError,
    TokenVerifier,
    fingerprint,
    issue_access,
    issue_refresh,
    peek_kid,
)

__all__ = [
    "ACCESS_GROUPS",
    "REQUIRED_ROLE",
    "AdminCredentials",
    "AuthorizeResult",
    "Introspection",
    "LoginAttempt",
    "RevokeResult",
    "Service",
    "TokenResponse",
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
PURGE_HOUR = 2
CLIENT_ID_RE = re.compile(r"^C[0-9a-f]{64}$")
MAX_FIELD = 256
MAX_NAME = 128
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

_AUTHZ = "oauth.AuthorizeServlet"
_TOKEN = "oauth.TokenServlet"
_VALIDATOR = "oauth.TokenValidator"
_REVOKE = "oauth.RevokeServlet"
_CONFIG = "oauth.OAuthConfigManager"
_KEYS = "oauth.AuthzKeyManager"
_CLEANER = "oauth.RefreshTokenCleaner"
_FILTER = "filter.SSOAuthAgentFilter"


@dataclass(frozen=True)
class AdminCredentials:
    """The administrator (AXL) account that may call the revoke API."""

    user: str
    password: str = field(repr=False)

    def check(self, user: str, password: str) -> bool:
        """Constant-time comparison of both parts (digests, so lengths leak nothing)."""
        u = hmac.compare_digest(_digest(user), _digest(self.user))
        p = hmac.compare_digest(_digest(password), _digest(self.password))
        return u & p


def _digest(s: str) -> bytes:
    return hashlib.sha256(s.encode("utf-8", "surrogatepass")).digest()


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


@dataclass
class _State:
    cluster: str
    uuid: str
    nodes: dict[str, Node]
    signing: dict[int, SigningKey]
    encryption: dict[int, EncryptionKey]
    node_keys: dict[tuple[str, str], int]
    service_keys: dict[tuple[str, str, str], int]
    params: dict[str, str]
    users: dict[str, User]
    next_purge: float
    sso_enabled: bool
    pw_cost: int
    """The scrypt cost most users' hashes have: what checking an unknown name costs."""

    @property
    def publisher(self) -> Node:
        return next(n for n in self.nodes.values() if n.role is Role.PUBLISHER)

    def current(self, use: KeyUse) -> int:
        return max(self.signing if use is KeyUse.SIGNING else self.encryption)


def _clip(value: str | None, limit: int = MAX_FIELD) -> str | None:
    return None if value is None else value[:limit]


@dataclass
class _Req:
    """One request or action: its node, time and thread, and who it concerns (for log lines)."""

    svc: Service
    node: Node
    now: float
    thread: str
    grant: str | None = None
    user: str | None = None
    client_id: str | None = None
    device: str | None = None
    tid: str | None = None
    via: str | None = None

    def log(self, level: str, logger: str, msg: str, dt: float = 0.0) -> None:
        self.svc._log(self.node, self.now + dt, level, self.thread, logger, msg)

    def token_refused(self, error: str, reason: str, text: str, status: int = 400) -> OAuthError:
        self.log(
            "WARN",
            _TOKEN,
            f"Token request refused: grant={enc(self.grant)} error={error} reason={reason} "
            f"user={enc(self.user)} client_id={enc(self.client_id)} device={enc(self.device)} "
            f"tid={enc(self.tid)} via={enc(self.via)}",
        )
        return OAuthError(status, error, text, reason)

    def authorize_refused(self, status: int, error: str, reason: str, text: str) -> OAuthError:
        self.log(
            "WARN",
            _AUTHZ,
            f"Authorize request refused: error={error} reason={reason} "
            f"response_type={enc(self.grant)} client_id={enc(self.client_id)} "
            f"user={enc(self.user)} via={enc(self.via)}",
        )
        return OAuthError(status, error, text, reason)


@dataclass
class LoginAttempt:
    """An authorization request that passed :meth:`Service.authorize_start`: its password is
    still to be checked (outside the service lock), then :meth:`Service.authorize_finish`."""

    req: _Req
    check: Check
    response_type: str
    redirect_uri: str
    state: str | None
    code_challenge: str | None
    keys: tuple[Key, ...]
    """What a failure counts against: the name tried, and the client address if known."""
    counted: frozenset[Key] = frozenset()
    """Those of ``keys`` that had a failure count when the attempt started."""


class Service:
    """One emulated UCM cluster (and the servers around it) over one data dir."""

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
        self._key_rng = key_rng
        self._autoflush = autoflush
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
        self._s: _State | None = None
        if not self.store.clusters():
            self._init_deployment(cluster or DEFAULT_CLUSTER, publisher or DEFAULT_PUBLISHER)
        self._dv = self.store.data_version()
        self._s = self._load()
        if cluster is not None and cluster != self._s.cluster:
            raise ServiceError(f"{data_dir}: holds cluster {self._s.cluster!r}, not {cluster!r}")
        if publisher is not None and publisher not in self._s.nodes:
            raise ServiceError(f"{data_dir}: no node {publisher!r}")

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def state(self) -> _State:
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
            now = self.clock.time()
            if now >= self.state.next_purge:
                self._purge_due(now)
            try:
                yield now
            finally:
                if self._autoflush:
                    self.logs.flush()

    def _req(self, node: Node, now: float, **who: str | None) -> _Req:
        return _Req(self, node, now, self._thread(), **who)

    def _load(self) -> _State:
        st = self.store
        clusters = st.clusters()
        name = next(n for n, (_, kind) in clusters.items() if kind == "ucm")
        old = self._s
        signing: dict[int, SigningKey] = {}
        encryption: dict[int, EncryptionKey] = {}
        for cl, use, version, material in st.key_versions():
            if cl != name:
                continue
            if use == KeyUse.SIGNING:
                sk = old.signing.get(version) if old else None
                signing[version] = sk or load_signing_key(version, material)
            else:
                ek = old.encryption.get(version) if old else None
                encryption[version] = ek or load_encryption_key(version, material)
        params = defaults()
        params.update(st.params(name))
        users = st.users()
        nodes = {n.name: n for n in st.nodes()}
        pub = next(n for n in nodes.values() if n.role is Role.PUBLISHER)
        last = st.job_last("purge") or self.clock.time()
        return _State(
            cluster=name,
            uuid=clusters[name][0],
            nodes=nodes,
            signing=signing,
            encryption=encryption,
            node_keys=st.node_keys(),
            service_keys=st.service_keys(),
            params=params,
            users=users,
            next_purge=_next_purge_after(last, pub.clock_offset),
            sso_enabled=st.meta("sso_enabled") == "1",
            pw_cost=typical_cost((u.pw_hash for u in users.values()), self.password_cost),
        )

    def _reload(self) -> None:
        self._s = self._load()

    def _uuid(self) -> str:
        if self._rng is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _secret(self) -> str:
        if self._rng is None:
            return secrets.token_urlsafe(32)
        return base64.urlsafe_b64encode(self._rng.randbytes(32)).rstrip(b"=").decode()

    def _thread(self) -> str:
        n = self._rng.randrange(1, 41) if self._rng is not None else secrets.randbelow(40) + 1
        return f"http-bio-8443-exec-{n}"

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

    def _log(self, node: Node, t: float, level: str, thread: str, logger: str, msg: str) -> None:
        if level == "DEBUG" and node.trace_level != "debug":
            return
        self.logs.ssosp(node.name, t + node.clock_offset, level, thread, logger, msg)

    def _ssoapp(self, node: Node, t: float, logger: str, msg: str) -> None:
        self.logs.ssoapp(node.name, t + node.clock_offset, "INFO", "main", logger, msg)

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

    # -- deployment ------------------------------------------------------------------------------

    def _init_deployment(self, cluster: str, publisher: str) -> None:
        check_name("cluster", cluster)
        check_name("node", publisher)
        t = self.clock.time()
        sig = generate_signing_key(1, self._key_rng)
        encr = generate_encryption_key(1, self._key_rng)
        st = self.store
        with st.tx() as db:
            st.add_cluster(db, cluster, self._uuid(), "ucm")
            st.add_node(db, Node(publisher, Role.PUBLISHER, cluster))
            st.add_key(db, cluster, "signing", 1, sig.material, sig.checksum, t)
            st.add_key(db, cluster, "encryption", 1, encr.material, encr.checksum, t)
            for use in ("signing", "encryption"):
                st.set_node_key(db, publisher, use, 1)
                st.set_service_key(db, publisher, "callmanager", use, 1)
            st.set_job(db, "purge", t)

    def info(self) -> dict[str, Any]:
        """Cluster, nodes and key versions (``/health``, ``service nodes``)."""
        with self._op():
            s = self.state
            return {
                "cluster": s.cluster,
                "uuid": s.uuid,
                "publisher": s.publisher.name,
                "signing_version": s.current(KeyUse.SIGNING),
                "encryption_version": s.current(KeyUse.ENCRYPTION),
                "sso_enabled": s.sso_enabled,
                "nodes": [
                    {
                        "name": n.name,
                        "role": n.role.value,
                        "clock_offset": n.clock_offset,
                        "trace_level": n.trace_level,
                    }
                    for n in s.nodes.values()
                ],
            }

    def add_node(self, name: str, role: Role | str, *, clock_offset: float = 0.0) -> Node:
        """Add a node or server; it starts with the cluster's current keys."""
        try:
            role = Role(role)
        except ValueError:
            known = ", ".join(r.value for r in Role if r is not Role.PUBLISHER)
            raise ServiceError(f"role {role!r} unknown (known: {known})") from None
        check_name("node", name)
        if role is Role.PUBLISHER:
            raise ServiceError("the cluster already has its publisher")
        if not -86400 * 366 <= clock_offset <= 86400 * 366:
            raise ServiceError(f"clock offset {clock_offset}: more than a year")
        with self._op() as now:
            s = self.state
            if name in s.nodes:
                raise ServiceError(f"node {name!r} exists already")
            node = Node(name, role, s.cluster, clock_offset)
            svc = node.spec.restart_service
            with self.store.tx() as db:
                self.store.add_node(db, node)
                for use in KeyUse:
                    v = s.current(use)
                    self.store.set_node_key(db, name, use.value, v)
                    if svc:
                        self.store.set_service_key(db, name, svc, use.value, v)
            self._reload()
            self._log_key_loaded(self._req(node, now), node.spec.validator)
            return node

    def issuing_node_for_host(self, host: str) -> str | None:
        """The UCM node whose name is ``host`` (case-insensitive), if any."""
        host = host.lower()
        with self._lock:
            for nd in self.state.nodes.values():
                if nd.spec.issues and nd.name.lower() == host:
                    return nd.name
        return None

    def set_clock_offset(self, name: str, seconds: float) -> None:
        """Set how far a node's clock is off true time (its logs and validations use it)."""
        with self._op():
            node = self._node(name)
            with self.store.tx() as db:
                self.store.set_node_field(db, node.name, "clock_offset", float(seconds))
            self._reload()

    # -- users -----------------------------------------------------------------------------------

    @staticmethod
    def _check_user(user: User) -> None:
        n = user.name
        if not n or len(n) > 128 or not n.isprintable() or n != n.strip():
            raise ServiceError(f"user name {n!r}: 1-128 printable characters, no edge spaces")
        for g in user.groups:
            if g not in ACCESS_GROUPS:
                known = ", ".join(ACCESS_GROUPS)
                raise ServiceError(f"access control group {g!r} unknown (known: {known})")
        for r in user.roles:
            if not r or len(r) > 128 or not r.isprintable():
                raise ServiceError(f"role {r!r}: 1-128 printable characters")
        if not 1 <= user.rank <= 10:
            raise ServiceError(f"user rank {user.rank}: out of range (allowed 1-10)")

    def add_user(
        self,
        name: str,
        password: str,
        *,
        roles: tuple[str, ...] = (),
        groups: tuple[str, ...] = ("Standard CCM End Users",),
        rank: int = 1,
        active: bool = True,
    ) -> User:
        """Add an end user (an LDAP-synced user, in the lab's directory)."""
        if not password:
            raise ServiceError("empty password")
        user = User(name, "", active, tuple(roles), tuple(groups), rank)
        self._check_user(user)
        user = replace(user, pw_hash=hash_password(password, n=self.password_cost))
        with self._op():
            if name in self.state.users:
                raise ServiceError(f"user {name!r} exists already")
            with self.store.tx() as db:
                self.store.put_user(db, user, new=True)
            self.state.users[name] = user
            return user

    def set_user(
        self,
        name: str,
        *,
        active: bool | None = None,
        roles: tuple[str, ...] | None = None,
        groups: tuple[str, ...] | None = None,
        rank: int | None = None,
        password: str | None = None,
    ) -> User:
        """Change a user (inactive: removed from LDAP; roles, groups, rank, password)."""
        # scrypt before taking the lock: the lock is the one every request waits for.
        pw_hash = hash_password(password, n=self.password_cost) if password else None
        with self._op():
            old = self.state.users.get(name)
            if old is None:
                raise ServiceError(f"unknown user {name!r}")
            new = User(
                name,
                pw_hash or old.pw_hash,
                old.active if active is None else active,
                old.roles if roles is None else tuple(roles),
                old.groups if groups is None else tuple(groups),
                old.rank if rank is None else rank,
            )
            self._check_user(new)
            with self.store.tx() as db:
                self.store.put_user(db, new, new=False)
            self.state.users[name] = new
            return new

    def users(self) -> list[User]:
        """All users, by name."""
        with self._op():
            return sorted(self.state.users.values(), key=lambda u: u.name)

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

    # -- parameters ------------------------------------------------------------------------------

    def params(self) -> dict[str, str]:
        """Current enterprise parameter values."""
        with self._op():
            return dict(self.state.params)

    def set_param(self, name: str, raw: str) -> tuple[str, str]:
        """Set a parameter; returns (old, new). Refusals are logged and raise ParamError.

        Changing the refresh token expiry timer revokes every refresh token, as UCM does.
        """
        with self._op() as now:
            s = self.state
            r = self._req(s.publisher, now)
            try:
                value = normalize(name, raw)
            except ParamError as exc:
                if name in PARAMS:
                    r.log(
                        "WARN",
                        _CONFIG,
                        f"Enterprise parameter change refused: name={enc(name)} "
                        f"value={enc(_clip(raw))} reason={enc(exc.reason)}",
                    )
                raise
            old = s.params[name]
            if value == old:
                return old, value
            with self.store.tx() as db:
                self.store.set_param(db, s.cluster, name, value)
                revoked = []
                if name == "refresh_token_expiry_days":
                    revoked = self.store.revoke_refresh(db, now, "refresh_timer_changed")
            s.params[name] = value
            r.log(
                "INFO",
                _CONFIG,
                f"Enterprise parameter changed: name={enc(name)} old={enc(old)} new={enc(value)}",
            )
            for row in revoked:
                self._log_revoked(r, row, "refresh_timer_changed")
            return old, value

    def _flow_on(self) -> bool:
        return self.state.params["refresh_login_flow"] == "on"

    # -- authorization endpoint ------------------------------------------------------------------

    def _redirect_ok(self, uri: str) -> bool:
        if len(uri) > 2048 or not uri.isprintable() or " " in uri or "#" in uri:
            return False
        if uri in self.state.params["redirect_uris"].split(","):
            return True
        try:
            parts = urlsplit(uri)
            host = parts.hostname or ""
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and host in _LOOPBACK

    def authorize(
        self,
        *,
        response_type: str | None,
        client_id: str | None,
        redirect_uri: str | None,
        state: str | None = None,
        scope: str | None = None,
        username: str | None = None,
        password: str | None = None,
        device: str | None = None,
        agent: str | None = None,
        via: str | None = None,
        node: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
        address: str | None = None,
    ) -> AuthorizeResult:
        """``/ssosp/oauth/authorize``: authenticate the user, then a code or an implicit token.

        Errors in the request itself are answered (400) without redirecting to an unchecked
        URI; authentication failures answer 401 (403 for an inactive user or one without
        access, 429 while the name or the client ``address`` is locked out). The password is
        checked in the calling thread, outside the service lock; the HTTP layer does the same
        in three steps (:meth:`authorize_start`, :attr:`passwords`, :meth:`authorize_finish`).
        """
        name = _clip(username, MAX_NAME)
        with self.one_at_a_time.hold(name) if name else contextlib.nullcontext():
            attempt = self.authorize_start(
                response_type=response_type,
                client_id=client_id,
                redirect_uri=redirect_uri,
                state=state,
                scope=scope,
                username=username,
                password=password,
                device=device,
                agent=agent,
                via=via,
                node=node,
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
                address=address,
            )
            return self.authorize_finish(attempt, self.passwords.check(attempt.check))

    def authorize_start(
        self,
        *,
        response_type: str | None,
        client_id: str | None,
        redirect_uri: str | None,
        state: str | None = None,
        scope: str | None = None,
        username: str | None = None,
        password: str | None = None,
        device: str | None = None,
        agent: str | None = None,
        via: str | None = None,
        node: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
        address: str | None = None,
    ) -> LoginAttempt:
        """The checks of :meth:`authorize` up to the password: the request, the credentials'
        presence and the lockouts. Returns the password check still to be made."""
        with self._op() as now:
            n = self._node(node, issuing=True)
            rt, cid = _clip(response_type, 64), _clip(client_id)
            r = self._req(n, now, grant=rt, client_id=cid, user=_clip(username, MAX_NAME))
            r.via = _clip(via, 128)
            r.device = _clip(device, 64)
            r.log("DEBUG", _FILTER, "servlet path :/ssosp/oauth/authorize")
            if not cid or not CLIENT_ID_RE.match(cid):
                raise r.authorize_refused(
                    400, "invalid_request", "bad_client_id", "client_id is missing or malformed"
                )
            if not redirect_uri or not self._redirect_ok(redirect_uri):
                raise r.authorize_refused(
                    400,
                    "invalid_request",
                    "redirect_uri_not_allowed",
                    "redirect_uri is missing or not allowed (loopback URIs, or those of the "
                    "enterprise parameter Redirect URIs for Third Party SSO Client)",
                )
            if rt not in ("code", "token"):
                raise r.authorize_refused(
                    400,
                    "unsupported_response_type",
                    "unsupported_response_type",
                    "response_type must be code or token",
                )
            if rt == "token" and self.state.params["implicit_grant"] != "on":
                raise r.authorize_refused(
                    400,
                    "unsupported_response_type",
                    "implicit_disabled",
                    "the implicit grant is disabled",
                )
            if scope is not None and scope != SCOPE:
                raise r.authorize_refused(
                    400, "invalid_scope", "invalid_scope", f"scope must be {SCOPE}"
                )
            if code_challenge is not None and (
                code_challenge_method != "S256" or not 43 <= len(code_challenge) <= 128
            ):
                raise r.authorize_refused(
                    400, "invalid_request", "bad_code_challenge", "code_challenge must be S256"
                )
            r.log(
                "INFO",
                _AUTHZ,
                f"Authorize request: response_type={enc(rt)} client_id={enc(cid)} "
                f"user={enc(r.user)} device={enc(r.device)} agent={enc(_clip(agent, 200))} "
                f"via={enc(r.via)}",
            )
            if not r.user or password is None:
                raise self._auth_failed(r, "no_credentials")
            addr = _clip(address, 64)
            keys = _logon_keys("user", r.user, addr)
            lock, counted = self.lockouts.blocking(now, self._policy(), keys)
            if lock is not None:
                raise self._auth_failed(r, _locked_reason(lock), lock=lock)
            user = self.state.users.get(r.user)
            cost = self.state.pw_cost
        # Outside the lock: the first unknown name of a cost makes its dummy hash (scrypt).
        check = self.passwords.prepare(
            user.name if user else None, user.pw_hash if user else None, password, cost
        )
        return LoginAttempt(r, check, rt, redirect_uri, state, code_challenge, keys, counted)

    def authorize_finish(self, attempt: LoginAttempt, password_ok: bool) -> AuthorizeResult:
        """The rest of :meth:`authorize` once the password was checked: count a failure (and
        a lockout) or issue the code or implicit token."""
        with self._op() as now:
            r = attempt.req
            r.now = now
            check = attempt.check
            user = self.state.users.get(check.user) if check.user is not None else None
            if user is None or user.pw_hash != check.stored:
                password_ok = False  # unknown, or removed or given a new password meanwhile
            if not password_ok or user is None:
                reason = "bad_password" if check.user is not None else "unknown_user"
                error = self._auth_failed(r, reason)
                self._logon_failed(r, _AUTHZ, attempt.keys, now)
                raise error
            if ("user", user.name) in attempt.counted:
                self._logon_succeeded("user", user.name)
            if not user.active:
                raise self._auth_failed(r, "inactive_user", 403)
            r.log(
                "INFO",
                _AUTHZ,
                f"User authenticated: user={enc(user.name)} method=password via={enc(r.via)}",
            )
            if not self.has_access(user):
                raise r.authorize_refused(
                    403, "access_denied", "no_access", "the user has no access to this resource"
                )
            cid = r.client_id or ""
            if attempt.response_type == "token":
                with self.store.tx() as db:
                    self.store.touch_client(db, cid, now)
                resp = self._issue(r, user.name, "implicit", with_refresh=False)
                return AuthorizeResult(attempt.redirect_uri, attempt.state, token=resp)
            code = self._secret()
            row = CodeRow(
                user.name,
                cid,
                attempt.redirect_uri,
                r.device or "",
                now + CODE_LIFETIME,
                attempt.code_challenge or "",
                False,
                r.node.name,
            )
            with self.store.tx() as db:
                self.store.touch_client(db, cid, now)
                self.store.add_code(db, _sha(code), row)
            r.log(
                "INFO",
                _AUTHZ,
                f"Authorization code issued: user={enc(user.name)} client_id={enc(cid)} "
                f"device={enc(r.device)} code={fingerprint(code)} via={enc(r.via)}",
            )
            return AuthorizeResult(attempt.redirect_uri, attempt.state, code=code)

    # -- failed logons ---------------------------------------------------------------------------

    def _policy(self) -> Policy:
        return Policy.from_params(self.state.params)

    @staticmethod
    def _auth_failed(
        r: _Req, reason: str, status: int = 401, *, lock: Lockout | None = None
    ) -> OAuthError:
        r.log(
            "WARN",
            _AUTHZ,
            f"Authentication failed: user={enc(r.user)} method=password reason={reason} "
            f"via={enc(r.via)}",
        )
        if lock is not None:
            return _lockout_error(lock, r.now)
        return OAuthError(status, "access_denied", "user authentication failed", reason)

    def _logon_failed(self, r: _Req, logger: str, keys: tuple[Key, ...], now: float) -> None:
        """Count a failed logon against ``keys``; log each lockout it causes."""
        policy = self._policy()
        if not any(policy.limit(scope) for scope, _ in keys):
            return
        with self.store.tx() as db:
            locks = self.lockouts.failed(db, now, policy, keys)
        address = next((k for scope, k in keys if scope == "address"), None)
        for lock in locks:
            r.log(
                "WARN",
                logger,
                f"Logon locked out: user={enc(r.user)} scope={lock.scope} "
                f"address={enc(address)} failures={lock.failures} "
                f"lock_minutes={policy.lock_minutes} via={enc(r.via)}",
            )

    def _logon_succeeded(self, scope: str, name: str) -> None:
        with self.store.tx() as db:
            self.lockouts.succeeded(db, scope, name)

    def reset_lockouts(self, scope: str, key: str | None = None) -> int:
        """Clear the failed-logon count (and lockout) of one name or address, or of every one of
        ``scope`` (``user``, ``admin`` or ``address``); how many were cleared. What UCM's
        administrator does with "Reset Hack Count"."""
        if scope not in SCOPES:
            raise ServiceError(f"scope {scope!r}: use one of {', '.join(SCOPES)}")
        with self._op(), self.store.tx() as db:
            return self.store.delete_failures(db, scope, key)

    def lockout_list(self) -> list[dict[str, Any]]:
        """The failed-logon counts that still matter (locked out, or a failure within the reset
        time): scope, name, failures, last failure, locked (now), until when (None: until
        reset)."""
        with self._op() as now:
            return [
                {
                    "scope": row.scope,
                    "name": row.key,
                    "failures": row.count,
                    "last_failure": row.last,
                    "locked": locked,
                    "until": row.until if locked else None,
                }
                for row, locked in self.lockouts.current(now, self._policy())
            ]

    # -- token endpoint --------------------------------------------------------------------------

    def _issue(
        self, r: _Req, user: str, grant: str, *, with_refresh: bool, code: str | None = None
    ) -> TokenResponse:
        """Issue an access token (and a refresh token, with the refresh flow on); ``code`` is
        the hash of the authorization code being exchanged, if any."""
        s = self.state
        ring = self._node_ring(r.node)
        t = int(r.now + r.node.clock_offset)
        cid = r.client_id or ""
        device = r.device or ""
        minutes = int(s.params["access_token_expiry_minutes"])
        claims = AccessClaims(
            iss=s.uuid,
            sub=user,
            client_id=cid,
            scope=SCOPE,
            iat=t,
            exp=t + minutes * 60,
            jti=self._uuid(),
            cluster=s.cluster,
            device=device,
        )
        access = issue_access(claims, ring.signing, ring.encryption)
        who = f"user={enc(user)} client_id={enc(cid)} device={enc(device)}"
        r.log(
            "INFO",
            _TOKEN,
            f"Access token issued: {who} grant={grant} jti={claims.jti} kid={enc(access.kid)} "
            f"expires_in={minutes * 60} via={enc(r.via)}",
        )
        resp = TokenResponse(access, minutes * 60)
        if with_refresh and self._flow_on():
            days = int(s.params["refresh_token_expiry_days"])
            tid = self._uuid()
            rc = RefreshClaims(exp=t + days * 86400, iss=s.uuid, tid=tid, ccid=cid)
            token = issue_refresh(rc, ring.signing)
            row = RefreshRow(_sha(token), tid, user, cid, device, t, rc.exp, "active", None, code)
            with self.store.tx() as db:
                self.store.add_refresh(db, row)
                # Another process may have seen this code used again since we took it.
                reused = code is not None and self.store.code_reused(db, code)
                revoked = (
                    self.store.revoke_refresh(db, r.now, "code_reused", code=code) if reused else []
                )
            resp.refresh_token = token
            r.log(
                "INFO",
                _TOKEN,
                f"Refresh token issued: {who} tid={tid} kid={enc(access.kid)} "
                f"expires_in={days * 86400} via={enc(r.via)}",
            )
            for gone in revoked:
                self._log_revoked(r, gone, "code_reused")
        return resp

    def token_request(
        self, form: Mapping[str, str], *, via: str | None = None, node: str | None = None
    ) -> TokenResponse:
        """``POST /ssosp/oauth/token`` with a form: dispatches on ``grant_type``."""
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self.exchange_code(
                code=form.get("code"),
                client_id=form.get("client_id"),
                redirect_uri=form.get("redirect_uri"),
                code_verifier=form.get("code_verifier"),
                via=via,
                node=node,
            )
        if grant == "refresh_token":
            return self.refresh(
                refresh_token=form.get("refresh_token"),
                client_id=form.get("client_id"),
                via=via,
                node=node,
            )
        with self._op() as now:
            r = self._req(self._node(node, issuing=True), now, grant=_clip(grant, 64))
            r.client_id, r.via = _clip(form.get("client_id")), _clip(via, 128)
            raise r.token_refused(
                "unsupported_grant_type",
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )

    def exchange_code(
        self,
        *,
        code: str | None,
        client_id: str | None,
        redirect_uri: str | None,
        code_verifier: str | None = None,
        via: str | None = None,
        node: str | None = None,
    ) -> TokenResponse:
        """``grant_type=authorization_code``: a code for an access (and refresh) token."""
        with self._op() as now:
            r = self._req(self._node(node, issuing=True), now, grant="authorization_code")
            r.client_id, r.via = _clip(client_id), _clip(via, 128)
            r.log("DEBUG", _FILTER, "servlet path :/ssosp/oauth/token")
            if not code or not r.client_id or not redirect_uri or len(code) > 512:
                raise r.token_refused(
                    "invalid_request",
                    "missing_parameter",
                    "code, client_id and redirect_uri are required",
                )
            ch = _sha(code)
            with self.store.tx() as db:
                row = self.store.take_code(db, ch)
                # RFC 6749 4.1.2: a code used twice revokes what it was exchanged for.
                reused = row is not None and row.used
                revoked = (
                    self.store.revoke_refresh(db, now, "code_reused", code=ch) if reused else []
                )
            if row is None:
                raise r.token_refused("invalid_grant", "invalid_code", "unknown code")
            r.user, r.device = row.user, row.device
            if row.used:
                error = r.token_refused("invalid_grant", "code_reused", "code already used")
                for gone in revoked:
                    self._log_revoked(r, gone, "code_reused")
                raise error
            if now >= row.expires:
                raise r.token_refused("invalid_grant", "code_expired", "code expired")
            if row.client_id != r.client_id:
                raise r.token_refused("invalid_grant", "client_mismatch", "another client's code")
            if row.redirect_uri != redirect_uri:
                raise r.token_refused("invalid_grant", "redirect_mismatch", "redirect_uri differs")
            if row.challenge and not (
                code_verifier is not None
                and hmac.compare_digest(_b64sha(code_verifier), row.challenge)
            ):
                raise r.token_refused("invalid_grant", "pkce_failed", "code_verifier is wrong")
            user = self._user_refusal(r)
            return self._issue(r, user.name, "authorization_code", with_refresh=True, code=ch)

    def _user_refusal(self, r: _Req) -> User:
        user = self.state.users.get(r.user or "")
        if user is None or not user.active:
            raise r.token_refused("invalid_grant", "inactive_user", "the user is not active")
        if not self.has_access(user):
            raise r.token_refused("invalid_grant", "no_access", "the user has no access")
        return user

    def refresh(
        self,
        *,
        refresh_token: str | None,
        client_id: str | None,
        via: str | None = None,
        node: str | None = None,
    ) -> TokenResponse:
        """``grant_type=refresh_token``: a new access token for a valid refresh token.

        With the refresh login flow disabled the grant is refused (``refresh_disabled``); the
        log line still names the user and tid when the token verifies, to show who keeps trying.
        """
        with self._op() as now:
            n = self._node(node, issuing=True)
            r = self._req(n, now, grant="refresh_token")
            r.client_id, r.via = _clip(client_id), _clip(via, 128)
            r.log("DEBUG", _FILTER, "servlet path :/ssosp/oauth/token")
            if not refresh_token or not r.client_id:
                raise r.token_refused(
                    "invalid_request",
                    "missing_parameter",
                    "refresh_token and client_id are required",
                )
            claims: RefreshClaims | None = None
            error: TokenError | None = None
            try:
                claims = self.verifier.verify_refresh(
                    refresh_token, self._node_ring(n), now + n.clock_offset
                )
            except TokenError as exc:
                error = exc
                if isinstance(exc.claims, RefreshClaims):
                    r.tid = exc.claims.tid
            row = self.store.refresh_by_index(_sha(refresh_token)) if error is None else None
            if claims is not None:
                r.tid = claims.tid
            if row is not None:
                r.user, r.device = row.user, row.device
            if not self._flow_on():
                raise r.token_refused(
                    "invalid_grant", "refresh_disabled", "the refresh login flow is disabled"
                )
            if error is not None:
                reason = error.reason.value
                raise r.token_refused("invalid_grant", reason, f"refresh token refused: {reason}")
            assert claims is not None
            if claims.ccid != r.client_id:
                raise r.token_refused("invalid_grant", "client_mismatch", "another client's token")
            if row is None or row.state != "active":
                raise r.token_refused("invalid_grant", "revoked", "refresh token revoked")
            user = self._user_refusal(r)
            r.log(
                "INFO",
                _TOKEN,
                f"Refresh grant accepted: user={enc(user.name)} client_id={enc(r.client_id)} "
                f"device={enc(r.device)} tid={enc(r.tid)} via={enc(r.via)}",
            )
            return self._issue(r, user.name, "refresh_token", with_refresh=False)

    # -- validation (resource servers) -----------------------------------------------------------

    def introspect(self, token: str | AccessToken, *, server: str | None = None) -> Introspection:
        """Validate an access token at ``server`` (default: the publisher) with its own keys.

        The seed's four checks, in order: the signature verifies; the token decrypts and its
        claims verify (type, issuer, times); the user is active; the user has access. A
        :class:`AccessToken` handle (in process only) is checked without its bytes, with the
        same result (see :meth:`TokenVerifier.check_handle`).
        """
        with self._op() as now:
            n = self._node(server)
            r = self._req(n, now)
            ring = self._validator_ring(n)
            t = now + n.clock_offset
            is_handle = isinstance(token, AccessToken)
            try:
                if isinstance(token, AccessToken):
                    claims = self.verifier.check_handle(token, ring, t)
                else:
                    claims = self.verifier.verify_access(token, ring, t)
                user = self.state.users.get(claims.sub)
                if user is None or not user.active:
                    raise TokenError(Reason.INACTIVE_USER, "user is not active", claims=claims)
                if not self.has_access(user):
                    raise TokenError(Reason.NO_ACCESS, "user has no access", claims=claims)
            except TokenError as exc:
                c = exc.claims if isinstance(exc.claims, AccessClaims) else None
                kid = exc.kid
                if kid is None:
                    kid = token.kid if isinstance(token, AccessToken) else peek_kid(token)
                r.log(
                    "WARN",
                    _VALIDATOR,
                    f"Token validation failed: server={enc(n.name)} check={exc.reason.value} "
                    f"user={enc(c and c.sub)} client_id={enc(c and c.client_id)} "
                    f"jti={enc(c and c.jti)} kid={enc(kid)}",
                )
                return Introspection(False, n.name, exc.reason.value, None)
            if n.trace_level == "debug":
                kid = token.kid if is_handle and isinstance(token, AccessToken) else None
                r.log(
                    "DEBUG",
                    _VALIDATOR,
                    f"Token validated: server={enc(n.name)} user={enc(claims.sub)} "
                    f"client_id={enc(claims.client_id)} jti={enc(claims.jti)} "
                    f"kid={enc(kid or ring.signing_kid)}",
                )
            return Introspection(True, n.name, None, claims)

    # -- revoke API ------------------------------------------------------------------------------

    def revoke(
        self,
        *,
        admin_user: str | None,
        admin_password: str | None,
        user_id: str | None,
        client_id: str | None = None,
        node: str | None = None,
        address: str | None = None,
    ) -> RevokeResult:
        """``/ssosp/token/revoke``: revoke a user's refresh tokens (or one client's).

        The administrator's credentials are compared in constant time; without valid ones the
        call is refused (401) and logged, and counted like an end user's failed logon (against
        the name tried and the client ``address``): a locked name or address is refused (429)
        before its password is compared.
        """
        with self._op() as now:
            r = self._req(self._node(node, issuing=True), now)
            r.log("DEBUG", _FILTER, "servlet path :/ssosp/token/revoke")
            who = _clip(admin_user, MAX_NAME)
            r.user = who
            keys = _logon_keys("admin", who or "", _clip(address, 64))
            lock: Lockout | None = None
            if admin_user is None or admin_password is None:
                reason = "no_credentials"
            elif self.admin is None:
                reason = "no_admin_configured"
            else:
                lock, counted = self.lockouts.blocking(now, self._policy(), keys)
                if lock is not None:
                    reason = _locked_reason(lock)
                elif not self.admin.check(admin_user, admin_password):
                    reason = "bad_credentials"
                else:
                    reason = ""
                    if ("admin", who or "") in counted:
                        self._logon_succeeded("admin", who or "")
            if reason:
                r.log("WARN", _REVOKE, f"Revoke request refused: admin={enc(who)} reason={reason}")
                if reason == "bad_credentials":
                    self._logon_failed(r, _REVOKE, keys, now)
                if lock is not None:
                    raise _lockout_error(lock, now)
                raise OAuthError(
                    401, "invalid_client", "administrator authentication failed", reason
                )
            uid, cid = _clip(user_id, 128), _clip(client_id)
            if not uid:
                r.log(
                    "WARN",
                    _REVOKE,
                    f"Revoke request: admin={enc(who)} user_id=- client_id={enc(cid)} "
                    "result=missing_user_id revoked=0",
                )
                raise OAuthError(400, "invalid_request", "user_id is required", "missing_parameter")
            with self.store.tx() as db:
                rows = self.store.revoke_refresh(db, now, "revoke_api", uid, cid or None)
                self.store.add_revocation(db, now, who or "", uid, cid or "", len(rows))
            r.log(
                "INFO",
                _REVOKE,
                f"Revoke request: admin={enc(who)} user_id={enc(uid)} client_id={enc(cid)} "
                f"result=success revoked={len(rows)}",
            )
            for row in rows:
                self._log_revoked(r, row, "revoke_api")
            return RevokeResult(uid, tuple((row.client_id, row.idx) for row in rows))

    @staticmethod
    def _log_revoked(r: _Req, row: RefreshRow, cause: str) -> None:
        r.log(
            "INFO",
            _REVOKE,
            f"Refresh token revoked: user={enc(row.user)} client_id={enc(row.client_id)} "
            f"tid={enc(row.tid)} cause={cause}",
        )

    # -- nightly purge ---------------------------------------------------------------------------

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
                msg = f"Purged expired refresh tokens: count={count}"
                self._log(pub, due, "INFO", "Timer-3", _CLEANER, msg)
            due = _next_purge_after(due, pub.clock_offset)
            runs += 1
        s.next_purge = _next_purge_after(now, pub.clock_offset)

    def purge(self) -> int:
        """Purge expired refresh tokens now (the nightly job does it at 02:00)."""
        with self._op() as now:
            with self.store.tx() as db:
                count = self.store.purge_expired(db, now)
            msg = f"Purged expired refresh tokens: count={count}"
            self._log(self.state.publisher, now, "INFO", "Timer-3", _CLEANER, msg)
            return count

    # -- keys ------------------------------------------------------------------------------------

    def _log_key_loaded(self, r: _Req, label: str) -> None:
        ring = self._validator_ring(r.node)
        for use, key in (("signing", ring.signing), ("encryption", ring.encryption)):
            r.svc._log(
                r.node,
                r.now,
                "INFO",
                "main",
                _KEYS,
                f"Authz key loaded: use={use} checksum={key.checksum} version={key.version} "
                f"server={enc(label)}",
            )

    def _log_received(
        self, node: Node, t: float, use: str, key: SigningKey | EncryptionKey
    ) -> None:
        self._log(
            node,
            t,
            "INFO",
            "main",
            _KEYS,
            f"Authz key received from publisher: use={use} checksum={key.checksum} "
            f"version={key.version} publisher={enc(self.state.publisher.name)}",
        )

    def regenerate_key(self, use: KeyUse | str) -> SigningKey | EncryptionKey:
        """``set key regen authz signing|encryption`` on the publisher.

        Every token made with the old key becomes invalid; the new key is replicated at once to
        the cluster's UCM and local IM&P nodes (their CallManager / XCP Authentication keep the
        old one until restarted); other servers keep theirs until their own key sync. Writes a
        new certMgmt file on the publisher.
        """
        use = KeyUse(use)
        with self._op() as now:
            s = self.state
            pub = s.publisher
            version = s.current(use) + 1
            key: SigningKey | EncryptionKey
            if use is KeyUse.SIGNING:
                key = generate_signing_key(version, self._key_rng)
            else:
                key = generate_encryption_key(version, self._key_rng)
            replicated = [nd for nd in s.nodes.values() if nd.spec.replicated]
            with self.store.tx() as db:
                self.store.add_key(
                    db, s.cluster, use.value, version, key.material, key.checksum, now
                )
                for nd in replicated:
                    self.store.set_node_key(db, nd.name, use.value, version)
            self._reload()
            t = now + pub.clock_offset
            mgr = "com.cisco.cpi.certMgmt.manager.AuthzCertMgr@5e2de80c"
            lines = [
                (t, "INFO", "log4j configuration successful."),
                (t, "INFO", "IN -- CertMgr.java - mainInternal(args) -"),
                (t, "INFO", "op:regenerate"),
                (t, "INFO", "IN -- CertMgr.java - getCertMgrObj(unit) - authz"),
                (t, "INFO", f"OUT -- CertMgr.java - getCertMgrObj - {mgr}"),
            ]
            if use is KeyUse.SIGNING:
                lines.append((t + 0.001, "DEBUG", "authz Certificate keysize : 2048"))
            lines += [
                (
                    t + 0.002,
                    "INFO",
                    f"Authz key regenerated: use={use.value} checksum={key.checksum} "
                    f"version={version}",
                ),
                (t + 0.002, "INFO", "OUT -- CertMgr.java - mainInternal -"),
            ]
            self.logs.certmgmt(pub.name, lines)
            self._log(
                pub,
                now,
                "INFO",
                "main",
                _KEYS,
                f"Authz key loaded: use={use.value} checksum={key.checksum} version={version} "
                f"server={enc('Cisco Tomcat')}",
            )
            for nd in replicated:
                if nd.role is not Role.PUBLISHER:
                    self._log_received(nd, now, use.value, key)
            return key

    def key_show(self, use: KeyUse | str, node: str | None = None) -> list[dict[str, Any]]:
        """``show key authz signing|encryption``: the checksum each node stores, and the
        version its validating service has loaded."""
        use = KeyUse(use)
        with self._op():
            s = self.state
            nodes = [self._node(node)] if node else list(s.nodes.values())
            keys: Mapping[int, SigningKey | EncryptionKey] = (
                s.signing if use is KeyUse.SIGNING else s.encryption
            )
            out = []
            for nd in nodes:
                v = s.node_keys[(nd.name, use.value)]
                svc = nd.spec.restart_service
                loaded = s.service_keys.get((nd.name, svc, use.value), v) if svc else v
                out.append(
                    {
                        "node": nd.name,
                        "role": nd.role.value,
                        "version": v,
                        "checksum": keys[v].checksum,
                        "loaded_version": loaded,
                        "loaded_by": nd.spec.validator,
                        "current": v == s.current(use),
                    }
                )
            return out

    def sync_keys(self, server: str) -> None:
        """A server's own key action: Expressway "Refresh servers", Unity "Sync Keys", or the
        key sync of an IM&P central cluster (whose XCP Authentication then needs a restart)."""
        with self._op() as now:
            s = self.state
            nd = self._node(server)
            if nd.spec.sync_action is None:
                raise ServiceError(
                    f"{server!r} is a {nd.role.value} node: it gets keys from the publisher at "
                    "once (restart its services to load them)"
                )
            with self.store.tx() as db:
                for use in KeyUse:
                    self.store.set_node_key(db, nd.name, use.value, s.current(use))
            self._reload()
            s = self.state
            if nd.spec.restart_service is None:
                self._log_key_loaded(self._req(nd, now), nd.spec.validator)
            else:
                self._log_received(nd, now, "signing", s.signing[s.current(KeyUse.SIGNING)])
                enc_key = s.encryption[s.current(KeyUse.ENCRYPTION)]
                self._log_received(nd, now, "encryption", enc_key)

    def restart(self, service: str, node: str | None = None) -> list[str]:
        """Restart a service on one node, or on every node that runs it; it loads the node's
        stored keys (logged in ssoApp.log and, for validating services, in ssosp)."""
        spec = SERVICES.get(service)
        if spec is None:
            raise ServiceError(f"unknown service {service!r} (known: {', '.join(SERVICES)})")
        with self._op() as now:
            s = self.state
            if node is not None:
                targets = [self._node(node)]
                if targets[0].role not in spec.roles:
                    role = targets[0].role.value
                    raise ServiceError(f"{spec.label} does not run on {node!r} ({role} node)")
            else:
                targets = [nd for nd in s.nodes.values() if nd.role in spec.roles]
            with self.store.tx() as db:
                for nd in targets:
                    if nd.spec.restart_service == service:
                        for use in ("signing", "encryption"):
                            v = s.node_keys[(nd.name, use)]
                            self.store.set_service_key(db, nd.name, service, use, v)
            self._reload()
            for nd in targets:
                self._ssoapp(
                    nd,
                    now,
                    "platform.ServiceManager",
                    f"Service restarted: service={enc(spec.label)} node={enc(nd.name)}",
                )
                if nd.spec.restart_service == service:
                    self._log_key_loaded(self._req(nd, now), spec.label)
            return [nd.name for nd in targets]

    # -- trace level and SSO ---------------------------------------------------------------------

    def set_trace_level(self, level: str, node: str | None = None) -> str:
        """``set samltrace level debug|info`` on one node (the publisher by default)."""
        level = level.lower()
        if level not in ("debug", "info"):
            raise ServiceError(f"trace level {level!r}: use debug or info")
        with self._op() as now:
            nd = self._node(node)
            with self.store.tx() as db:
                self.store.set_node_field(db, nd.name, "trace_level", level)
            self._reload()
            self._ssoapp(nd, now, "sso.SSOApp", f"samltrace level set to {level.upper()}")
            return nd.name

    def set_sso(self, enabled: bool) -> None:
        """Enable or disable SAML SSO cluster-wide; enabling starts a new ssosp file per node."""
        with self._op() as now:
            self.store.set_meta("sso_enabled", "1" if enabled else "0")
            self._reload()
            word = "enable" if enabled else "disable"
            for nd in self.state.nodes.values():
                if nd.role not in (Role.PUBLISHER, Role.SUBSCRIBER, Role.IMP):
                    continue
                if enabled:
                    self.logs.new_ssosp_file(nd.name)
                self._ssoapp(nd, now, "sso.SSOApp", f"SAML SSO {word} operation successful")


def _next_purge_after(t: float, offset: float) -> float:
    """The first 02:00 (node-local wall clock) strictly after ``t``."""
    local = t + offset
    due = math.floor(local / 86400) * 86400 + PURGE_HOUR * 3600
    if due <= local:
        due += 86400
    return due - offset


def _logon_keys(scope: str, name: str, address: str | None) -> tuple[Key, ...]:
    return ((scope, name),) if address is None else ((scope, name), ("address", address))


def _locked_reason(lock: Lockout) -> str:
    return "address_locked_out" if lock.scope == "address" else "locked_out"


def _lockout_error(lock: Lockout, now: float) -> OAuthError:
    who = "this client address" if lock.scope == "address" else "this account"
    retry = lock.retry_after(now)
    when = f"retry in {retry} s" if retry is not None else "until an administrator resets it"
    return OAuthError(
        429,
        "access_denied",
        f"{who} is locked after {lock.failures} failed logons ({when})",
        _locked_reason(lock),
        retry_after=retry,
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _b64sha(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
