"""Where a deployment file and the logs disagree (:func:`compare`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logdoctor.analysis.inference.fact import Fact, Inferred
from logdoctor.model import Evidence
from logdoctor.ucm.deploymodel import Cluster, Deployment

__all__ = ["Disagreement", "compare", "logs_cluster"]


@dataclass(frozen=True)
class Disagreement:
    """A declared value the logs contradict."""

    path: str
    """The key path in the deployment file (``cluster[0].parameters.implicit_grant``)."""
    subject: str
    declared: Any
    inferred: Fact
    declared_at: Evidence


def logs_cluster(declared: Deployment, inferred: Inferred) -> Cluster | None:
    """The declared telephony cluster the logs belong to (by node names; the only one if one)."""
    seen = set(inferred.roles)
    best = None
    for c in declared.telephony:
        if seen & set(c.nodes):
            return c
        best = best or c
    return best if len(declared.telephony) == 1 else None


def _show(value: Any) -> Any:
    return ("on" if value else "off") if isinstance(value, bool) else value


def compare(declared: Deployment, inferred: Inferred) -> list[Disagreement]:
    """Where the deployment file says one thing and the logs show another."""
    out: list[Disagreement] = []
    cluster = logs_cluster(declared, inferred)
    if cluster is not None:
        ci = declared.cluster_index(cluster.name)
        for name in (
            "refresh_login_flow",
            "implicit_grant",
            "access_token_expiry_minutes",
            "refresh_token_expiry_days",
        ):
            want = getattr(cluster.parameters, name)
            fact = inferred.fact(f"parameters.{name}")
            if want is None or fact is None or fact.value == want:
                continue
            path = f"cluster[{ci}].parameters.{name}"
            out.append(Disagreement(path, cluster.name, _show(want), fact, declared.evidence(path)))
    for c in declared.clusters:
        ci = declared.cluster_index(c.name)
        for use, key in c.keys.items():
            if key.checksum is None:
                continue
            held = [
                (n, inferred.node_keys[(n, use)]) for n in c.nodes if (n, use) in inferred.node_keys
            ]
            if not held:
                continue
            node, got = next(((n, k) for n, k in held if n == c.publisher), held[0])
            if got.checksum == key.checksum:
                continue
            fact = inferred.fact(f"keys.{use}", node)
            if fact is None:
                continue
            path = f"cluster[{ci}].keys.{use}"
            out.append(Disagreement(path, c.name, key.checksum, fact, declared.evidence(path)))
    for i, e in enumerate(declared.expressways):
        fact = inferred.fact("expressway.authorize_by_oauth_token_with_refresh", e.name)
        if e.refresh is None or fact is None or fact.value == e.refresh:
            continue
        path = f"expressway[{i}].authorize_by_oauth_token_with_refresh"
        out.append(Disagreement(path, e.name, _show(e.refresh), fact, declared.evidence(path)))
    return out
