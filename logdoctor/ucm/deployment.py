"""The declared deployment: a TOML file that says what the UC deployment is meant to be.

``logdoctor check --config deployment.toml`` compares it with what the logs show, and some
rules (a UCM / Expressway refresh mismatch, Jabber releases that cannot do refresh logins...)
can judge it alone. The schema (every key optional unless marked)::

    [[cluster]]                          # one per UCM cluster
    name = "ucm"                         # required, unique
    role = "telephony"                   # telephony (default) | imp_central
    publisher = "ucm-pub"                # required: the UCM publisher node
    subscribers = ["ucm-sub1"]           # UCM subscriber nodes
    imp = ["imp1"]                       # IM and Presence nodes of this cluster
    uuid = "8d0d5324-..."                # the cluster id (the prefix of token kids)
    serves = "ucm"                       # imp_central: the telephony cluster it serves
    timezone = "America/New_York"        # zone of the nodes' log times (IANA name or -05:00)
    node_timezones = { "ucm-sub2" = "Europe/London" }   # a node in another zone

    [cluster.parameters]                 # enterprise parameters
    refresh_login_flow = "on"            # on | off           (UCM default: off)
    access_token_expiry_minutes = 60     # 1-1440             (default 60)
    refresh_token_expiry_days = 60       # 1-365              (default 60)
    implicit_grant = "on"                # on | off           (default on)

    [cluster.keys]                       # what `show key authz signing|encryption` prints
    signing = { version = 2, checksum = "c2770c97..." }
    encryption = { version = 1, checksum = "e0fdfcc3..." }

    [cluster.addresses]                  # other names of the cluster's nodes
    ucm-pub = ["10.48.36.11", "ucm-pub.example.com"]   # IP addresses, FQDNs

    [[expressway]]
    name = "expc1"                       # required: the name it has in the logs (via=)
    cluster = "ucm"                      # default: the first telephony cluster
    authorize_by_oauth_token_with_refresh = "on"   # on | off (Expressway default: on)
    keys = { signing = "c2770c97..." }   # checksums it holds (after "Refresh servers")
    addresses = ["10.48.36.20"]          # its other names (IP addresses, FQDNs)

    [[unity]]                            # Unity Connection
    name = "cuc1"                        # required
    cluster = "ucm"
    refresh_login_flow = "on"            # on | off (Unity default: off)
    keys = { signing = "...", encryption = "..." }   # after "Sync Keys"
    addresses = ["10.48.36.30"]

    [[jabber]]                           # the Jabber inventory, one entry per group
    platform = "iPhone"                  # Windows | Mac | iPhone | iPad | Android | VDI
    version = "14.1.0"                   # required
    count = 120                          # default 1
    mra = true                           # signs in over Mobile and Remote Access
    push = false                         # push notifications (iPhone / iPad)

Nodes may be named by host name, FQDN or IP address; ``addresses`` lists a node's other
names, so that a collection whose folders are named by IP address (RTMT with servers defined
by IP) and logs that name hosts all meet under one name (see :mod:`logdoctor.ingest.nodes`).
``on`` / ``off`` may also be written ``true`` / ``false``. A bad file raises
:class:`DeploymentError` with a message that names the file, the line, the key and the
allowed values.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from logdoctor.model import Evidence
from logdoctor.ucm.jabber import PLATFORMS
from logdoctor.ucm.params import PARAMETER_RANGES
from logdoctor.ucm.topology import CLUSTER_ROLES, KEY_USES

__all__ = [
    "Cluster",
    "Deployment",
    "DeploymentError",
    "Expressway",
    "JabberGroup",
    "KeyInfo",
    "Parameters",
    "Unity",
    "load_deployment",
    "parse_deployment",
]

_ON = {"on": True, "off": False, "enabled": True, "disabled": False}


class DeploymentError(ValueError):
    """A deployment file that cannot be read or does not follow the schema."""


@dataclass(frozen=True)
class KeyInfo:
    """One authz key as a node or server holds it."""

    version: int | None = None
    checksum: str | None = None


@dataclass(frozen=True)
class Parameters:
    """UCM enterprise parameters of the OAuth refresh login flow; None means not declared."""

    refresh_login_flow: bool | None = None
    access_token_expiry_minutes: int | None = None
    refresh_token_expiry_days: int | None = None
    implicit_grant: bool | None = None


@dataclass(frozen=True)
class Cluster:
    """A UCM cluster: its nodes, parameters and keys."""

    name: str
    publisher: str
    role: str = "telephony"
    subscribers: tuple[str, ...] = ()
    imp: tuple[str, ...] = ()
    uuid: str | None = None
    serves: str | None = None
    parameters: Parameters = field(default_factory=Parameters)
    keys: Mapping[str, KeyInfo] = field(default_factory=dict)
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Node -> its other names (IP addresses, FQDNs)."""
    timezone: str | None = None
    """The zone the cluster's nodes write their log times in (IANA name or offset)."""
    node_timezones: Mapping[str, str] = field(default_factory=dict)
    """Nodes whose zone differs from ``timezone``."""

    def timezone_of(self, node: str) -> str | None:
        """The zone ``node`` writes its log times in, when declared."""
        return self.node_timezones.get(node, self.timezone)

    @property
    def ucm_nodes(self) -> tuple[str, ...]:
        """Publisher and subscribers (the nodes that run Cisco CallManager)."""
        return (self.publisher, *self.subscribers)

    @property
    def nodes(self) -> tuple[str, ...]:
        """Every node of the cluster (UCM and IM and Presence)."""
        return (*self.ucm_nodes, *self.imp)


@dataclass(frozen=True)
class Expressway:
    """An Expressway-C that proxies Jabber over Mobile and Remote Access."""

    name: str
    cluster: str
    refresh: bool | None = None
    keys: Mapping[str, KeyInfo] = field(default_factory=dict)
    addresses: tuple[str, ...] = ()
    """Its other names (IP addresses, FQDNs)."""


@dataclass(frozen=True)
class Unity:
    """A Unity Connection server that validates Jabber's tokens for voicemail."""

    name: str
    cluster: str
    refresh_login_flow: bool | None = None
    keys: Mapping[str, KeyInfo] = field(default_factory=dict)
    addresses: tuple[str, ...] = ()
    """Its other names (IP addresses, FQDNs)."""


@dataclass(frozen=True)
class JabberGroup:
    """A group of Jabber installations of one platform and release."""

    platform: str | None
    version: tuple[int, ...]
    count: int = 1
    mra: bool | None = None
    push: bool | None = None
    path: str = ""

    @property
    def label(self) -> str:
        """``Jabber 14.1.0 iPhone`` (the subject of findings about this group)."""
        ver = ".".join(str(v) for v in self.version)
        return f"Jabber {ver} {self.platform}" if self.platform else f"Jabber {ver}"


@dataclass(frozen=True)
class Deployment:
    """A validated deployment file."""

    path: str
    clusters: tuple[Cluster, ...] = ()
    expressways: tuple[Expressway, ...] = ()
    unity: tuple[Unity, ...] = ()
    jabber: tuple[JabberGroup, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict)
    """Key path (``cluster[0].parameters.implicit_grant``) -> 1-based line in the file."""
    text_lines: tuple[str, ...] = ()

    @property
    def aliases(self) -> dict[str, tuple[str, ...]]:
        """Every declared node and server name -> the addresses listed for it (for
        :func:`logdoctor.ingest.nodes.identify`)."""
        out: dict[str, tuple[str, ...]] = {}
        for c in self.clusters:
            for n in c.nodes:
                out[n] = c.addresses.get(n, ())
        for e in self.expressways:
            out[e.name] = e.addresses
        for u in self.unity:
            out[u.name] = u.addresses
        return out

    def renamed(self, resolve: Callable[[str], str]) -> Deployment:
        """The same deployment with every node and server name replaced by ``resolve(name)``
        (the canonical names of :class:`logdoctor.ingest.nodes.NodeTable`); a node named twice
        (its host name and its address) is listed once."""

        def many(names: Iterable[str]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(resolve(n) for n in names))

        def addr(table: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
            out: dict[str, tuple[str, ...]] = {}
            for n, a in table.items():
                out[resolve(n)] = tuple(dict.fromkeys((*out.get(resolve(n), ()), *a)))
            return out

        clusters = []
        for c in self.clusters:
            pub = resolve(c.publisher)
            subs = tuple(n for n in many(c.subscribers) if n != pub)
            imp = tuple(n for n in many(c.imp) if n != pub and n not in subs)
            clusters.append(
                replace(
                    c,
                    publisher=pub,
                    subscribers=subs,
                    imp=imp,
                    addresses=addr(c.addresses),
                    node_timezones={resolve(n): z for n, z in c.node_timezones.items()},
                )
            )
        return replace(
            self,
            clusters=tuple(clusters),
            expressways=tuple(replace(e, name=resolve(e.name)) for e in self.expressways),
            unity=tuple(replace(u, name=resolve(u.name)) for u in self.unity),
        )

    def cluster(self, name: str) -> Cluster | None:
        """The cluster called ``name``."""
        return next((c for c in self.clusters if c.name == name), None)

    @property
    def telephony(self) -> tuple[Cluster, ...]:
        """The telephony clusters (those whose role is not imp_central)."""
        return tuple(c for c in self.clusters if c.role == "telephony")

    def cluster_of(self, name: str) -> Cluster | None:
        """The cluster a node belongs to."""
        return next((c for c in self.clusters if name in c.nodes), None)

    def role_of(self, name: str) -> str | None:
        """ucm, imp, imp_central, expressway, unity, or None for a name not declared."""
        for c in self.clusters:
            if name in c.ucm_nodes:
                return "ucm" if c.role == "telephony" else "imp_central"
            if name in c.imp:
                return "imp" if c.role == "telephony" else "imp_central"
        if any(e.name == name for e in self.expressways):
            return "expressway"
        if any(u.name == name for u in self.unity):
            return "unity"
        return None

    def line_of(self, path: str) -> int:
        """The line of a key path (its table's line, or 1, when the key is not written)."""
        probe = path
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe.rpartition(".")[0]
        return 1

    def evidence(self, path: str) -> Evidence:
        """Evidence pointing at the line of ``path`` in the file."""
        line = self.line_of(path)
        text = self.text_lines[line - 1].strip() if 0 < line <= len(self.text_lines) else ""
        return Evidence(
            node="config", file=self.path, line=line, time=None, kind="config", excerpt=text
        )

    def node_zones(self) -> dict[str, tuple[str, str]]:
        """Node -> (declared zone, ``file:line`` where it is declared), for every node of a
        cluster that declares ``timezone`` or ``node_timezones``."""
        out: dict[str, tuple[str, str]] = {}
        for i, c in enumerate(self.clusters):
            for node in c.nodes:
                zone = c.timezone_of(node)
                if zone is None:
                    continue
                key = (
                    f"cluster[{i}].node_timezones.{node}"
                    if node in c.node_timezones
                    else f"cluster[{i}].timezone"
                )
                out[node] = (zone, f"{self.path}:{self.line_of(key)}")
        return out

    def cluster_index(self, name: str) -> int:
        """The index of a cluster in the file (for key paths)."""
        return next(i for i, c in enumerate(self.clusters) if c.name == name)

    def find_path(self, section: str, name: str, key: str) -> str:
        """Key path of ``key`` in the ``section`` entry (cluster, expressway, unity) ``name``."""
        entries: tuple[Any, ...] = {
            "cluster": self.clusters,
            "expressway": self.expressways,
            "unity": self.unity,
        }[section]
        i = next(i for i, e in enumerate(entries) if e.name == name)
        return f"{section}[{i}].{key}" if key else f"{section}[{i}]"


# -- loading -------------------------------------------------------------------------------------


def load_deployment(path: str | Path) -> Deployment:
    """Read and validate a deployment file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeploymentError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DeploymentError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    return parse_deployment(text, str(path))


def parse_deployment(text: str, path: str = "deployment.toml") -> Deployment:
    """Validate the TOML text of a deployment file (``path`` names it in messages)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeploymentError(f"{path}: not valid TOML: {exc}") from None
    lines = _locate(text)
    v = _Validator(path, lines)
    v.keys(doc, "", {"version", "cluster", "expressway", "unity", "jabber"})
    if "version" in doc and doc["version"] != 1:
        v.fail("version", f"{doc['version']!r} is not a supported schema version (allowed: 1)")
    clusters = tuple(_cluster(v, c, f"cluster[{i}]") for i, c in enumerate(v.array(doc, "cluster")))
    names = [c.name for c in clusters]
    for i, n in enumerate(names):
        if names.index(n) != i:
            v.fail(f"cluster[{i}].name", f"{n!r} is used by another cluster (names are unique)")
    seen: dict[str, str] = {}
    for i, c in enumerate(clusters):
        for n in c.nodes:
            if n in seen:
                v.fail(f"cluster[{i}]", f"node {n!r} is already a node of cluster {seen[n]!r}")
            seen[n] = c.name
        if c.serves is not None and c.serves not in names:
            v.fail(f"cluster[{i}].serves", f"{c.serves!r} is not a cluster (allowed: {names})")
    default = next((c.name for c in clusters if c.role == "telephony"), None)
    expressways = tuple(
        _expressway(v, e, f"expressway[{i}]", names, default)
        for i, e in enumerate(v.array(doc, "expressway"))
    )
    unity = tuple(
        _unity(v, u, f"unity[{i}]", names, default) for i, u in enumerate(v.array(doc, "unity"))
    )
    jabber = tuple(_jabber(v, j, f"jabber[{i}]") for i, j in enumerate(v.array(doc, "jabber")))
    _check_addresses(v, clusters, expressways, unity)
    return Deployment(
        path=path,
        clusters=clusters,
        expressways=expressways,
        unity=unity,
        jabber=jabber,
        lines=lines,
        text_lines=tuple(text.splitlines()),
    )


def _check_addresses(
    v: _Validator,
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


class _Validator:
    def __init__(self, path: str, lines: Mapping[str, int]) -> None:
        self.path = path
        self.lines = lines

    def fail(self, key: str, message: str) -> None:
        probe = key
        line = None
        while probe and line is None:
            line = self.lines.get(probe)
            probe = probe.rpartition(".")[0]
        where = f"{self.path}:{line}" if line else self.path
        raise DeploymentError(f"{where}: {key}: {message}")

    def keys(self, table: Mapping[str, Any], at: str, allowed: set[str]) -> None:
        for k in table:
            if k not in allowed:
                self.fail(
                    f"{at}.{k}" if at else k,
                    f"unknown key (allowed here: {', '.join(sorted(allowed))})",
                )

    def array(self, doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            self.fail(key, f"must be an array of tables ([[{key}]])")
        return list(value)

    def string(self, t: Mapping[str, Any], key: str, at: str, *, required: bool = False) -> Any:
        if key not in t:
            if required:
                self.fail(f"{at}.{key}", "is required")
            return None
        value = t[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{at}.{key}", f"{value!r} must be a non-empty string")
        return value.strip()

    def zone(self, t: Mapping[str, Any], key: str, at: str) -> str | None:
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
        value = t.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
            self.fail(f"{at}.{key}", f"{value!r} must be a list of names")
        return tuple(value)

    def onoff(self, t: Mapping[str, Any], key: str, at: str) -> bool | None:
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


def _checksum(v: _Validator, value: Any, at: str) -> str:
    if not isinstance(value, str) or not _HEX.match(value):
        v.fail(
            f"{at}.checksum" if not at.endswith("checksum") else at,
            f"{value!r} is not a key checksum (8-128 hex digits, as `show key authz` prints)",
        )
    return str(value).lower()


def _cluster(v: _Validator, t: Mapping[str, Any], at: str) -> Cluster:
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
    parameters = Parameters(
        refresh_login_flow=v.onoff(params, "refresh_login_flow", pat),
        access_token_expiry_minutes=v.integer(params, "access_token_expiry_minutes", pat),
        refresh_token_expiry_days=v.integer(params, "refresh_token_expiry_days", pat),
        implicit_grant=v.onoff(params, "implicit_grant", pat),
    )
    serves = v.string(t, "serves", at)
    if serves is not None and role != "imp_central":
        v.fail(f"{at}.serves", "only an imp_central cluster serves another cluster")
    publisher = v.string(t, "publisher", at, required=True)
    subscribers = v.strings(t, "subscribers", at)
    imp = v.strings(t, "imp", at)
    nodes = (publisher, *subscribers, *imp)
    table = t.get("addresses", {})
    if not isinstance(table, dict):
        v.fail(f"{at}.addresses", 'must be a table (node = ["10.0.0.1", "node.example.com"])')
    v.keys(table, f"{at}.addresses", set(nodes))
    addresses = {n: v.strings(table, n, f"{at}.addresses") for n in table}
    timezone = v.zone(t, "timezone", at)
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


def _cluster_ref(
    v: _Validator, t: Mapping[str, Any], at: str, names: list[str], default: str | None
) -> str:
    cluster = v.string(t, "cluster", at)
    if cluster is None:
        if default is None:
            v.fail(f"{at}.cluster", "is required when no telephony [[cluster]] is declared")
        return str(default)
    if cluster not in names:
        v.fail(f"{at}.cluster", f"{cluster!r} is not a declared cluster (allowed: {names})")
    return str(cluster)


def _expressway(
    v: _Validator, t: Mapping[str, Any], at: str, names: list[str], default: str | None
) -> Expressway:
    v.keys(t, at, {"name", "cluster", "authorize_by_oauth_token_with_refresh", "keys", "addresses"})
    return Expressway(
        name=v.string(t, "name", at, required=True),
        cluster=_cluster_ref(v, t, at, names, default),
        refresh=v.onoff(t, "authorize_by_oauth_token_with_refresh", at),
        keys=v.key_table(t, at),
        addresses=v.strings(t, "addresses", at),
    )


def _unity(
    v: _Validator, t: Mapping[str, Any], at: str, names: list[str], default: str | None
) -> Unity:
    v.keys(t, at, {"name", "cluster", "refresh_login_flow", "keys", "addresses"})
    return Unity(
        name=v.string(t, "name", at, required=True),
        cluster=_cluster_ref(v, t, at, names, default),
        refresh_login_flow=v.onoff(t, "refresh_login_flow", at),
        keys=v.key_table(t, at),
        addresses=v.strings(t, "addresses", at),
    )


_VERSION = re.compile(r"^\d+(?:\.\d+){0,3}$")


def _jabber(v: _Validator, t: Mapping[str, Any], at: str) -> JabberGroup:
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


# -- key paths -> line numbers -------------------------------------------------------------------

_ARRAY_HDR = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE_HDR = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_-]+)\s*=")


def _locate(text: str) -> dict[str, int]:
    """Map key paths to the line they are written on (a small scan, enough for this schema:
    arrays of tables, sub-tables, keys and one level of inline tables)."""
    out: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    for n, line in enumerate(text.splitlines(), start=1):
        if m := _ARRAY_HDR.match(line):
            name = m.group(1)
            counts[name] = counts.get(name, -1) + 1
            table = f"{name}[{counts[name]}]"
            out.setdefault(table, n)
            continue
        if m := _TABLE_HDR.match(line):
            first, _, rest = m.group(1).partition(".")
            base = f"{first}[{counts[first]}]" if first in counts else first
            table = f"{base}.{rest}" if rest else base
            out.setdefault(table, n)
            continue
        if m := _KEY.match(line):
            key = f"{table}.{m.group(1)}" if table else m.group(1)
            out.setdefault(key, n)
            brace = line.find("{", m.end())
            if brace != -1:
                for sub in _INLINE_KEY.finditer(line, brace):
                    out.setdefault(f"{key}.{sub.group(1)}", n)
    return out
