"""Each node's role as the logs show it, and the publisher.

The evidence is tried strongest first, and the first role found for a name stands: key
regeneration or replication (the publisher), services restarted on it (XCP: IM and Presence,
CallManager: UCM), XCP loading keys, issuing tokens (UCM), writing an Expressway's own log or
raising Unity Connection's EvtAuthzKeyRotation, carrying ``via=`` requests (Expressway), and
last the host name alone (:func:`name_role`).
"""

from __future__ import annotations

import re

import polars as pl

from logdoctor.analysis.events import Events
from logdoctor.analysis.inference.fact import FACT_EVIDENCE, Fact, fact_at, make_fact
from logdoctor.model import VIA_KINDS

__all__ = ["EDGE_KINDS", "name_role", "roles"]

EDGE_KINDS = ("edge.request", "edge.response", "edge.access", "edge.alarm", "edge.config.changed")
"""Kinds only an Expressway's own log holds: the node that writes them is an Expressway."""

_NAME_ROLES = (
    (re.compile(r"(?i)central"), "imp_central"),
    (re.compile(r"(?i)(?:^|[^a-z])(?:imp|cup|cups|presence)"), "imp"),
    (re.compile(r"(?i)(?:^|[^a-z])(?:cuc(?!m)|unity|uc?xn|vmail|voicemail)"), "unity"),
    (re.compile(r"(?i)(?:^|[^a-z])(?:expc|expe|exp|vcs|expressway|mra)"), "expressway"),
    (re.compile(r"(?i)(?:^|[^a-z])(?:ucm|cucm|cm|pub|sub|ccm)"), "ucm"),
)


def name_role(name: str) -> str:
    """A role guessed from a host name alone (the last resort): imp_central, imp, unity,
    expressway, ucm or unknown."""
    for rx, role in _NAME_ROLES:
        if rx.search(name):
            if role == "imp_central" and not re.search(r"(?i)imp|cup|presence", name):
                continue
            return role
    return "unknown"


class _Roles:
    """Roles found so far (the first one found for a name stands), with their facts."""

    def __init__(self) -> None:
        self.roles: dict[str, str] = {}
        self.facts: list[Fact] = []

    def assign(self, name: str | None, role: str, reason: str, rows: pl.DataFrame) -> None:
        if not name or name in self.roles:
            return
        self.roles[name] = role
        self.facts.append(make_fact("role", name, role, reason, rows))

    def each_at(
        self, ev: Events, at: pl.Series, column: str, role: str, reason: str, limit: int = 0
    ) -> None:
        """:meth:`each` of the rows of ``ev.frame`` at positions ``at`` (in that order), reading
        only ``column`` of them (and every column of the few rows shown as evidence); with
        ``limit``, each name's fact rests on its first ``limit`` rows only."""
        names = ev.frame.select(pl.col(column).gather(at), at.alias("_row"))
        for name in names.get_column(column).unique(maintain_order=True):
            if not name or name in self.roles:
                continue
            rows = names.filter(pl.col(column) == name).get_column("_row")
            self.assign_at(ev, name, role, reason, rows.head(limit) if limit else rows)

    def assign_at(self, ev: Events, name: str, role: str, reason: str, at: pl.Series) -> None:
        """:meth:`assign`, its fact resting on the rows of ``ev.frame`` at ``at``."""
        if name and name not in self.roles:
            self.roles[name] = role
            self.facts.append(fact_at(ev, "role", name, role, reason, at))

    def each(self, rows: pl.DataFrame, column: str, role: str, reason: str) -> None:
        """Every name of ``column`` in ``rows`` (in order) has ``role``, shown by its rows."""
        for name in rows[column].unique(maintain_order=True):
            self.assign(name, role, reason, rows.filter(pl.col(column) == name))


def _publisher(ev: Events, found: _Roles) -> str | None:
    """The node that regenerated the keys last, else the one that replicated them last."""
    regen = ev.of("key.regenerated")
    replicated = ev.of("key.replicated")
    publisher: str | None = None
    if regen.height:
        publisher = str(regen["node"][-1])
        found.assign(
            publisher,
            "ucm",
            "it regenerated the authz keys (only a UCM publisher does)",
            regen.filter(pl.col("node") == publisher),
        )
    elif replicated.height and replicated["server"].drop_nulls().len():
        publisher = str(replicated["server"].drop_nulls()[-1])
        found.assign(
            publisher,
            "ucm",
            "nodes received authz keys from it (the publisher)",
            replicated.filter(pl.col("server") == publisher),
        )
    return publisher


def _services(ev: Events, found: _Roles) -> None:
    """Nodes that run a service only one role runs (restarts, XCP loading keys)."""
    restarts = ev.restarts
    for service, role, why in (
        ("xcp", "imp", "the Cisco XCP Authentication Service runs on it (IM and Presence)"),
        ("callmanager", "ucm", "the Cisco CallManager service runs on it"),
    ):
        rows = restarts.filter(
            pl.col("param")
            .cast(pl.String)
            .str.to_lowercase()
            .str.replace_all(" ", "")
            .str.contains(service)
        )
        for name in rows["server"].fill_null(rows["node"]).unique(maintain_order=True):
            found.assign(
                name, role, why, rows.filter(pl.col("server").fill_null(pl.col("node")) == name)
            )
    loaded = ev.of("key.loaded")
    xcp = loaded.filter(pl.col("server").cast(pl.String).str.to_lowercase().str.contains("xcp"))
    why = "its Cisco XCP Authentication Service loads authz keys (IM and Presence)"
    found.each(xcp, "node", "imp", why)


def _traffic(ev: Events, found: _Roles) -> None:
    """Nodes that issue tokens (UCM) and servers Jabber requests came through (Expressway)."""
    # Hundreds of thousands of rows each: only the column a name is read from is gathered.
    issuing = ev.positions(("code.issued", "token.access.issued"))
    found.each_at(ev, issuing, "node", "ucm", "it issued OAuth tokens (a UCM node)")
    for kinds, role, why in (
        (EDGE_KINDS, "expressway", "it writes an Expressway diagnostic log (loggingsnapshot)"),
        (("authz.keys.mismatch",), "unity", "it raised EvtAuthzKeyRotation (Unity Connection)"),
    ):
        found.each_at(ev, ev.positions(kinds), "node", role, why, limit=FACT_EVIDENCE)
    # The via kinds' rows in time order, then the grant refusals' (as they were concatenated).
    refusals = ev.narrow(["token.rejected"], ["grant"]).get_column("grant").is_not_null()
    at = pl.concat([ev.positions(VIA_KINDS), ev.positions(["token.rejected"]).filter(refusals)])
    via = (
        ev.frame.select(pl.col("server", "param").gather(at), at.alias("_row"))
        .filter(pl.col("server").is_not_null() & (pl.col("param") != "admin").fill_null(True))
        .drop("param")
    )
    edges = [n for n in via["server"].unique() if name_role(n) in ("unknown", "expressway")]
    found.each_at(
        ev,
        via.filter(pl.col("server").is_in(edges)).get_column("_row"),
        "server",
        "expressway",
        "Jabber requests came through it (via=), as through an Expressway-C",
    )


def _by_name(ev: Events, found: _Roles) -> None:
    """Every other server that validates tokens, and every node: by its name alone."""
    others = pl.concat(
        [
            ev.narrow(["token.validated"], ["server"]).get_column("server"),
            ev.validation_failures.get_column("server"),
        ]
    )
    validating = others.drop_nulls().unique(maintain_order=True).to_list()
    names = [*validating, *ev.frame["node"].unique(maintain_order=True).to_list()]
    if all(not name or name in found.roles for name in names):
        return
    at = ev.positions(("token.validated", "token.rejected"))
    servers = ev.frame.select(pl.col("server").gather(at), at.alias("_row"))
    for name in names:
        if name and name not in found.roles:
            rows = servers.filter(pl.col("server") == name).get_column("_row")
            if rows.len() == 0:
                first = pl.arg_where(pl.col("node") == name).head(FACT_EVIDENCE)
                rows = ev.frame.select(first.cast(pl.UInt32).alias("_row")).to_series()
            found.assign_at(ev, name, name_role(name), "guessed from its name", rows)


def roles(ev: Events) -> tuple[dict[str, str], list[Fact], str | None]:
    """Each name's role, the facts that show them, and the publisher (the node that
    regenerated or replicated the keys, else the first UCM node with ``pub`` in its name)."""
    found = _Roles()
    publisher = _publisher(ev, found)
    _services(ev, found)
    _traffic(ev, found)
    _by_name(ev, found)
    if publisher is None:
        named = sorted(n for n, r in found.roles.items() if r == "ucm" and "pub" in n.lower())
        publisher = named[0] if named else None
    return found.roles, found.facts, publisher
