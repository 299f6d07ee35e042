"""The simulated deployment: a UCM cluster and the servers around it, and its deployment file.

:class:`Topology` names the nodes (publisher, subscribers, local IM and Presence nodes, an IM
and Presence central cluster, Expressway-C servers with their own "Authorize by OAuth token
with refresh" setting, Unity Connection servers with their own "OAuth with Refresh Login Flow"),
builds them in a token :class:`~logdoctor.tokenservice.service.Service`, and writes the
``deployment.toml`` that ``logdoctor check --config`` reads (the schema of
``logdoctor/deployment.py``), from the state the service ends in: parameters, key versions
and checksums as ``show key authz`` would print them on each node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from logdoctor.simulate.population import Person
from logdoctor.tokenservice.service import Service

__all__ = ["ExpresswaySpec", "Topology", "UnitySpec", "deployment_toml"]


@dataclass(frozen=True)
class ExpresswaySpec:
    """An Expressway-C relaying Jabber over Mobile and Remote Access."""

    name: str
    refresh: bool = True
    """MRA Access Control > "Authorize by OAuth token with refresh" (Expressway default: on)."""


@dataclass(frozen=True)
class UnitySpec:
    """A Unity Connection server (voicemail in Jabber)."""

    name: str
    refresh_flow: bool | None = None
    """Its own "OAuth with Refresh Login Flow" enterprise parameter (Unity default: off);
    None: set like UCM's (what a consistent administrator does)."""


@dataclass(frozen=True)
class Topology:
    """Names and roles of every node and server of a simulated deployment."""

    cluster: str = "ucm"
    publisher: str = "ucm-pub"
    subscribers: tuple[str, ...] = ("ucm-sub1", "ucm-sub2")
    imp: tuple[str, ...] = ("imp1", "imp2")
    """Local IM and Presence nodes (they receive regenerated keys from the publisher)."""
    central: tuple[str, ...] = ()
    """IM and Presence central cluster nodes (their own cluster: their own key sync)."""
    central_cluster: str = "imp-central"
    central_publisher: str = "impc-pub"
    expressways: tuple[ExpresswaySpec, ...] = (ExpresswaySpec("expc1"),)
    unity: tuple[UnitySpec, ...] = (UnitySpec("cuc1"),)
    clock_offsets: Mapping[str, float] = field(default_factory=dict)
    """Seconds a node's clock is ahead (+) or behind (-) from the start."""
    zones: Mapping[str, str] = field(default_factory=dict)
    """IANA time zone a node writes its log times in (others: UTC). The deployment file
    declares the zones of cluster nodes (``node_timezones``)."""

    @property
    def ucm_nodes(self) -> tuple[str, ...]:
        """Publisher and subscribers (they run Cisco CallManager and serve OAuth)."""
        return (self.publisher, *self.subscribers)

    @property
    def presence(self) -> tuple[str, ...]:
        """The IM and Presence nodes Jabber signs in to (central ones when there are any)."""
        return self.central or self.imp

    def expressway(self, name: str) -> ExpresswaySpec:
        """The Expressway called ``name``."""
        return next(e for e in self.expressways if e.name == name)

    def build(self, svc: Service) -> None:
        """Add every node and server (other than the publisher) to the service."""
        off = self.clock_offsets
        for name in self.subscribers:
            svc.add_node(name, "subscriber", clock_offset=off.get(name, 0.0))
        for name in self.imp:
            svc.add_node(name, "imp", clock_offset=off.get(name, 0.0))
        for name in self.central:
            svc.add_node(name, "imp-central", clock_offset=off.get(name, 0.0))
        for e in self.expressways:
            svc.add_node(e.name, "expressway", clock_offset=off.get(e.name, 0.0))
        for u in self.unity:
            svc.add_node(u.name, "unity", clock_offset=off.get(u.name, 0.0))
        if off.get(self.publisher):
            svc.set_clock_offset(self.publisher, off[self.publisher])
        for name, zone in sorted(self.zones.items()):
            svc.set_zone(name, zone)


def _q(s: str) -> str:
    """A TOML basic string (names here are letters, digits, dots, dashes and spaces)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _onoff(value: bool) -> str:
    return _q("on" if value else "off")


def _zones_line(topo: Topology, nodes: Sequence[str]) -> list[str]:
    """``node_timezones`` of a cluster whose ``nodes`` include zoned ones (else nothing)."""
    zoned = [(n, topo.zones[n]) for n in nodes if n in topo.zones]
    if not zoned:
        return []
    return [f"node_timezones = {{ {', '.join(f'{_q(n)} = {_q(z)}' for n, z in zoned)} }}"]


def _jabber_groups(people: Sequence[Person]) -> list[tuple[str, str, int, bool, bool | None]]:
    groups: dict[tuple[str, str, bool, bool | None], int] = {}
    for p in people:
        for d in p.devices:
            if d.product != "Jabber":
                continue
            key = (str(d.platform), d.version, d.mra, d.push)
            groups[key] = groups.get(key, 0) + 1
    return [
        (plat, ver, n, mra, push)
        for (plat, ver, mra, push), n in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], str(kv[0][3]))
        )
    ]


_Keys = dict[str, dict[str, dict[str, Any]]]


def _cluster_toml(
    topo: Topology, info: Mapping[str, Any], params: Mapping[str, str], keys: _Keys
) -> list[str]:
    """The ``[[cluster]]`` table of the deployment's own cluster."""
    pub = topo.publisher
    out = ["version = 1", "", "[[cluster]]", f"name = {_q(topo.cluster)}"]
    out.append(f"publisher = {_q(pub)}")
    if topo.subscribers:
        out.append(f"subscribers = [{', '.join(_q(s) for s in topo.subscribers)}]")
    if topo.imp:
        out.append(f"imp = [{', '.join(_q(s) for s in topo.imp)}]")
    out += _zones_line(topo, (pub, *topo.subscribers, *topo.imp))
    out += [f"uuid = {_q(str(info['uuid']))}", "", "[cluster.parameters]"]
    out.append(f"refresh_login_flow = {_onoff(params['refresh_login_flow'] == 'on')}")
    out.append(f"access_token_expiry_minutes = {int(params['access_token_expiry_minutes'])}")
    out.append(f"refresh_token_expiry_days = {int(params['refresh_token_expiry_days'])}")
    out.append(f"implicit_grant = {_onoff(params['implicit_grant'] == 'on')}")
    out += ["", "[cluster.keys]"]
    for use in ("signing", "encryption"):
        row = keys[use][pub]
        out.append(f"{use} = {{ version = {row['version']}, checksum = {_q(row['checksum'])} }}")
    return out


def _central_toml(topo: Topology, keys: _Keys) -> list[str]:
    """The ``[[cluster]]`` table of the central IM and Presence cluster (if any)."""
    if not topo.central:
        return []
    first = topo.central[0]
    out = [
        "",
        "[[cluster]]",
        f"name = {_q(topo.central_cluster)}",
        'role = "imp_central"',
        f"publisher = {_q(topo.central_publisher)}",
        f"imp = [{', '.join(_q(s) for s in topo.central)}]",
        *_zones_line(topo, (topo.central_publisher, *topo.central)),
        f"serves = {_q(topo.cluster)}",
        "",
        "[cluster.keys]",
    ]
    for use in ("signing", "encryption"):
        row = keys[use][first]
        out.append(f"{use} = {{ version = {row['version']}, checksum = {_q(row['checksum'])} }}")
    return out


def _peers_toml(topo: Topology, params: Mapping[str, str], keys: _Keys) -> list[str]:
    """The ``[[expressway]]`` and ``[[unity]]`` tables."""
    out: list[str] = []
    for e in topo.expressways:
        sig = keys["signing"][e.name]["checksum"]
        enc = keys["encryption"][e.name]["checksum"]
        out += [
            "",
            "[[expressway]]",
            f"name = {_q(e.name)}",
            f"cluster = {_q(topo.cluster)}",
            f"authorize_by_oauth_token_with_refresh = {_onoff(e.refresh)}",
            f"keys = {{ signing = {_q(sig)}, encryption = {_q(enc)} }}",
        ]
    for u in topo.unity:
        sig = keys["signing"][u.name]["checksum"]
        enc = keys["encryption"][u.name]["checksum"]
        flow = u.refresh_flow
        if flow is None:
            flow = params["refresh_login_flow"] == "on"
        out += [
            "",
            "[[unity]]",
            f"name = {_q(u.name)}",
            f"cluster = {_q(topo.cluster)}",
            f"refresh_login_flow = {_onoff(flow)}",
            f"keys = {{ signing = {_q(sig)}, encryption = {_q(enc)} }}",
        ]
    return out


def _jabber_toml(people: Sequence[Person]) -> list[str]:
    """The ``[[jabber]]`` tables, one per group of like Jabber devices."""
    out: list[str] = []
    for plat, ver, n, mra, push in _jabber_groups(people):
        out += [
            "",
            "[[jabber]]",
            f"platform = {_q(plat)}",
            f"version = {_q(ver)}",
            f"count = {n}",
            f"mra = {'true' if mra else 'false'}",
        ]
        if push is not None:
            out.append(f"push = {'true' if push else 'false'}")
    return out


def deployment_toml(
    topo: Topology,
    svc: Service,
    people: Sequence[Person],
    *,
    header: str = "",
) -> str:
    """The declared deployment as of the service's current state (``deployment.toml``)."""
    info = svc.info()
    params = svc.params()
    keys = {
        use: {row["node"]: row for row in svc.key_show(use)} for use in ("signing", "encryption")
    }
    out: list[str] = []
    if header:
        out += [f"# {line}" if line else "#" for line in header.splitlines()]
    out += _cluster_toml(topo, info, params, keys)
    out += _central_toml(topo, keys)
    out += _peers_toml(topo, params, keys)
    out += _jabber_toml(people)
    return "\n".join(out) + "\n"
