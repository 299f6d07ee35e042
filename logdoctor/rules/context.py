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

from logdoctor.analysis import keys
from logdoctor.analysis.coverage import NodeCoverage, coverage
from logdoctor.analysis.events import Events, take_merged
from logdoctor.analysis.inference import Inferred, compare, infer, logs_cluster
from logdoctor.analysis.lineage import ENRICHED_COLUMNS, enrich, lineage
from logdoctor.analysis.sessions import sessions
from logdoctor.analysis.skew import SkewReport, clock_skew
from logdoctor.analysis.skew import correct_skew as corrected_times
from logdoctor.ingest.messages import MessageStore
from logdoctor.ingest.nodes import NodeTable, identify_events
from logdoctor.model import Evidence, Severity
from logdoctor.rules.registry import Needs
from logdoctor.table import CATEGORICAL_COLUMNS, ParseStats
from logdoctor.ucm.deploymodel import Cluster, Deployment
from logdoctor.ucm.jabber import parse_agent

__all__ = ["Context", "Hit", "Reach", "when"]


def when(value: object) -> datetime | None:
    """``value`` if it is a datetime (a polars min / max of a time column), else None."""
    return value if isinstance(value, datetime) else None


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
    """The inputs of one ``check`` run, with shared correlation computed on demand.

    ``frame`` is the event table, or a one-item list holding it: the context then takes the
    table (the list is left empty) and puts it in time order column by column, so that a
    caller that gives its table away never holds two copies of it (``check``, ``report``).
    ``messages``: where the text of the rows whose ``message`` is null is (a load's
    :attr:`~logdoctor.ingest.load.LoadResult.messages`).
    """

    def __init__(
        self,
        frame: pl.DataFrame | list[pl.DataFrame],
        stats: Sequence[ParseStats] = (),
        declared: Deployment | None = None,
        *,
        correct_skew: bool = False,
        nodes: NodeTable | None = None,
        messages: MessageStore | None = None,
    ) -> None:
        box = frame if isinstance(frame, list) else [frame]
        del frame
        # One name per node for every rule: the load's identity (or the events' own) with the
        # deployment file's names and addresses added; the declared names become canonical.
        aliases = declared.aliases if declared is not None else {}
        table = (
            nodes.extend(aliases)
            if nodes is not None
            else identify_events(box[0], stats, declared=aliases)
        )
        self.nodes = table
        """Each node's canonical name and aliases (:mod:`logdoctor.ingest.nodes`)."""
        box.append(table.apply(box.pop()))
        self.messages = messages
        """The text of the rows whose ``message`` the table leaves null (None: it has all)."""
        self.raw = Events(take_merged(box, CATEGORICAL_COLUMNS), sorted_=True, messages=messages)
        frame = self.raw.frame
        self.stats = table.apply_stats(stats)
        self.declared = None if declared is None else declared.renamed(table.resolve)
        self.skew_corrected = False
        if correct_skew and frame.height:
            report = clock_skew(self.raw, reference=self.reference_node)
            self.__dict__["skew"] = report  # LD903 reports the skew found before correcting
            if report.skewed():
                self.raw = Events(corrected_times(self.raw.frame, report), messages=messages)
                self.skew_corrected = True

    # -- correlation -----------------------------------------------------------------------

    @cached_property
    def lineage(self) -> pl.DataFrame:
        """Token lineage (:func:`logdoctor.analysis.lineage.lineage`)."""
        return lineage(self.raw)

    @cached_property
    def events(self) -> Events:
        """The enriched events (users, clients and devices filled from token lineage)."""
        filled = enrich(self.raw, self.lineage, distinct=True)
        return Events.derived(self.raw, filled, ENRICHED_COLUMNS)

    @cached_property
    def sessions(self) -> pl.DataFrame:
        """Sessions per user and device (:func:`logdoctor.analysis.sessions.sessions`)."""
        return sessions(self.events.frame)

    @cached_property
    def inferred(self) -> Inferred:
        """The deployment as the logs show it."""
        return infer(self.raw)

    @cached_property
    def skew(self) -> SkewReport:
        """Clock offsets between nodes (before any correction)."""
        return clock_skew(self.raw, self.lineage, reference=self.reference_node)

    @cached_property
    def disagreements(self) -> list[Any]:
        """Where the declared deployment and the logs disagree."""
        return [] if self.declared is None else compare(self.declared, self.inferred)

    @cached_property
    def coverage(self) -> list[NodeCoverage]:
        """Per node and log family: files, span, records and gaps
        (:func:`logdoctor.analysis.coverage.coverage`; the gaps LD902 reports)."""
        return coverage(self.raw, self.stats)

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
        """The longest access-token lifetime seen (see :mod:`logdoctor.analysis.keys`)."""
        return keys.access_lifetime(self.events)

    @cached_property
    def regenerations(self) -> pl.DataFrame:
        """Key regenerations (see :func:`logdoctor.analysis.keys.regenerations`)."""
        return keys.regenerations(self.events)

    @cached_property
    def key_failures(self) -> pl.DataFrame:
        """Signature and decrypt failures marked stale or explained (see
        :func:`logdoctor.analysis.keys.key_failures`)."""
        return keys.key_failures(
            self.events, self.regenerations, self.names("ucm"), self.access_lifetime
        )

    def stale_servers(self, *roles: str, minimum: int = 2) -> list[tuple[str, pl.DataFrame]]:
        """Servers of the given roles that kept rejecting current tokens for their keys (see
        :func:`logdoctor.analysis.keys.stale_servers`)."""
        return keys.stale_servers(
            keys.KeyFacts(self.events, self.lineage, self.regenerations, self.key_failures),
            [n for n in self._servers_of(self.key_failures) if self.role(n) in roles],
            minimum=minimum,
        )

    @staticmethod
    def _servers_of(frame: pl.DataFrame) -> list[str]:
        return sorted(frame["server"].drop_nulls().unique().to_list())

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
                "agent": req.schema["agent"],
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
            rows = rows.filter(pl.col("value").cast(pl.String).str.to_lowercase() == value)
        return rows["time"].max() if rows.height else None
