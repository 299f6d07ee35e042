"""The deployment-file halves the configuration and key rules share.

A rule that also checks what the deployment file declares (``Needs.config = "or"``) asks one
of two questions of it: does a server outside the cluster hold other authz keys than its
cluster (:func:`key_mismatches`: LD103 Unity Connection, LD201 an IM and Presence central
cluster, LD205 Expressway-C), or does a server's refresh setting disagree with its cluster's
"OAuth with Refresh Login Flow" (:func:`refresh_flag_conflicts`: LD101, LD102 Expressway-C,
LD103 Unity Connection). Each finding names both declarations as its evidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from logdoctor.rules.context import Hit
from logdoctor.ucm.deploymodel import Cluster, Deployment, Expressway, KeyInfo, Unity
from logdoctor.ucm.topology import KEY_USES

__all__ = ["FLOW_LABEL", "key_mismatches", "onoff", "refresh_flag_conflicts"]

FLOW_LABEL = "OAuth with Refresh Login Flow"
"""UCM's (and Unity Connection's) enterprise parameter of the refresh login flow."""
_EXPRESSWAY_FLAG = "Authorize by OAuth token with refresh"


@dataclass(frozen=True)
class _Peer:
    """A declared server (or central cluster) compared with the cluster it belongs to."""

    name: str
    path: str
    """Its place in the deployment file (``expressway[0]``)."""
    label: str
    """How a message names it."""
    keys: dict[str, KeyInfo]
    ref: Cluster
    ref_label: str


def onoff(value: object) -> str:
    """``on`` or ``off``."""
    return "on" if value else "off"


def _both(d: Deployment, subject: str, message: str, paths: tuple[str, str]) -> Hit:
    """A hit about a declared peer whose evidence is both declarations (the peer's key, its
    cluster's)."""
    return Hit(subjects=(subject,), message=message, extra=tuple(d.evidence(p) for p in paths))


def _peers(
    d: Deployment, peers: Sequence[Expressway | Unity | Cluster], role: str
) -> Iterator[_Peer]:
    for i, p in enumerate(peers):
        if isinstance(p, Cluster):
            ref = d.cluster(p.serves) if p.serves is not None else None
            if ref is None:
                continue
            path = f"cluster[{d.cluster_index(p.name)}]"
            yield _Peer(p.name, path, f"the central cluster {p.name}", dict(p.keys), ref, ref.name)
            continue
        ref = d.cluster(p.cluster)
        if ref is None:
            continue
        yield _Peer(p.name, f"{role}[{i}]", p.name, dict(p.keys), ref, f"cluster {ref.name}")


def key_mismatches(
    d: Deployment, peers: Sequence[Expressway | Unity | Cluster], role: str
) -> Iterator[Hit]:
    """One hit per key use for which a declared peer (``peers``: the deployment's whole
    ``expressways`` or ``unity`` tuple, named by ``role`` ``expressway`` or ``unity``; or its
    central clusters, ``role`` ``imp_central``) holds another checksum than its cluster (the
    cluster a central cluster ``serves``). Subject: the peer."""
    for p in _peers(d, peers, role):
        ri = d.cluster_index(p.ref.name)
        for use in KEY_USES:
            mine, ref = p.keys.get(use), p.ref.keys.get(use)
            if mine is None or ref is None or mine.checksum is None or ref.checksum is None:
                continue
            if mine.checksum == ref.checksum:
                continue
            yield _both(
                d,
                p.name,
                f"The deployment file gives {p.label} another {use} key"
                f" ({mine.checksum[:12]}…) than {p.ref_label} ({ref.checksum[:12]}…).",
                (f"{p.path}.keys.{use}", f"cluster[{ri}].keys.{use}"),
            )


def refresh_flag_conflicts(
    d: Deployment | None, role: Literal["expressway", "unity"], *, peer_on: bool | None = None
) -> Iterator[Hit]:
    """Declared peers (``role``: the deployment's ``expressway`` or ``unity`` entries) whose
    refresh setting differs from their cluster's refresh login flow; with ``peer_on``, only
    those whose own setting is that (LD101: an Expressway on while UCM is off; LD102: off
    while on). Subject: the peer. Nothing without a deployment file."""
    if d is None:
        return
    peers: Sequence[Expressway | Unity] = d.expressways if role == "expressway" else d.unity
    for i, p in enumerate(peers):
        c = d.cluster(p.cluster)
        if c is None:
            continue
        if isinstance(p, Expressway):
            mine, label = p.refresh, _EXPRESSWAY_FLAG
            field = "authorize_by_oauth_token_with_refresh"
        else:
            mine, label, field = p.refresh_login_flow, FLOW_LABEL, "refresh_login_flow"
        want = c.parameters.refresh_login_flow
        if mine is None or want is None or mine == want:
            continue
        if peer_on is not None and mine is not peer_on:
            continue
        yield _both(
            d,
            p.name,
            f'The deployment file sets {p.name}\'s "{label}" {onoff(mine)} while cluster'
            f' {c.name}\'s "{FLOW_LABEL}" is {onoff(want)}.',
            (
                f"{role}[{i}].{field}",
                f"cluster[{d.cluster_index(c.name)}].parameters.refresh_login_flow",
            ),
        )
