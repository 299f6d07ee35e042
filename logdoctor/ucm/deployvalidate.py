"""Validation of a deployment file's tables against the schema of
:mod:`logdoctor.ucm.deployment`: each entry read into its value, or a
:class:`~logdoctor.ucm.deploymodel.DeploymentError` naming the file, the line, the key and the
allowed values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from logdoctor.ucm.deploymodel import (
    Cluster,
    DeploymentError,
    Expressway,
    JabberGroup,
    KeyInfo,
    Parameters,
    Unity,
)
from logdoctor.ucm.jabber import PLATFORMS
from logdoctor.ucm.params import PARAMETER_RANGES
from logdoctor.ucm.topology import CLUSTER_ROLES, KEY_USES

__all__ = [
    "Validator",
    "check_addresses",
    "read_cluster",
    "read_expressway",
    "read_jabber",
    "read_unity",
]

_ON = {"on": True, "off": False, "enabled": True, "disabled": False}


def check_addresses(
    v: Validator,
    clusters: tuple[Cluster, ...],
    expressways: tuple[Expressway, ...],
    unity: tuple[Unity, ...],
) -> None:
    """An address names one node: not two, and not another declared node."""
    entries: list[tuple[str, str, tuple[str, ...]]] = []
    for i, c in enumerate(clusters):
        entries += [(f"cluster[{i}].addresses.{n}", n, a) for n, a in c.addresses.items()]
    entries += [
        (f"expressway[{i}].addresses", e.name, e.addresses) for i, e in enumerate(expressways)
    ]
    entries += [(f"unity[{i}].addresses", u.name, u.addresses) for i, u in enumerate(unity)]
    names = {n.casefold() for c in clusters for n in c.nodes}
    names |= {e.name.casefold() for e in expressways} | {u.name.casefold() for u in unity}
    owner: dict[str, str] = {}
    for path, node, addresses in entries:
        for a in addresses:
            key = a.casefold()
            if key in names and key != node.casefold():
                v.fail(path, f"{a!r} is the name of another declared node")
            if owner.setdefault(key, node) != node:
                v.fail(path, f"{a!r} is already an address of {owner[key]!r}")


class Validator:
    """Reads values out of a deployment file's tables; :meth:`fail` raises the error."""

    def __init__(self, path: str, lines: Mapping[str, int]) -> None:
        self.path = path
        self.lines = lines

    def fail(self, key: str, message: str) -> None:
        """Raise :class:`DeploymentError` for ``key`` (its line when known) with ``message``."""
        probe = key
        line = None
        while probe and line is None:
            line = self.lines.get(probe)
            probe = probe.rpartition(".")[0]
        where = f"{self.path}:{line}" if line else self.path
        raise DeploymentError(f"{where}: {key}: {message}")

    def keys(self, table: Mapping[str, Any], at: str, allowed: set[str]) -> None:
        """Refuse a key of ``table`` (at ``at``) that is not in ``allowed``."""
        for k in table:
            if k not in allowed:
                self.fail(
                    f"{at}.{k}" if at else k,
                    f"unknown key (allowed here: {', '.join(sorted(allowed))})",
                )

    def array(self, doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        """The array of tables ``key`` of ``doc`` (empty when absent)."""
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            self.fail(key, f"must be an array of tables ([[{key}]])")
        return list(value)

    def string(self, t: Mapping[str, Any], key: str, at: str, *, required: bool = False) -> Any:
        """A non-empty string (stripped), or None when absent and not ``required``."""
        if key not in t:
            if required:
                self.fail(f"{at}.{key}", "is required")
            return None
        value = t[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{at}.{key}", f"{value!r} must be a non-empty string")
        return value.strip()

    def zone(self, t: Mapping[str, Any], key: str, at: str) -> str | None:
        """A time zone name or offset, checked, or None when absent."""
        value = self.string(t, key, at)
        if value is None:
            return None
        from logdoctor.timestamps import resolve_zone

        try:
            resolve_zone(value)
        except ValueError:
            self.fail(
                f"{at}.{key}",
                f"{value!r} is not a time zone (an IANA name such as America/New_York, UTC, "
                "or an offset such as -05:00)",
            )
        return str(value)

    def strings(self, t: Mapping[str, Any], key: str, at: str) -> tuple[str, ...]:
        """A list of non-empty names (empty when absent)."""
        value = t.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
            self.fail(f"{at}.{key}", f"{value!r} must be a list of names")
        return tuple(value)

    def onoff(self, t: Mapping[str, Any], key: str, at: str) -> bool | None:
        """``on``/``off`` (or a boolean) as a boolean, or None when absent."""
        if key not in t:
            return None
        value = t[key]
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _ON:
            return _ON[value.lower()]
        self.fail(f"{at}.{key}", f"{value!r} is not allowed (allowed: on, off)")
        return None

    def integer(self, t: Mapping[str, Any], key: str, at: str) -> int | None:
        """An enterprise parameter within its range, or None when absent."""
        if key not in t:
            return None
        value = t[key]
        lo, hi = PARAMETER_RANGES[key]
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(f"{at}.{key}", f"{value!r} must be a whole number (allowed: {lo}-{hi})")
        if not lo <= value <= hi:
            self.fail(f"{at}.{key}", f"{value} is out of range (allowed: {lo}-{hi})")
        return int(value)

    def key_table(self, t: Mapping[str, Any], at: str) -> dict[str, KeyInfo]:
        """The ``keys`` table: per key use, a checksum or a version and checksum."""
        value = t.get("keys", {})
        if not isinstance(value, dict):
            self.fail(f"{at}.keys", "must be a table (signing = ..., encryption = ...)")
        self.keys(value, f"{at}.keys", set(KEY_USES))
        out: dict[str, KeyInfo] = {}
        for use, k in value.items():
            here = f"{at}.keys.{use}"
            if isinstance(k, str):
                out[use] = KeyInfo(checksum=_checksum(self, k, here))
                continue
            if not isinstance(k, dict):
                self.fail(here, 'must be a checksum string or { version = N, checksum = ".." }')
            self.keys(k, here, {"version", "checksum"})
            version = k.get("version")
            if version is not None and (
                not isinstance(version, int) or isinstance(version, bool) or version < 1
            ):
                self.fail(f"{here}.version", f"{version!r} must be a whole number >= 1")
            checksum = k.get("checksum")
            out[use] = KeyInfo(
                version=version,
                checksum=None if checksum is None else _checksum(self, checksum, here),
            )
        return out


_HEX = re.compile(r"^[0-9A-Fa-f]{8,128}$")


def _checksum(v: Validator, value: Any, at: str) -> str:
    if not isinstance(value, str) or not _HEX.match(value):
        v.fail(
            f"{at}.checksum" if not at.endswith("checksum") else at,
            f"{value!r} is not a key checksum (8-128 hex digits, as `show key authz` prints)",
        )
    return str(value).lower()


def read_cluster(v: Validator, t: Mapping[str, Any], at: str) -> Cluster:
    """One ``[[cluster]]`` entry."""
    v.keys(
        t,
        at,
        {
            "name",
            "role",
            "publisher",
            "subscribers",
            "imp",
            "uuid",
            "serves",
            "parameters",
            "keys",
            "addresses",
            "timezone",
            "node_timezones",
        },
    )
    name = v.string(t, "name", at, required=True)
    role = v.string(t, "role", at) or "telephony"
    if role not in CLUSTER_ROLES:
        v.fail(f"{at}.role", f"{role!r} is not allowed (allowed: {', '.join(CLUSTER_ROLES)})")
    parameters = _parameters(v, t, at)
    serves = v.string(t, "serves", at)
    if serves is not None and role != "imp_central":
        v.fail(f"{at}.serves", "only an imp_central cluster serves another cluster")
    publisher = v.string(t, "publisher", at, required=True)
    subscribers = v.strings(t, "subscribers", at)
    imp = v.strings(t, "imp", at)
    nodes = (publisher, *subscribers, *imp)
    addresses = _addresses(v, t, at, nodes)
    timezone = v.zone(t, "timezone", at)
    node_timezones = _node_timezones(v, t, at, nodes)
    return Cluster(
        name=name,
        publisher=publisher,
        role=role,
        subscribers=subscribers,
        imp=imp,
        uuid=v.string(t, "uuid", at),
        serves=serves,
        parameters=parameters,
        keys=v.key_table(t, at),
        addresses=addresses,
        timezone=timezone,
        node_timezones=node_timezones,
    )


def _parameters(v: Validator, t: Mapping[str, Any], at: str) -> Parameters:
    """A cluster's ``parameters`` table."""
    params = t.get("parameters", {})
    if not isinstance(params, dict):
        v.fail(f"{at}.parameters", "must be a table")
    v.keys(
        params,
        f"{at}.parameters",
        {
            "refresh_login_flow",
            "access_token_expiry_minutes",
            "refresh_token_expiry_days",
            "implicit_grant",
        },
    )
    pat = f"{at}.parameters"
    return Parameters(
        refresh_login_flow=v.onoff(params, "refresh_login_flow", pat),
        access_token_expiry_minutes=v.integer(params, "access_token_expiry_minutes", pat),
        refresh_token_expiry_days=v.integer(params, "refresh_token_expiry_days", pat),
        implicit_grant=v.onoff(params, "implicit_grant", pat),
    )


def _addresses(
    v: Validator, t: Mapping[str, Any], at: str, nodes: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """A cluster's ``addresses`` table: its nodes' other names."""
    table = t.get("addresses", {})
    if not isinstance(table, dict):
        v.fail(f"{at}.addresses", 'must be a table (node = ["10.0.0.1", "node.example.com"])')
    v.keys(table, f"{at}.addresses", set(nodes))
    return {n: v.strings(table, n, f"{at}.addresses") for n in table}


def _node_timezones(
    v: Validator, t: Mapping[str, Any], at: str, nodes: tuple[str, ...]
) -> dict[str, str]:
    """A cluster's ``node_timezones`` table: nodes in another zone than the cluster's."""
    zones = t.get("node_timezones", {})
    if not isinstance(zones, dict):
        v.fail(f"{at}.node_timezones", 'must be a table ({ "node" = "Europe/London" })')
    node_timezones: dict[str, str] = {}
    for node in zones:
        if node not in nodes:
            v.fail(
                f"{at}.node_timezones.{node}",
                f"not a node of this cluster (allowed: {', '.join(nodes)})",
            )
        node_timezones[node] = str(v.zone(zones, node, f"{at}.node_timezones"))
    return node_timezones


def _cluster_ref(
    v: Validator, t: Mapping[str, Any], at: str, names: list[str], default: str | None
) -> str:
    cluster = v.string(t, "cluster", at)
    if cluster is None:
        if default is None:
            v.fail(f"{at}.cluster", "is required when no telephony [[cluster]] is declared")
        return str(default)
    if cluster not in names:
        v.fail(f"{at}.cluster", f"{cluster!r} is not a declared cluster (allowed: {names})")
    return str(cluster)


_Server = TypeVar("_Server", Expressway, Unity)


def _server(
    kind: type[_Server],
    flag: str,
    v: Validator,
    t: Mapping[str, Any],
    at: str,
    names: list[str],
    default: str | None,
) -> _Server:
    """A server entry: name, cluster, its refresh ``flag`` (on / off), keys and addresses."""
    v.keys(t, at, {"name", "cluster", flag, "keys", "addresses"})
    return kind(
        v.string(t, "name", at, required=True),
        _cluster_ref(v, t, at, names, default),
        v.onoff(t, flag, at),
        v.key_table(t, at),
        v.strings(t, "addresses", at),
    )


def read_expressway(
    v: Validator, t: Mapping[str, Any], at: str, names: list[str], default: str | None
) -> Expressway:
    """One ``[[expressway]]`` entry (``names``: the clusters; ``default``: the first
    telephony one)."""
    flag = "authorize_by_oauth_token_with_refresh"
    return _server(Expressway, flag, v, t, at, names, default)


def read_unity(
    v: Validator, t: Mapping[str, Any], at: str, names: list[str], default: str | None
) -> Unity:
    """One ``[[unity]]`` entry (``names``: the clusters; ``default``: the first telephony one)."""
    return _server(Unity, "refresh_login_flow", v, t, at, names, default)


_VERSION = re.compile(r"^\d+(?:\.\d+){0,3}$")


def read_jabber(v: Validator, t: Mapping[str, Any], at: str) -> JabberGroup:
    """One ``[[jabber]]`` entry."""
    v.keys(t, at, {"platform", "version", "count", "mra", "push"})
    platform = v.string(t, "platform", at)
    if platform is not None:
        canon = PLATFORMS.get(platform.lower())
        if canon is None:
            allowed = ", ".join(dict.fromkeys(PLATFORMS.values()))
            v.fail(f"{at}.platform", f"{platform!r} is not allowed (allowed: {allowed})")
        platform = canon
    version = t.get("version")
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not _VERSION.match(version):
        if "version" not in t:
            v.fail(f"{at}.version", 'is required (e.g. "14.1.0")')
        v.fail(f"{at}.version", f'{version!r} is not a release number (e.g. "14.1.0")')
    count = t.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        v.fail(f"{at}.count", f"{count!r} must be a whole number >= 0")
    mra = t.get("mra")
    push = t.get("push")
    for key, value in (("mra", mra), ("push", push)):
        if value is not None and not isinstance(value, bool):
            v.fail(f"{at}.{key}", f"{value!r} is not allowed (allowed: true, false)")
    return JabberGroup(
        platform=platform,
        version=tuple(int(p) for p in str(version).split(".")),
        count=count,
        mra=mra,
        push=push,
        path=at,
    )
