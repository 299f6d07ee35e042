"""The deployment as the token service holds it in memory, and how it is made and read.

:class:`State` is a snapshot of the data dir's database (cluster, nodes, keys, parameters,
users, when the next purge is due); :func:`load_state` reads it, reusing the key objects of the
previous snapshot (loading an RSA key is slow), and :func:`init_deployment` writes a new
deployment: one cluster, its publisher, version 1 of both authz keys.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from logdoctor.tokenservice.clock import Clock
from logdoctor.tokenservice.cluster import Node, check_name
from logdoctor.tokenservice.keys import (
    EncryptionKey,
    SigningKey,
    generate_encryption_key,
    generate_signing_key,
    load_encryption_key,
    load_signing_key,
)
from logdoctor.tokenservice.passwords import typical_cost
from logdoctor.tokenservice.records import User
from logdoctor.tokenservice.store import Store
from logdoctor.ucm.params import defaults
from logdoctor.ucm.topology import KeyUse, Role

__all__ = ["PURGE_HOUR", "State", "init_deployment", "load_state", "next_purge_after"]

PURGE_HOUR = 2
"""The node-local hour of the nightly purge of expired refresh tokens."""


@dataclass
class State:
    """The deployment as the database holds it: cluster, nodes, keys, parameters, users."""

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
        """The cluster's publisher (it holds the authz keys)."""
        return next(n for n in self.nodes.values() if n.role is Role.PUBLISHER)

    def current(self, use: KeyUse) -> int:
        """The newest version of the cluster's key for ``use``."""
        return max(self.signing if use is KeyUse.SIGNING else self.encryption)


def init_deployment(
    store: Store,
    cluster: str,
    publisher: str,
    *,
    now: float,
    cluster_uuid: str,
    key_rng: random.Random | None,
) -> None:
    """Write a new deployment: ``cluster`` with its ``publisher`` and the first keys."""
    check_name("cluster", cluster)
    check_name("node", publisher)
    sig = generate_signing_key(1, key_rng)
    encr = generate_encryption_key(1, key_rng)
    with store.tx() as db:
        store.add_cluster(db, cluster, cluster_uuid, "ucm")
        store.add_node(db, Node(publisher, Role.PUBLISHER, cluster))
        store.add_key(db, cluster, "signing", 1, sig.material, sig.checksum, now)
        store.add_key(db, cluster, "encryption", 1, encr.material, encr.checksum, now)
        for use in ("signing", "encryption"):
            store.set_node_key(db, publisher, use, 1)
            store.set_service_key(db, publisher, "callmanager", use, 1)
        store.set_job(db, "purge", now)


def load_state(store: Store, old: State | None, clock: Clock, password_cost: int) -> State:
    """Read the deployment; keys already in ``old`` are reused, not loaded again.

    ``password_cost`` is the scrypt cost assumed when no user has a password yet.
    """
    clusters = store.clusters()
    name = next(n for n, (_, kind) in clusters.items() if kind == "ucm")
    signing: dict[int, SigningKey] = {}
    encryption: dict[int, EncryptionKey] = {}
    for cl, use, version, material in store.key_versions():
        if cl != name:
            continue
        if use == KeyUse.SIGNING:
            sk = old.signing.get(version) if old else None
            signing[version] = sk or load_signing_key(version, material)
        else:
            ek = old.encryption.get(version) if old else None
            encryption[version] = ek or load_encryption_key(version, material)
    params = defaults()
    params.update(store.params(name))
    users = store.users()
    nodes = {n.name: n for n in store.nodes()}
    pub = next(n for n in nodes.values() if n.role is Role.PUBLISHER)
    last = store.job_last("purge") or clock.time()
    return State(
        cluster=name,
        uuid=clusters[name][0],
        nodes=nodes,
        signing=signing,
        encryption=encryption,
        node_keys=store.node_keys(),
        service_keys=store.service_keys(),
        params=params,
        users=users,
        next_purge=next_purge_after(last, pub.clock_offset),
        sso_enabled=store.meta("sso_enabled") == "1",
        pw_cost=typical_cost((u.pw_hash for u in users.values()), password_cost),
    )


def next_purge_after(t: float, offset: float) -> float:
    """The first 02:00 (node-local wall clock) strictly after ``t``."""
    local = t + offset
    due = math.floor(local / 86400) * 86400 + PURGE_HOUR * 3600
    if due <= local:
        due += 86400
    return due - offset
