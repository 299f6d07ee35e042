"""The deployment as the logs show it, with the lines each fact came from.

Where no deployment file is given, rules work from what the logs prove: refresh tokens were
issued, so the refresh login flow is on; an authorize request was refused with
``implicit_disabled``, so the implicit grant is off; ``via=expc1`` names an Expressway. Each
inferred :class:`Fact` keeps the log lines it rests on, so a report can show *why* logdoctor
believes it. :func:`compare` lists where a declared file and the logs disagree.

Assumption: one telephony cluster's logs at a time (its publisher, subscribers and local IM
and Presence nodes, possibly with other clusters' nodes that only validate tokens).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from logdoctor.analysis.events import Events
from logdoctor.analysis.evidence import from_rows
from logdoctor.model import VIA_KINDS, Evidence
from logdoctor.ucm.deployment import Cluster, Deployment, KeyInfo
from logdoctor.ucm.jabber import parse_agent
from logdoctor.ucm.topology import KEY_USES

__all__ = [
    "Disagreement",
    "Fact",
    "Inferred",
    "compare",
    "infer",
    "name_role",
]

FACT_EVIDENCE = 10
"""At most this many lines are kept per fact (the count is exact)."""

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


@dataclass(frozen=True)
class Fact:
    """One thing the logs show about the deployment, and the lines that show it."""

    path: str
    """What the fact is about, in the deployment file's terms
    (``parameters.refresh_login_flow``, ``expressway.authorize_by_oauth_token_with_refresh``,
    ``keys.signing``, ``role``...)."""
    subject: str
    """The cluster, node or server it concerns (``""`` for the cluster whose logs these are)."""
    value: Any
    reason: str
    """How it was inferred, in one sentence."""
    evidence: tuple[Evidence, ...] = ()
    count: int = 0
    """How many lines support it (evidence keeps at most FACT_EVIDENCE)."""


@dataclass(frozen=True)
class Inferred:
    """The deployment as inferred from the logs."""

    facts: tuple[Fact, ...] = ()
    roles: Mapping[str, str] = field(default_factory=dict)
    publisher: str | None = None
    node_keys: Mapping[tuple[str, str], KeyInfo] = field(default_factory=dict)
    """(node, use) -> the key the node held last."""

    def fact(self, path: str, subject: str = "") -> Fact | None:
        """The fact about ``path`` (and ``subject``), if one was inferred."""
        return next((f for f in self.facts if f.path == path and f.subject == subject), None)

    def value(self, path: str, subject: str = "") -> Any:
        """The inferred value of ``path`` (None when the logs do not show it)."""
        f = self.fact(path, subject)
        return None if f is None else f.value

    def names(self, role: str) -> list[str]:
        """Names inferred to have ``role``, sorted."""
        return sorted(n for n, r in self.roles.items() if r == role)

    @property
    def cluster_keys(self) -> dict[str, KeyInfo]:
        """use -> the key the cluster's publisher (or most UCM nodes) held last."""
        out: dict[str, KeyInfo] = {}
        for use in KEY_USES:
            f = self.fact(f"keys.{use}")
            if f is not None:
                out[use] = KeyInfo(version=None, checksum=str(f.value))
        return out


def _fact(path: str, subject: str, value: Any, reason: str, rows: pl.DataFrame) -> Fact:
    return Fact(
        path=path,
        subject=subject,
        value=value,
        reason=reason,
        evidence=from_rows(rows, FACT_EVIDENCE),
        count=rows.height,
    )


def _on(value: str | None) -> bool | None:
    v = (value or "").strip().lower()
    if v in ("on", "true", "enabled", "enable", "1", "yes"):
        return True
    if v in ("off", "false", "disabled", "disable", "0", "no"):
        return False
    return None


def _last_change(ev: Events, param: str) -> pl.DataFrame:
    return ev.of("config.changed").filter(pl.col("param") == param).tail(1)


EDGE_KINDS = ("edge.request", "edge.response", "edge.access", "edge.alarm", "edge.config.changed")
"""Kinds only an Expressway's own log holds: the node that writes them is an Expressway."""


def infer(events: Events | pl.DataFrame) -> Inferred:
    """Infer the deployment from an event table."""
    ev = events if isinstance(events, Events) else Events(events)
    facts: list[Fact] = []
    roles, role_facts, publisher = _roles(ev)
    facts.extend(role_facts)
    facts.extend(_parameters(ev))
    node_keys, key_facts = _keys(ev, roles, publisher)
    facts.extend(key_facts)
    facts.extend(_expressways(ev, roles))
    facts.extend(_jabber(ev))
    facts.extend(_trace(ev))
    return Inferred(facts=tuple(facts), roles=roles, publisher=publisher, node_keys=node_keys)


# -- roles ---------------------------------------------------------------------------------------


def _roles(ev: Events) -> tuple[dict[str, str], list[Fact], str | None]:
    roles: dict[str, str] = {}
    facts: list[Fact] = []

    def assign(name: str | None, role: str, reason: str, rows: pl.DataFrame) -> None:
        if not name or name in roles:
            return
        roles[name] = role
        facts.append(_fact("role", name, role, reason, rows))

    regen = ev.of("key.regenerated")
    replicated = ev.of("key.replicated")
    publisher: str | None = None
    if regen.height:
        publisher = str(regen["node"][-1])
        assign(
            publisher,
            "ucm",
            "it regenerated the authz keys (only a UCM publisher does)",
            regen.filter(pl.col("node") == publisher),
        )
    elif replicated.height and replicated["server"].drop_nulls().len():
        publisher = str(replicated["server"].drop_nulls()[-1])
        assign(
            publisher,
            "ucm",
            "nodes received authz keys from it (the publisher)",
            replicated.filter(pl.col("server") == publisher),
        )
    restarts = ev.restarts
    for service, role, why in (
        ("xcp", "imp", "the Cisco XCP Authentication Service runs on it (IM and Presence)"),
        ("callmanager", "ucm", "the Cisco CallManager service runs on it"),
    ):
        rows = restarts.filter(
            pl.col("param").str.to_lowercase().str.replace_all(" ", "").str.contains(service)
        )
        for name in rows["server"].fill_null(rows["node"]).unique(maintain_order=True):
            assign(name, role, why, rows.filter(pl.col("server").fill_null(pl.col("node")) == name))
    loaded = ev.of("key.loaded")
    xcp = loaded.filter(pl.col("server").str.to_lowercase().str.contains("xcp"))
    for name in xcp["node"].unique(maintain_order=True):
        assign(
            name,
            "imp",
            "its Cisco XCP Authentication Service loads authz keys (IM and Presence)",
            xcp.filter(pl.col("node") == name),
        )
    issuing = ev.of("code.issued", "token.access.issued")
    for name in issuing["node"].unique(maintain_order=True):
        assign(
            name,
            "ucm",
            "it issued OAuth tokens (a UCM node)",
            issuing.filter(pl.col("node") == name),
        )
    for kinds, role, why in (
        (EDGE_KINDS, "expressway", "it writes an Expressway diagnostic log (loggingsnapshot)"),
        (("authz.keys.mismatch",), "unity", "it raised EvtAuthzKeyRotation (Unity Connection)"),
    ):
        own = ev.of(*kinds)
        for name in own["node"].unique(maintain_order=True):
            assign(name, role, why, own.filter(pl.col("node") == name).head(FACT_EVIDENCE))
    via = ev.of(*VIA_KINDS)
    via = pl.concat([via, ev.grant_refusals], how="vertical")
    via = via.filter(pl.col("server").is_not_null() & (pl.col("param") != "admin").fill_null(True))
    for name in via["server"].unique(maintain_order=True):
        guess = name_role(name)
        if guess not in ("unknown", "expressway"):
            continue
        assign(
            name,
            "expressway",
            "Jabber requests came through it (via=), as through an Expressway-C",
            via.filter(pl.col("server") == name),
        )
    others = pl.concat(
        [
            ev.of("token.validated").select("server", "node"),
            ev.validation_failures.select("server", "node"),
        ],
        how="vertical",
    )
    validating = others["server"].drop_nulls().unique(maintain_order=True).to_list()
    for name in [*validating, *ev.frame["node"].unique(maintain_order=True).to_list()]:
        if name and name not in roles:
            role = name_role(name)
            rows = ev.of("token.validated", "token.rejected").filter(pl.col("server") == name)
            if rows.height == 0:
                rows = ev.frame.filter(pl.col("node") == name).head(FACT_EVIDENCE)
            assign(name, role, "guessed from its name", rows)
    if publisher is None:
        named = sorted(n for n, r in roles.items() if r == "ucm" and "pub" in n.lower())
        publisher = named[0] if named else None
    return roles, facts, publisher


# -- parameters ----------------------------------------------------------------------------------


def _after(frame: pl.DataFrame, t: datetime | None) -> pl.DataFrame:
    return frame if t is None else frame.filter(pl.col("time") >= t)


def _parameters(ev: Events) -> list[Fact]:
    facts: list[Fact] = []
    # refresh login flow
    change = _last_change(ev, "refresh_login_flow")
    t_change = change["time"][0] if change.height else None
    issued = _after(ev.of("token.refresh.issued"), t_change)
    disabled = _after(ev.grant_refusals.filter(pl.col("reason") == "refresh_disabled"), t_change)
    if issued.height:
        facts.append(
            _fact(
                "parameters.refresh_login_flow",
                "",
                True,
                "refresh tokens were issued" + (" after the last change" if t_change else ""),
                pl.concat([change, issued], how="vertical"),
            )
        )
    elif change.height and _on(change["value"][0]) is not None:
        facts.append(
            _fact(
                "parameters.refresh_login_flow",
                "",
                _on(change["value"][0]),
                "the enterprise parameter was changed to this value",
                change,
            )
        )
    elif disabled.height:
        facts.append(
            _fact(
                "parameters.refresh_login_flow",
                "",
                False,
                "refresh grants were refused because the refresh login flow is disabled",
                disabled,
            )
        )
    # implicit grant
    change = _last_change(ev, "implicit_grant")
    t_change = change["time"][0] if change.height else None
    implicit = _after(ev.of("token.access.issued").filter(pl.col("grant") == "implicit"), t_change)
    refused = _after(
        ev.of("authorize.rejected").filter(pl.col("reason") == "implicit_disabled"), t_change
    )
    t_imp = implicit["time"].max() if implicit.height else None
    t_ref = refused["time"].max() if refused.height else None
    if implicit.height and (t_ref is None or (t_imp is not None and t_imp >= t_ref)):  # type: ignore[operator]
        facts.append(
            _fact(
                "parameters.implicit_grant",
                "",
                True,
                "access tokens were issued by the implicit grant",
                pl.concat([change, implicit], how="vertical"),
            )
        )
    elif refused.height:
        facts.append(
            _fact(
                "parameters.implicit_grant",
                "",
                False,
                "implicit-grant requests were refused because the grant is disabled",
                pl.concat([change, refused], how="vertical"),
            )
        )
    elif change.height and _on(change["value"][0]) is not None:
        facts.append(
            _fact(
                "parameters.implicit_grant",
                "",
                _on(change["value"][0]),
                "the enterprise parameter was changed to this value",
                change,
            )
        )
    # timers
    for param, kind, unit, label in (
        ("access_token_expiry_minutes", "token.access.issued", 60, "access tokens"),
        ("refresh_token_expiry_days", "token.refresh.issued", 86400, "refresh tokens"),
    ):
        change = _last_change(ev, param)
        t_change = change["time"][0] if change.height else None
        tokens = _after(ev.of(kind), t_change).filter(pl.col("value").is_not_null()).tail(500)
        seconds = tokens["value"].cast(pl.Int64, strict=False).drop_nulls()
        if seconds.len():
            common = Counter(seconds.to_list()).most_common(1)[0][0]
            value = max(1, round(common / unit))
            rows = tokens.filter(pl.col("value").cast(pl.Int64, strict=False) == common)
            facts.append(
                _fact(
                    f"parameters.{param}",
                    "",
                    value,
                    f"{label} were issued with expires_in={common} s"
                    + (" after the last change" if t_change else ""),
                    pl.concat([change, rows], how="vertical"),
                )
            )
        elif change.height:
            v = change["value"].cast(pl.Int64, strict=False)[0]
            if v is not None:
                facts.append(
                    _fact(
                        f"parameters.{param}",
                        "",
                        int(v),
                        "the enterprise parameter was changed to this value",
                        change,
                    )
                )
    return facts


# -- keys ----------------------------------------------------------------------------------------


def _keys(
    ev: Events, roles: Mapping[str, str], publisher: str | None
) -> tuple[dict[tuple[str, str], KeyInfo], list[Fact]]:
    rows = ev.of("key.regenerated", "key.replicated", "key.loaded").filter(
        pl.col("param").is_in(list(KEY_USES)) & pl.col("key").is_not_null()
    )
    node_keys: dict[tuple[str, str], KeyInfo] = {}
    facts: list[Fact] = []
    if rows.height == 0:
        return node_keys, facts
    last = rows.group_by(["node", "param"], maintain_order=True).agg(pl.all().last())
    for r in last.sort(["node", "param"]).iter_rows(named=True):
        version = None
        try:
            version = int(r["value"]) if r["value"] is not None else None
        except ValueError:
            version = None
        node_keys[(r["node"], r["param"])] = KeyInfo(version=version, checksum=r["key"])
    for use in KEY_USES:
        holders = {n: k for (n, u), k in node_keys.items() if u == use}
        if not holders:
            continue
        if publisher is not None and publisher in holders:
            checksum = holders[publisher].checksum
            reason = f"the publisher {publisher} holds it last"
        else:
            ucm = [k.checksum for n, k in holders.items() if roles.get(n) == "ucm"]
            pool = ucm or [k.checksum for k in holders.values()]
            checksum = Counter(pool).most_common(1)[0][0]
            reason = "most UCM nodes hold it last"
        support = rows.filter((pl.col("param") == use) & (pl.col("key") == checksum))
        facts.append(_fact(f"keys.{use}", "", checksum, reason, support))
        for n, k in holders.items():
            facts.append(
                _fact(
                    f"keys.{use}",
                    n,
                    k.checksum,
                    "the last key event of this node",
                    rows.filter((pl.col("node") == n) & (pl.col("param") == use)).tail(1),
                )
            )
    return node_keys, facts


# -- expressways, clients, trace -----------------------------------------------------------------


def _expressways(ev: Events, roles: Mapping[str, str]) -> list[Fact]:
    facts: list[Fact] = []
    names = sorted(n for n, r in roles.items() if r == "expressway")
    if not names:
        return facts
    refresh_rows = pl.concat(
        [
            ev.of("token.refreshed", "token.refresh.issued"),
            ev.grant_refusals.filter(pl.col("grant") == "refresh_token"),
            ev.of("authorize.request").filter(pl.col("grant") == "code"),
        ],
        how="vertical",
    )
    implicit_rows = ev.of("authorize.request").filter(pl.col("grant") == "token")
    for name in names:
        on_rows = refresh_rows.filter(pl.col("server") == name).sort("time")
        if on_rows.height:
            facts.append(
                _fact(
                    "expressway.authorize_by_oauth_token_with_refresh",
                    name,
                    True,
                    "Jabber used the refresh login flow through it",
                    on_rows,
                )
            )
            continue
        imp = implicit_rows.filter(pl.col("server") == name)
        capable = [
            a
            for a in imp["agent"].drop_nulls().unique().to_list()
            if parse_agent(a).refresh_capable
        ]
        if capable:
            facts.append(
                _fact(
                    "expressway.authorize_by_oauth_token_with_refresh",
                    name,
                    False,
                    "Jabber releases that can use refresh logins used the implicit grant "
                    "through it",
                    imp.filter(pl.col("agent").is_in(capable)),
                )
            )
    return facts


def _jabber(ev: Events) -> list[Fact]:
    req = ev.of("authorize.request").filter(
        pl.col("device").is_not_null() & pl.col("agent").is_not_null()
    )
    if req.height == 0:
        return []
    last = req.group_by("device", maintain_order=True).agg(pl.all().last())
    groups: dict[tuple[str, str, bool, str], list[str]] = {}
    for device, agent, server in last.select("device", "agent", "server").iter_rows():
        a = parse_agent(agent)
        if not a.is_jabber:
            continue
        key = (
            a.platform or "?",
            ".".join(str(v) for v in a.version or ()),
            server is not None,
            "?" if a.push is None else ("on" if a.push else "off"),
        )
        groups.setdefault(key, []).append(device)
    facts = []
    for (platform, version, mra, push), devices in sorted(groups.items()):
        subject = (
            f"Jabber {version} {platform}"
            + (" MRA" if mra else "")
            + (f" push={push}" if push != "?" else "")
        )
        facts.append(
            _fact(
                "jabber",
                subject,
                len(devices),
                "devices whose last authorize request declared this client",
                last.filter(pl.col("device").is_in(devices)),
            )
        )
    return facts


def _trace(ev: Events) -> list[Fact]:
    rows = ev.of("trace.level")
    facts = []
    for node in sorted(rows["node"].unique().to_list()):
        last = rows.filter(pl.col("node") == node).tail(1)
        facts.append(
            _fact(
                "samltrace_level",
                node,
                str(last["value"][0] or "").upper(),
                "the last samltrace level change on this node",
                last,
            )
        )
    return facts


# -- declared vs inferred ------------------------------------------------------------------------


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
