"""Administration: what UCM's administrator (and its platform) does to the deployment.

Nodes and servers (:meth:`Admin.add_node`), end users, enterprise parameters, failed-logon
counts, the purge of expired refresh tokens, the authz keys (regeneration on the publisher,
``show key``, the key sync of servers outside the cluster), service restarts, the SAML trace
level and SSO. Each action writes the lines UCM would write (:mod:`.messages`): ssosp for
parameters and keys, CiscoSyslog for service stops and starts and SSO enable or disable,
AuditApp for a service restart, ssoApp.log for the trace level, certMgmt for a regeneration.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from logdoctor.tokenservice import messages as msg
from logdoctor.tokenservice.cluster import Node, check_name
from logdoctor.tokenservice.core import ACCESS_GROUPS, Core, Req, clip
from logdoctor.tokenservice.errors import ServiceError
from logdoctor.tokenservice.keys import (
    EncryptionKey,
    SigningKey,
    generate_encryption_key,
    generate_signing_key,
)
from logdoctor.tokenservice.lockout import SCOPES
from logdoctor.tokenservice.passwords import hash_password
from logdoctor.tokenservice.records import User
from logdoctor.tokenservice.site import log_settings, node_zone, set_node_zone, set_version
from logdoctor.ucm.params import PARAMS, ParamError, normalize
from logdoctor.ucm.topology import SERVICES, KeyUse, Role

__all__ = ["Admin"]


class Admin(Core):
    """The administrative actions of the service (the ``logdoctor service`` commands)."""

    # -- nodes -------------------------------------------------------------------------------------

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
                "ucm_version": self.logs.profile.version,
                "nodes": [
                    {
                        "name": n.name,
                        "role": n.role.value,
                        "clock_offset": n.clock_offset,
                        "trace_level": n.trace_level,
                        "zone": node_zone(self.store, n.name),
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

    def set_ucm_version(self, version: str) -> str:
        """Set the UCM version every node writes its logs as (12.5, 14 or 15: threads, loggers,
        the ssosp folder; see :mod:`logdoctor.ucm.versions`); the version set."""
        with self._op():
            try:
                p = set_version(self.store, version)
            except ValueError as exc:
                raise ServiceError(str(exc)) from None
            self.logs.configure(*log_settings(self.store, list(self.state.nodes)))
            return p.version

    def set_zone(self, name: str, zone: str) -> str:
        """Set the time zone (IANA name, or UTC) a node writes its log times in; the zone set."""
        with self._op():
            node = self._node(name)
            try:
                z = set_node_zone(self.store, node.name, zone)
            except ValueError as exc:
                raise ServiceError(f"node {node.name!r}: {exc}") from None
            self.logs.configure(*log_settings(self.store, list(self.state.nodes)))
            return z

    def set_clock_offset(self, name: str, seconds: float) -> None:
        """Set how far a node's clock is off true time (its logs and validations use it)."""
        with self._op():
            node = self._node(name)
            with self.store.tx() as db:
                self.store.set_node_field(db, node.name, "clock_offset", float(seconds))
            self._reload()

    # -- users -------------------------------------------------------------------------------------

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

    # -- parameters --------------------------------------------------------------------------------

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
                    text = msg.param_refused(name=name, value=clip(raw), reason=exc.reason)
                    r.log("WARN", msg.CONFIG, text)
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
            r.log("INFO", msg.CONFIG, msg.param_changed(name=name, old=old, new=value))
            for row in revoked:
                self._log_revoked(r, row, "refresh_timer_changed")
            return old, value

    # -- failed logons -----------------------------------------------------------------------------

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

    # -- the purge ---------------------------------------------------------------------------------

    def purge(self) -> int:
        """Purge expired refresh tokens now (the nightly job does it at 02:00)."""
        with self._op() as now:
            with self.store.tx() as db:
                count = self.store.purge_expired(db, now)
            text = msg.purged(count)
            self._log(self.state.publisher, now, "INFO", "Timer-3", msg.CLEANER, text)
            return count

    # -- keys and services -------------------------------------------------------------------------

    def _log_key_loaded(self, r: Req, label: str) -> None:
        ring = self._validator_ring(r.node)
        for use, key in (("signing", ring.signing), ("encryption", ring.encryption)):
            text = msg.key_loaded(use=use, checksum=key.checksum, version=key.version, server=label)
            self._log(r.node, r.now, "INFO", "main", msg.KEYS, text)

    def _log_received(
        self, node: Node, t: float, use: str, key: SigningKey | EncryptionKey
    ) -> None:
        text = msg.key_received(
            use=use,
            checksum=key.checksum,
            version=key.version,
            publisher=self.state.publisher.name,
        )
        self._log(node, t, "INFO", "main", msg.KEYS, text)

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
            lines = msg.key_regenerated_lines(
                t, use=use.value, checksum=key.checksum, version=version
            )
            self.logs.certmgmt(pub.name, lines)
            text = msg.key_loaded(
                use=use.value,
                checksum=key.checksum,
                version=version,
                server=self.logs.profile.ssosp_service,
            )
            self._log(pub, now, "INFO", "main", msg.KEYS, text)
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
        stored keys (Cisco Service Manager's ServiceStopped and ServiceStarted alarms in
        CiscoSyslog, the administrator's ServiceStatusUpdated in AuditApp and, for validating
        services, the key loads in ssosp)."""
        spec = SERVICES.get(service)
        if spec is None:
            raise ServiceError(f"unknown service {service!r} (known: {', '.join(SERVICES)})")
        with self._op() as now:
            if service == "ssosp-tomcat" and not self.logs.profile.containerized:
                ver = self.logs.profile.version
                raise ServiceError(f"{spec.label} runs on UCM 14 and later (this site: {ver})")
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
                pid = 1000 + zlib.crc32(f"{nd.name}|{service}|{now}".encode()) % 30000
                stop = msg.service_stopped(service=spec.label, node=nd.name, pid=pid)
                self._syslog(nd, now, 6, stop)
                start = msg.service_started(service=spec.label, node=nd.name, pid=pid + 1)
                self._syslog(nd, now + 0.001, 6, start)
                audit = msg.audit_service(
                    admin="admin", address="127.0.0.1", service=spec.label, node=nd.name
                )
                self._audit(nd, now + 0.001, audit)
                if nd.spec.restart_service == service:
                    self._log_key_loaded(self._req(nd, now), spec.label)
            return [nd.name for nd in targets]

    # -- trace level and SSO -----------------------------------------------------------------------

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
            self._ssoapp(nd, now, msg.SSO_APP, msg.trace_level_set(level))
            return nd.name

    def set_sso(self, enabled: bool) -> None:
        """Enable or disable SAML SSO cluster-wide; enabling starts a new ssosp file per node."""
        with self._op() as now:
            self.store.set_meta("sso_enabled", "1" if enabled else "0")
            self._reload()
            for nd in self.state.nodes.values():
                if nd.role not in (Role.PUBLISHER, Role.SUBSCRIBER, Role.IMP):
                    continue
                if enabled:
                    self.logs.new_ssosp_file(nd.name)
                self._syslog(nd, now, 6, msg.sso_alarm(enabled=enabled, node=nd.name))
