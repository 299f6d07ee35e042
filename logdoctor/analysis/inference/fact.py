"""What an inference is made of: :class:`Fact` (one thing the logs show, with its lines),
:class:`Inferred` (all of them), and the small helpers the inferring modules share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from logdoctor.analysis.events import Events
from logdoctor.analysis.evidence import from_rows, spread
from logdoctor.ingest.messages import MessageStore
from logdoctor.model import Evidence
from logdoctor.ucm.deploymodel import KeyInfo
from logdoctor.ucm.topology import KEY_USES

__all__ = [
    "FACT_EVIDENCE",
    "Fact",
    "Inferred",
    "after",
    "fact_at",
    "last_change",
    "make_fact",
    "on_off",
    "texts_from",
]

FACT_EVIDENCE = 10
"""At most this many lines are kept per fact (the count is exact)."""


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


_MESSAGES: ContextVar[MessageStore | None] = ContextVar("_MESSAGES", default=None)
"""The message store of the events being inferred from (set by :func:`texts_from`)."""


@contextmanager
def texts_from(messages: MessageStore | None) -> Iterator[None]:
    """While inside, the facts made take the text of their evidence rows whose ``message``
    is null from ``messages`` (the inferring modules pass rows, not the events, around)."""
    token = _MESSAGES.set(messages)
    try:
        yield
    finally:
        _MESSAGES.reset(token)


def make_fact(path: str, subject: str, value: Any, reason: str, rows: pl.DataFrame) -> Fact:
    """A fact resting on ``rows`` (the first FACT_EVIDENCE kept as evidence, all counted)."""
    return Fact(
        path=path,
        subject=subject,
        value=value,
        reason=reason,
        evidence=from_rows(rows, FACT_EVIDENCE, _MESSAGES.get()),
        count=rows.height,
    )


def fact_at(
    ev: Events, path: str, subject: str, value: Any, reason: str, positions: pl.Series
) -> Fact:
    """:func:`make_fact` of the rows of ``ev.frame`` at ``positions`` (in that order): only
    the rows shown as evidence are gathered, not every column of every row counted."""
    shown = spread(positions.to_frame("_row"), FACT_EVIDENCE).get_column("_row")
    return Fact(
        path=path,
        subject=subject,
        value=value,
        reason=reason,
        evidence=from_rows(ev.frame.select(pl.all().gather(shown)), messages=ev.messages),
        count=positions.len(),
    )


def on_off(value: str | None) -> bool | None:
    """``on``/``off`` (and their synonyms) as a bool; None for anything else."""
    v = (value or "").strip().lower()
    if v in ("on", "true", "enabled", "enable", "1", "yes"):
        return True
    if v in ("off", "false", "disabled", "disable", "0", "no"):
        return False
    return None


def last_change(ev: Events, param: str) -> pl.DataFrame:
    """The last change of an enterprise parameter (zero or one row)."""
    return ev.of("config.changed").filter(pl.col("param") == param).tail(1)


def after(frame: pl.DataFrame, t: datetime | None) -> pl.DataFrame:
    """The rows of ``frame`` at or after ``t`` (all of them when ``t`` is None)."""
    return frame if t is None else frame.filter(pl.col("time") >= t)
