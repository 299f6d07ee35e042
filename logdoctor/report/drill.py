"""The JSON-ready data of the page's script: per-user drill-downs (events and token lineage)
and the index of the users beyond the table, for the filter.

A user's drill-down events hold the three sides of each sign-in: the client (the user's Jabber
PRT), the edge (Expressway lines, their user joined by Txn-id, TrackingID, device or time:
:func:`logdoctor.analysis.usertimeline.with_edge_users`) and the server; each event carries
its side.

Every string goes through :func:`~logdoctor.report.text.neutral`; the page parses this data
from ``application/json`` blocks and only ever sets it as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl

from logdoctor.analysis.usertimeline import side_name
from logdoctor.model import EventKind
from logdoctor.report import aggregate as agg
from logdoctor.report.model import Limits
from logdoctor.report.text import neutral

__all__ = ["FILE_CHARS", "drill_data", "kind_meaning", "user_index"]

FILE_CHARS = 240
"""Characters of a file path shown."""

_KIND_MEANING = {k.value: k.description for k in EventKind}


def kind_meaning(kind: str) -> str:
    """What a line of this event kind means (empty for a kind outside the vocabulary)."""
    return _KIND_MEANING.get(kind, "")


# -- drill-down ----------------------------------------------------------------------------------


class _Strings:
    """A string table for the drill-down JSON: each distinct (neutralized) string once."""

    def __init__(self, limit: int) -> None:
        self.items: list[str] = [""]
        self.index: dict[str | None, int] = {None: 0, "": 0}
        self.limit = limit

    def __call__(self, value: Any) -> int:
        key = None if value is None else str(value)
        i = self.index.get(key)
        if i is None:
            i = len(self.items)
            self.items.append(neutral(key, self.limit))
            self.index[key] = i
        return i


def _rel(t: datetime | None, t0: int) -> float | None:
    return None if t is None else round(t.timestamp() - t0, 3)


def _short_key(key: str | None) -> str:
    if not key:
        return ""
    return key.rsplit(":", 1)[-1][:12]


def _lifetime(issued: datetime | None, expires: datetime | None) -> str:
    if issued is None or expires is None:
        return ""
    return str(round((expires - issued).total_seconds()))


_Users = list[dict[str, Any] | None]


def _slot(users: _Users, i: int, more: Any) -> dict[str, Any]:
    """User ``i``'s drill-down entry, created (with ``more`` events left out) if new."""
    slot = users[i]
    if slot is None:
        slot = users[i] = {"ev": [], "more": int(more), "lin": []}
    return slot


def _add_events(
    ev: pl.DataFrame,
    index: dict[Any, int],
    users: _Users,
    strings: _Strings,
    files: _Strings,
    t0: int,
) -> None:
    """Each shown user's events, as rows of string-table indices, into ``users``."""
    cols = ("user", "time", "kind", "node", "client_id", "device", "token_id", "grant")
    cols2 = ("reason", "server", "file", "line", "_more", "family")
    for rec in ev.select(*cols, *cols2).iter_rows() if ev.height else ():
        user, t, kind, node, client, device, token, grant, reason, server, file, line, more, fam = (
            rec
        )
        i = index.get(user)
        if i is None:
            continue
        slot = _slot(users, i, more)
        slot["ev"].append(
            [
                _rel(t, t0),
                strings(kind),
                strings(node),
                strings(client),
                strings(device),
                strings(token),
                strings(grant),
                strings(reason),
                strings(server),
                files(file),
                int(line),
                strings(side_name(fam)),
            ]
        )


def _token_row(r: dict[str, Any], t0: int, limits: Limits) -> list[Any]:
    """One token of a lineage row, as the page's drill-down shows it."""
    refresh = r["type"] == "refresh"
    where = r["issued_node"] or ""
    if r["servers"]:
        where = (where + " → " if where else "") + ", ".join(r["servers"])
    return [
        neutral(r["token_id"], limits.name_chars),
        _rel(r["issued_at"], t0),
        _rel(r["last_use"], t0),
        int(r["refreshes"] if refresh else r["validations"]),
        int(r["rejections"]),
        neutral(", ".join(r["reasons"] or []), 200),
        _rel(r["revoked_at"], t0),
        neutral(r["revoke_cause"], 60),
        neutral(r["grant"], 40),
        _lifetime(r["issued_at"], r["expires_at"]),
        neutral(_short_key(r["kid"]), 12),
        neutral(r["device"], limits.name_chars),
        neutral(where, 200),
    ]


def _add_lineage(
    lineage: pl.DataFrame, index: dict[Any, int], users: _Users, t0: int, limits: Limits
) -> None:
    """Each shown user's token lineage, grouped by client, into ``users``."""
    lin, more = agg.user_lineage(lineage, list(index), limits)
    clients: dict[tuple[int, str], dict[str, Any]] = {}
    for r in lin.iter_rows(named=True):
        i = index.get(r["user"])
        if i is None:
            continue
        slot = _slot(users, i, 0)
        ck = (i, r["client_id"])
        c = clients.get(ck)
        if c is None:
            c = clients[ck] = {
                "c": neutral(r["client_id"], limits.name_chars),
                "r": [],
                "a": [],
                "rm": more.get((r["user"], r["client_id"], "refresh"), 0),
                "am": more.get((r["user"], r["client_id"], "access"), 0),
            }
            slot["lin"].append(c)
        c["r" if r["type"] == "refresh" else "a"].append(_token_row(r, t0, limits))


def drill_data(
    ua: agg.UserAgg, rows: Sequence[dict[str, Any]], lineage: pl.DataFrame, limits: Limits
) -> dict[str, Any]:
    """JSON-ready drill-down: per shown user (by row index) their capped events and lineage
    (the rows of :func:`logdoctor.analysis.lineage.lineage`)."""
    ev = ua.drill_events
    t_min = ev["time"].min() if ev.height else None
    t0 = int(t_min.timestamp()) if isinstance(t_min, datetime) else 0
    strings = _Strings(limits.name_chars)
    files = _Strings(FILE_CHARS)
    index = {r["user"]: i for i, r in enumerate(rows)}
    users: _Users = [None] * len(rows)
    _add_events(ev, index, users, strings, files, t0)
    _add_lineage(lineage, index, users, t0, limits)
    kinds = {strings.items[i]: kind_meaning(k or "") for k, i in strings.index.items() if k}
    return {
        "t0": t0,
        "s": strings.items,
        "f": files.items,
        "meaning": {k: v for k, v in kinds.items() if v},
        "fail": sorted(agg.FAILURE_KINDS),
        "users": users,
    }


def user_index(ua: agg.UserAgg, inputs: Sequence[str], limits: Limits) -> dict[str, Any]:
    """The users beyond the table, for the page's filter, and what to run for one of them."""
    return {
        "total": ua.total,
        "listed": len(ua.rows),
        "beyond": [[neutral(u, limits.name_chars), e, f] for u, e, f in ua.beyond],
        "inputs": [neutral(p, FILE_CHARS) for p in inputs],
    }
