"""The authz keys as the logs show them: the key each node held last, and the cluster's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import polars as pl

from logdoctor.analysis.events import Events
from logdoctor.analysis.inference.fact import Fact, make_fact
from logdoctor.ucm.deploymodel import KeyInfo
from logdoctor.ucm.topology import KEY_USES

__all__ = ["keys"]


def keys(
    ev: Events, roles: Mapping[str, str], publisher: str | None
) -> tuple[dict[tuple[str, str], KeyInfo], list[Fact]]:
    """The key each node held last (``(node, use) -> KeyInfo``), and the facts: per use the
    cluster's key (the publisher's, else most UCM nodes') and each node's."""
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
        facts.append(make_fact(f"keys.{use}", "", checksum, reason, support))
        for n, k in holders.items():
            facts.append(
                make_fact(
                    f"keys.{use}",
                    n,
                    k.checksum,
                    "the last key event of this node",
                    rows.filter((pl.col("node") == n) & (pl.col("param") == use)).tail(1),
                )
            )
    return node_keys, facts
