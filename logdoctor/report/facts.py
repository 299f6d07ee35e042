"""Configuration facts for the report: what the deployment file declares beside what the
logs show, always both (declared only, inferred only, agree, differ).

The engine describes each inferred fact (a path such as ``parameters.refresh_login_flow``, the
subject it concerns, its value, how it was inferred and the lines behind it) and each
disagreement between the deployment file and the logs (LD104's). These are structural types:
anything with those attributes will do. What the file declares is listed by
:func:`declared_facts` in the same terms (path, subject), so the two sides meet row by row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Protocol

from logdoctor.model import Evidence
from logdoctor.report.model import ConfigFact
from logdoctor.ucm.deploymodel import Cluster, Deployment

__all__ = [
    "Declared",
    "DisagreementLike",
    "FactLike",
    "config_facts",
    "declared_facts",
    "show_value",
]


class FactLike(Protocol):
    """One thing the logs show about the deployment, and the lines that show it."""

    @property
    def path(self) -> str: ...  # noqa: D102
    @property
    def subject(self) -> str: ...  # noqa: D102
    @property
    def value(self) -> Any: ...  # noqa: D102
    @property
    def reason(self) -> str: ...  # noqa: D102
    @property
    def evidence(self) -> tuple[Evidence, ...]: ...  # noqa: D102
    @property
    def count(self) -> int: ...  # noqa: D102


class DisagreementLike(Protocol):
    """A declared value the logs contradict, and where the file declares it."""

    @property
    def declared(self) -> Any: ...  # noqa: D102
    @property
    def inferred(self) -> FactLike: ...  # noqa: D102
    @property
    def declared_at(self) -> Evidence: ...  # noqa: D102


def show_value(value: Any) -> str | None:
    """A setting's value as text: booleans as on / off, None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


@dataclass(frozen=True)
class Declared:
    """One setting the deployment file declares, in the inferred facts' terms.

    ``backs_only``: the value stands beside an inferred fact of that path and subject but
    makes no row of its own (a cluster's key beside each node's key)."""

    path: str
    subject: str
    value: Any
    at: str
    backs_only: bool = False


_SECTIONS = ("role", "parameters.", "keys.", "expressway.", "unity.", "jabber")


def _section(path: str) -> int:
    return next((i for i, p in enumerate(_SECTIONS) if path.startswith(p)), len(_SECTIONS))


def jabber_subject(
    platform: str | None, version: tuple[int, ...], mra: bool | None, push: bool | None
) -> str:
    """A Jabber group as the inference names it: ``Jabber 14.1.3 iPhone MRA push=on``."""
    ver = ".".join(str(v) for v in version)
    text = f"Jabber {ver} {platform or '?'}" + (" MRA" if mra else "")
    return text + ("" if push is None else f" push={'on' if push else 'off'}")


def declared_facts(dep: Deployment, logs_cluster: Cluster | None) -> list[Declared]:
    """Everything the deployment file declares that the logs can show: node roles, each
    cluster's parameters and keys (the logs' cluster as subject ``""``), each Expressway's
    and Unity Connection server's refresh setting and keys, and the Jabber groups."""
    name = PurePath(dep.path).name
    out: list[Declared] = []

    def add(path: str, subject: str, value: Any, key: str, backs_only: bool = False) -> None:
        if value is not None:
            out.append(Declared(path, subject, value, f"{name}:{dep.line_of(key)}", backs_only))

    for ci, c in enumerate(dep.clusters):
        central = c.role != "telephony"
        for node in c.ucm_nodes:
            key = "publisher" if node == c.publisher else "subscribers"
            add("role", node, "imp_central" if central else "ucm", f"cluster[{ci}].{key}")
        for node in c.imp:
            add("role", node, "imp_central" if central else "imp", f"cluster[{ci}].imp")
        subject = "" if c is logs_cluster else c.name
        for param in (
            "refresh_login_flow",
            "implicit_grant",
            "access_token_expiry_minutes",
            "refresh_token_expiry_days",
        ):
            value = getattr(c.parameters, param)
            add(f"parameters.{param}", subject, value, f"cluster[{ci}].parameters.{param}")
        for use, k in c.keys.items():
            add(f"keys.{use}", subject, k.checksum, f"cluster[{ci}].keys.{use}")
            for node in c.nodes:
                add(f"keys.{use}", node, k.checksum, f"cluster[{ci}].keys.{use}", True)
    for i, e in enumerate(dep.expressways):
        add("role", e.name, "expressway", f"expressway[{i}].name")
        add(
            "expressway.authorize_by_oauth_token_with_refresh",
            e.name,
            e.refresh,
            f"expressway[{i}].authorize_by_oauth_token_with_refresh",
        )
        for use, k in e.keys.items():
            add(f"keys.{use}", e.name, k.checksum, f"expressway[{i}].keys.{use}")
    for i, u in enumerate(dep.unity):
        add("role", u.name, "unity", f"unity[{i}].name")
        add(
            "unity.refresh_login_flow",
            u.name,
            u.refresh_login_flow,
            f"unity[{i}].refresh_login_flow",
        )
        for use, k in u.keys.items():
            add(f"keys.{use}", u.name, k.checksum, f"unity[{i}].keys.{use}")
    for i, g in enumerate(dep.jabber):
        add("jabber", jabber_subject(g.platform, g.version, g.mra, g.push), g.count, f"jabber[{i}]")
    return out


def _key(f: FactLike) -> tuple[str, str, str | None]:
    return (f.path, f.subject, show_value(f.value))


def _same(path: str, declared: Any, inferred: Any) -> bool | None:
    """Agreement where it is not plain equality: a Jabber group seen on fewer devices than
    the file counts installations agrees."""
    if path == "jabber" and isinstance(declared, int) and isinstance(inferred, int):
        return inferred <= declared
    return None


def config_facts(
    facts: Iterable[FactLike],
    disagreements: Iterable[DisagreementLike] = (),
    declared: Iterable[Declared] = (),
) -> tuple[ConfigFact, ...]:
    """One :class:`ConfigFact` per setting the logs show or the file declares.

    Beside each inferred fact stands the declared value: from the disagreement about it
    (LD104's, with the file and line), else from ``declared`` (same path and subject).
    What the file declares and the logs do not show is a ``declared only`` row. A role the
    logs only guess (``unknown``) counts as not shown. Rows come by section (roles,
    parameters, keys, Expressways, Unity Connection, Jabber), inferred ones first.
    """
    by_fact = {_key(d.inferred): d for d in disagreements}
    decl = {(d.path, d.subject): d for d in declared}
    used: set[tuple[str, str]] = set()
    out: list[ConfigFact] = []
    seen: set[tuple[str, str, str | None]] = set()
    for f in [*facts, *(d.inferred for d in by_fact.values())]:
        key = _key(f)
        if key in seen:
            continue
        seen.add(key)
        d = by_fact.get(key)
        dd = decl.get((f.path, f.subject))
        if dd is not None:
            used.add((f.path, f.subject))
        if d is not None:
            want: Any = d.declared
            at: str | None = f"{PurePath(d.declared_at.file).name}:{d.declared_at.line}"
        elif dd is not None:
            want, at = dd.value, dd.at
        else:
            want, at = None, None
        value = None if f.path == "role" and f.value == "unknown" else f.value
        out.append(
            ConfigFact(
                name=f.path,
                subject=f.subject,
                declared=show_value(want),
                inferred=show_value(value),
                reason=f.reason,
                evidence=tuple(f.evidence),
                evidence_total=max(f.count, len(f.evidence)),
                declared_at=at,
                same=_same(f.path, want, value),
            )
        )
    for dd in declared:
        if dd.backs_only or (dd.path, dd.subject) in used:
            continue
        used.add((dd.path, dd.subject))
        out.append(
            ConfigFact(
                name=dd.path,
                subject=dd.subject,
                declared=show_value(dd.value),
                declared_at=dd.at,
            )
        )
    out.sort(key=lambda c: _section(c.name))
    return tuple(out)
