"""What a rule sees: the events, the correlation, the deployment (declared and inferred).

Everything expensive (lineage, enrichment, sessions, inference, clock skew, the key-failure
analysis) is a cached property computed on first use and shared by every rule of a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import polars as pl

from logdoctor import correlate
from logdoctor.events import Events
from logdoctor.inference import Inferred, compare, infer, logs_cluster
from logdoctor.ingest.nodes import NodeTable, identify_events
from logdoctor.model import Evidence, Severity
from logdoctor.rules.registry import Needs
from logdoctor.table import ParseStats
from logdoctor.ucm.deployment import Cluster, Deployment
from logdoctor.ucm.jabber import parse_agent

__all__ = ["KEY_FAILURE_MARKS", "KEY_REASONS", "Context", "Hit", "Reach", "when"]


def when(value: object) -> datetime | None:
    """``value`` if it is a datetime (a polars min / max of a time column), else None."""
    return value if isinstance(value, datetime) else None


KEY_REASONS = ("signature", "decrypt")
"""Validation failures that mean the server holds other keys than the token was made with."""

KEY_FAILURE_MARKS = ("_cur", "_stale")
"""Columns :attr:`Context.key_failures` adds to the event table's (always both, in this order)."""

KEY_MARGIN = timedelta(minutes=10)
"""After a key regeneration, tokens made with the old key may still be presented until they
expire (the longest access-token lifetime seen) plus this margin."""


@dataclass(frozen=True)
class Hit:
    """What a rule found about one subject; the engine turns it into a ``Finding``."""

    subjects: tuple[str, ...]
    """What the finding is about (a server, node, user, device...); with the rule id it is
    the finding's identity in baselines and SARIF fingerprints, so no line numbers or times."""
    message: str
    rows: pl.DataFrame | None = None
    """Event rows that prove it (time order)."""
    extra: tuple[Evidence, ...] = ()
    """Other evidence shown first: deployment-file lines, computed pairs of lines."""
    severity: Severity | None = None
    """Overrides the rule's severity for this finding."""
    fix: tuple[str, ...] = ()
    """Overrides the rule's fix steps when they do not apply to this finding."""


@dataclass(frozen=True)
class Reach:
    """Whether a rule could be evaluated on a context: ``state`` is ``checked``,
    ``config only`` (no logs it reads, but the deployment file was checked) or ``not
    checked``; ``reason`` says what was missing (empty when checked)."""

    state: str
    reason: str = ""


class Context:
    """The inputs of one ``check`` run, with shared correlation computed on demand."""

    def __init__(
        self,
        frame: pl.DataFrame,
        stats: Sequence[ParseStats] = (),
        declared: Deployment | None = None,
        *,
        correct_skew: bool = False,
        nodes: NodeTable | None = None,
    ) -> None:
        # One name per node for every rule: the load's identity (or the events' own) with the
        # deployment file's names and addresses added; the declared names become canonical.
        aliases = declared.aliases if declared is not None else {}
        table = (
            nodes.extend(aliases)
            if nodes is not None
            else identify_events(frame, stats, declared=aliases)
        )
        self.nodes = table
        """Each node's canonical name and aliases (:mod:`logdoctor.ingest.nodes`)."""
        frame = table.apply(frame)
        self.raw = Events(frame)
        self.stats = table.apply_stats(stats)
        self.declared = None if declared is None else declared.renamed(table.resolve)
        self.skew_corrected = False
        if correct_skew and frame.height:
            report = correlate.clock_skew(self.raw, reference=self.reference_node)
            self.__dict__["skew"] = report  # LD903 reports the skew found before correcting
            if report.skewed():
                self.raw = Events(correlate.correct_skew(self.raw.frame, report))
                self.skew_corrected = True

    # -- correlation -----------------------------------------------------------------------

    @cached_property
    def lineage(self) -> pl.DataFrame:
        """Token lineage (:func:`logdoctor.correlate.lineage`)."""
        return correlate.lineage(self.raw)

    @cached_property
    def events(self) -> Events:
        """The enriched events (users, clients and devices filled from token lineage)."""
        return Events(correlate.enrich(self.raw, self.lineage), sorted_=True)

    @cached_property
    def sessions(self) -> pl.DataFrame:
        """Sessions per user and device (:func:`logdoctor.correlate.sessions`)."""
        return correlate.sessions(self.events.frame)

    @cached_property
    def inferred(self) -> Inferred:
        """The deployment as the logs show it."""
        return infer(self.raw)

    @cached_property
    def skew(self) -> correlate.SkewReport:
        """Clock offsets between nodes (before any correction)."""
        return correlate.clock_skew(self.raw, self.lineage, reference=self.reference_node)

    @cached_property
    def disagreements(self) -> list[Any]:
        """Where the declared deployment and the logs disagree."""
        return [] if self.declared is None else compare(self.declared, self.inferred)

    @cached_property
    def coverage(self) -> list[correlate.NodeCoverage]:
        """Per node and log family: files, span, records and gaps
        (:func:`logdoctor.correlate.coverage`; the gaps LD902 reports)."""
        return correlate.coverage(self.raw, self.stats)

    @cached_property
    def logged(self) -> dict[str, set[str]]:
        """Node -> the log families it wrote records in (from the parse statistics, else the
        events)."""
        out: dict[str, set[str]] = {}
        for st in self.stats:
            if st.error is None and st.records > 0 and st.node:
                out.setdefault(st.node, set()).add(st.family or "")
        if not out and self.raw.frame.height:
            pairs = self.raw.frame.select("node", "family").unique().iter_rows()
            for node, family in pairs:
                if node:
                    out.setdefault(str(node), set()).add(str(family or ""))
        return out

    def reach(self, needs: Needs) -> Reach:
        """Whether a rule with these needs can be evaluated on these logs (and deployment)."""
        have_config = self.declared is not None
        if needs.config == "required" and not have_config:
            return Reach("not checked", "it compares the logs with a deployment file (--config)")
        nodes = [
            n
            for n, fams in self.logged.items()
            if (not needs.roles or self.role(n) in needs.roles)
            and (not needs.families or fams & set(needs.families))
        ]
        if len(nodes) >= needs.nodes:
            return Reach("checked")
        what = needs.logs_text()
        found = f"{len(nodes)} such node" + ("" if len(nodes) == 1 else "s")
        missing = f"no {what}" if not nodes else f"it needs {what}; these logs have {found}"
        if needs.config == "or" and have_config:
            return Reach("config only", f"{missing}: checked in the deployment file only")
        if needs.config == "or":
            return Reach("not checked", f"{missing} and no deployment file (--config)")
        return Reach("not checked", missing)

    @cached_property
    def has_logs(self) -> bool:
        """True when there is at least one event."""
        return self.raw.frame.height > 0

    # -- deployment ------------------------------------------------------------------------

    @cached_property
    def cluster(self) -> Cluster | None:
        """The declared telephony cluster the logs belong to (None without a file)."""
        if self.declared is None:
            return None
        return (
            logs_cluster(self.declared, self.inferred)
            if self.has_logs
            else (self.declared.telephony[0] if self.declared.telephony else None)
        )

    @cached_property
    def cluster_name(self) -> str:
        """Subject of cluster-wide findings: the declared cluster's name, else the publisher
        node's name, else ``ucm``."""
        if self.cluster is not None:
            return self.cluster.name
        return self.reference_node or "ucm"

    @cached_property
    def reference_node(self) -> str | None:
        """The publisher (declared, or inferred from key events), else None."""
        if self.cluster is not None:
            return self.cluster.publisher
        if self.declared is not None and self.declared.telephony:
            return self.declared.telephony[0].publisher
        return self.inferred.publisher if self.has_logs else None

    def role(self, name: str | None) -> str:
        """ucm, imp, imp_central, expressway, unity or unknown: declared first, then what the
        logs show."""
        if not name:
            return "unknown"
        if self.declared is not None:
            declared = self.declared.role_of(name)
            if declared is not None:
                return declared
        return self.inferred.roles.get(name, "unknown")

    def names(self, *roles: str) -> list[str]:
        """Every known name (declared or seen) with one of ``roles``, sorted."""
        names = set(self.inferred.roles)
        if self.declared is not None:
            for c in self.declared.clusters:
                names.update(c.nodes)
            names.update(e.name for e in self.declared.expressways)
            names.update(u.name for u in self.declared.unity)
        return sorted(n for n in names if self.role(n) in roles)

    def parameter(self, name: str) -> Any:
        """An enterprise parameter as the logs show it, else as declared, else None."""
        value = self.inferred.value(f"parameters.{name}") if self.has_logs else None
        if value is None and self.cluster is not None:
            value = getattr(self.cluster.parameters, name)
        return value

    def parameter_evidence(self, name: str) -> tuple[Evidence, ...]:
        """The lines behind :meth:`parameter` (log lines, or the deployment-file line)."""
        fact = self.inferred.fact(f"parameters.{name}") if self.has_logs else None
        if fact is not None:
            return fact.evidence[:3]
        if self.cluster is not None and self.declared is not None:
            path = f"cluster[{self.declared.cluster_index(self.cluster.name)}].parameters.{name}"
            return (self.declared.evidence(path),)
        return ()

    # -- shared analyses -------------------------------------------------------------------

    @cached_property
    def access_lifetime(self) -> timedelta:
        """The longest access-token lifetime seen (default 60 minutes)."""
        issued = self.events.of("token.access.issued")
        seconds = issued["value"].cast(pl.Int64, strict=False).max() if issued.height else None
        return timedelta(seconds=int(seconds)) if isinstance(seconds, int) else timedelta(hours=1)

    @cached_property
    def regenerations(self) -> pl.DataFrame:
        """Key regenerations (one row per regeneration, de-duplicated across log families)."""
        rows = self.events.of("key.regenerated").filter(pl.col("key").is_not_null())
        return rows.unique(["param", "key"], keep="first", maintain_order=True)

    @cached_property
    def key_failures(self) -> pl.DataFrame:
        """Validation failures with reason signature or decrypt, each marked ``_stale``: True
        when it cannot be an old token presented after a regeneration, i.e. the server holds
        other keys than the ones the cluster signs with now.

        A failure is explained (not stale) when the token's kid names a signing key other
        than the cluster's current one, or, when the kid is unknown, when it happens within
        one access-token lifetime (plus a margin) after a regeneration. With no regeneration
        in the logs every such failure is stale.
        """
        fails = self.events.validation_failures.filter(pl.col("reason").is_in(KEY_REASONS))
        if fails.height == 0:
            # The same columns, in the same order, as below: rules drop them without asking
            # whether any failed (LD202 crashed on a regeneration without any failure).
            return fails.with_columns(
                pl.lit(None, dtype=pl.String).alias("_cur"), pl.lit(True).alias("_stale")
            )
        ucm = set(self.names("ucm"))
        keys = (
            self.events.of("key.regenerated", "key.replicated", "key.loaded")
            .filter(
                (pl.col("param") == "signing")
                & pl.col("key").is_not_null()
                & ((pl.col("kind") == "key.regenerated") | pl.col("node").is_in(sorted(ucm)))
            )
            .select("time", pl.col("key").alias("_cur"))
            .sort("time")
        )
        regen = self.regenerations.select("time", pl.col("time").alias("_regen")).sort("time")
        f = fails.with_columns(
            pl.col("key").str.split(":").list.last().alias("_ck"),
            pl.int_range(pl.len()).alias("_i"),
        ).sort("time")
        f = (
            f.join_asof(keys, on="time", strategy="backward")
            if keys.height
            else f.with_columns(pl.lit(None, dtype=pl.String).alias("_cur"))
        )
        f = (
            f.join_asof(regen, on="time", strategy="backward")
            if regen.height
            else f.with_columns(pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("_regen"))
        )
        window = self.access_lifetime + KEY_MARGIN
        stale = (
            pl.when(pl.col("_cur").is_not_null() & pl.col("_ck").is_not_null())
            .then(pl.col("_ck") == pl.col("_cur"))
            .when(pl.col("_regen").is_null())
            .then(pl.lit(True))
            .otherwise(pl.col("time") > pl.col("_regen") + window)
        )
        return f.with_columns(stale.alias("_stale")).sort("_i").drop("_i", "_ck", "_regen")

    def stale_servers(self, *roles: str, minimum: int = 2) -> list[tuple[str, pl.DataFrame]]:
        """Servers of the given roles that kept rejecting current tokens for their keys, and
        were not seen accepting a current token afterwards: (server, failure rows)."""
        fails = self.key_failures.filter(pl.col("_stale"))
        out = []
        last_regen = self.regenerations["time"].max() if self.regenerations.height else None
        for server in sorted(fails["server"].drop_nulls().unique().to_list()):
            if self.role(server) not in roles:
                continue
            rows = fails.filter(pl.col("server") == server)
            if rows.height < minimum:
                continue
            if self._accepted_current_after(server, rows["time"].max(), last_regen):
                continue
            out.append((server, rows.drop(KEY_FAILURE_MARKS)))
        return out

    def _accepted_current_after(self, server: str, t: Any, last_regen: Any) -> bool:
        if self._loaded_current_after(server, t):
            return True
        ok = self.events.of("token.validated").filter(
            (pl.col("server") == server) & (pl.col("time") > t)
        )
        if ok.height == 0:
            return False
        if last_regen is None:
            return True
        issued = self.lineage.select("token_id", "issued_at")
        joined = ok.join(issued, on="token_id", how="left")
        return bool(joined.select((pl.col("issued_at") > last_regen).fill_null(False).any()).item())

    def _loaded_current_after(self, server: str, t: Any) -> bool:
        """True when ``server`` loaded the latest regenerated key of every use after ``t``
        (Refresh servers / Sync Keys / a restart done late): its failures are over.

        Successful validations are DEBUG lines, absent at the default samltrace level, so the
        key load is the evidence of recovery a normal log holds."""
        if self.regenerations.height == 0:
            return False
        latest = self.regenerations.sort("time").group_by("param").agg(pl.col("key").last())
        loaded = self.events.of("key.loaded").filter(
            ((pl.col("node") == server) | (pl.col("server") == server)) & (pl.col("time") > t)
        )
        if loaded.height == 0:
            return False
        have = set(zip(loaded["param"].to_list(), loaded["key"].to_list(), strict=True))
        return all(
            (use, key) in have
            for use, key in zip(latest["param"].to_list(), latest["key"].to_list(), strict=True)
        )

    @cached_property
    def agents(self) -> pl.DataFrame:
        """Authorize requests with the declaring client parsed: columns of the event table
        plus ``a_product``, ``a_version`` (text), ``a_platform``, ``a_push``,
        ``a_capable`` (refresh-capable Jabber: True / False / null)."""
        req = self.events.of("authorize.request")
        values = req["agent"].drop_nulls().unique().to_list()
        table = pl.DataFrame(
            {
                "agent": values,
                "a_product": [parse_agent(a).product for a in values],
                "a_version": [
                    ".".join(str(x) for x in (parse_agent(a).version or ())) or None for a in values
                ],
                "a_platform": [parse_agent(a).platform for a in values],
                "a_push": [parse_agent(a).push for a in values],
                "a_capable": [parse_agent(a).refresh_capable for a in values],
            },
            schema={
                "agent": pl.String(),
                "a_product": pl.String(),
                "a_version": pl.String(),
                "a_platform": pl.String(),
                "a_push": pl.Boolean(),
                "a_capable": pl.Boolean(),
            },
        )
        return req.join(table, on="agent", how="left", maintain_order="left")

    def time_of_last_change(self, param: str, value: str | None = None) -> Any:
        """Time of the last config.changed line for ``param`` (with ``value``), or None."""
        rows = self.events.of("config.changed").filter(pl.col("param") == param)
        if value is not None:
            rows = rows.filter(pl.col("value").str.to_lowercase() == value)
        return rows["time"].max() if rows.height else None
