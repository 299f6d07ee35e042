"""What the logs show about the edges and the clients: Expressways' refresh setting, the
Jabber releases in use, and each node's SAML trace level."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from logdoctor.analysis.events import Events
from logdoctor.analysis.inference.fact import Fact, make_fact
from logdoctor.ucm.jabber import parse_agent

__all__ = ["expressways", "jabber", "trace"]


def expressways(ev: Events, roles: Mapping[str, str]) -> list[Fact]:
    """Per Expressway: whether it lets Jabber use the refresh login flow (it was used through
    it; or refresh-capable releases used the implicit grant through it)."""
    facts: list[Fact] = []
    names = sorted(n for n, r in roles.items() if r == "expressway")
    if not names:
        return facts
    refresh_rows = pl.concat(
        [
            # Only these names' rows (each is filtered from these below), not every column
            # of every refresh.
            ev.where(["token.refreshed", "token.refresh.issued"], pl.col("server").is_in(names)),
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
                make_fact(
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
                make_fact(
                    "expressway.authorize_by_oauth_token_with_refresh",
                    name,
                    False,
                    "Jabber releases that can use refresh logins used the implicit grant "
                    "through it",
                    imp.filter(pl.col("agent").is_in(capable)),
                )
            )
    return facts


def jabber(ev: Events) -> list[Fact]:
    """Devices per Jabber client (platform, release, MRA, push) by their last authorize
    request."""
    req = ev.of("authorize.request").filter(
        pl.col("device").is_not_null() & pl.col("agent").is_not_null()
    )
    if req.height == 0:
        return []
    last = req.group_by("device", maintain_order=True).agg(pl.all().last())
    # Each distinct agent is parsed once (not once per device); the devices are then grouped
    # by client in polars, each group's devices in the order of ``last``.
    described: dict[str, tuple[str, str, str]] = {}
    for text in last["agent"].unique().to_list():
        a = parse_agent(text)
        if a.is_jabber:
            described[text] = (
                a.platform or "?",
                ".".join(str(v) for v in a.version or ()),
                "?" if a.push is None else ("on" if a.push else "off"),
            )
    if not described:
        return []
    agent = pl.col("agent")
    keyed = last.filter(agent.is_in(list(described))).select(
        *(
            agent.replace_strict(
                {k: v[i] for k, v in described.items()}, return_dtype=pl.String
            ).alias(name)
            for i, name in enumerate(("platform", "version", "push"))
        ),
        pl.col("server").is_not_null().alias("mra"),
        "device",
    )
    by_client = keyed.group_by("platform", "version", "mra", "push").agg("device")
    groups: dict[tuple[str, str, bool, str], list[str]] = {
        (platform, version, mra, push): devices
        for platform, version, mra, push, devices in by_client.iter_rows()
    }
    facts = []
    for (platform, version, mra, push), devices in sorted(groups.items()):
        subject = (
            f"Jabber {version} {platform}"
            + (" MRA" if mra else "")
            + (f" push={push}" if push != "?" else "")
        )
        facts.append(
            make_fact(
                "jabber",
                subject,
                len(devices),
                "devices whose last authorize request declared this client",
                last.filter(pl.col("device").is_in(devices)),
            )
        )
    return facts


def trace(ev: Events) -> list[Fact]:
    """Each node's last samltrace level."""
    rows = ev.of("trace.level")
    facts = []
    for node in sorted(rows["node"].unique().to_list()):
        last = rows.filter(pl.col("node") == node).tail(1)
        facts.append(
            make_fact(
                "samltrace_level",
                node,
                str(last["value"][0] or "").upper(),
                "the last samltrace level change on this node",
                last,
            )
        )
    return facts
