"""The declared deployment as values: clusters, their parameters and keys, Expressways, Unity
Connection servers and the Jabber inventory (the schema is in :mod:`logdoctor.ucm.deployment`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from logdoctor.model import Evidence

__all__ = [
    "Cluster",
    "Deployment",
    "DeploymentError",
    "Expressway",
    "JabberGroup",
    "KeyInfo",
    "Parameters",
    "Unity",
]


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
