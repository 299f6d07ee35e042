"""The seam between the report and the check engine: one function, :func:`diagnose`.

The report renders the :class:`~logdoctor.report.model.Diagnosis` it is given: findings
(``logdoctor.model.Finding``), configuration facts (declared beside inferred, with the lines
each inference came from), the rules that could not be evaluated, and the correlation the
rules used (enriched events, token lineage, coverage with LD902's gaps), all taken from the
same rule context ``logdoctor check`` uses, so the report and the CI check never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from logdoctor.ingest.load import LoadResult
from logdoctor.pipeline import check_context
from logdoctor.progress import NULL_PROGRESS, Progress
from logdoctor.report.facts import config_facts, declared_facts
from logdoctor.report.model import Correlation, Diagnosis, Unchecked
from logdoctor.rules import Context, Rule
from logdoctor.table import empty_frame
from logdoctor.ucm.deployment import load_deployment
from logdoctor.verdict import CheckReport

__all__ = ["correlation_of", "diagnose", "diagnosis_of", "unchecked_of"]


def diagnose(
    result: LoadResult, config: Path | None = None, *, progress: Progress = NULL_PROGRESS
) -> Diagnosis:
    """Run the diagnostic rules on loaded logs (and a deployment file) for the report.

    Returns the findings (all severities; the report sorts them), the configuration facts,
    the rules that could not be evaluated, the correlation, whether the rules ran and which
    of them failed (``progress`` hears of each rule). ``result.frame`` is replaced by the same
    events in time order (the context's table), so that the table is not held twice. Raises
    ``DeploymentError`` (a ``ValueError`` naming the file, the key and the allowed values) for
    a bad deployment file.
    """
    declared = None if config is None else load_deployment(config)
    box = [result.frame]
    result.frame = empty_frame()
    ctx = Context(box, result.stats, declared, nodes=result.nodes, messages=result.messages)
    result.frame = ctx.raw.frame  # the same events, time-ordered: the load order's copy is freed
    report = check_context(ctx, fail_on="never", errors=result.errors, progress=progress)
    return diagnosis_of(report, ctx)


def correlation_of(ctx: Context) -> Correlation:
    """What the report shows of a rule context's correlation (computed once, there)."""
    return Correlation(
        events=ctx.events.frame,
        lineage=ctx.lineage,
        coverage=tuple(ctx.coverage),
        messages=ctx.messages,
    )


def unchecked_of(ctx: Context, rules: Sequence[Rule]) -> tuple[Unchecked, ...]:
    """The rules of ``rules`` these inputs cannot evaluate (or only in the deployment file),
    from each rule's declared needs (:class:`logdoctor.rules.registry.Needs`)."""
    out = []
    for r in rules:
        reach = ctx.reach(r.needs)
        if reach.state != "checked":
            out.append(Unchecked(r.id, r.title, reach.state, reach.reason))
    return tuple(out)


def diagnosis_of(report: CheckReport, ctx: Context) -> Diagnosis:
    """The diagnosis of a check that already ran on the rule context ``ctx``: its findings,
    the configuration facts and correlation of that context, and the rules it could not
    evaluate (``logdoctor fleet`` renders a cluster's report this way, on the worker that
    checked it, without running the rules again)."""
    declared = [] if ctx.declared is None else declared_facts(ctx.declared, ctx.cluster)
    facts = config_facts(ctx.inferred.facts, ctx.disagreements, declared)
    return Diagnosis(
        findings=report.findings,
        config=facts,
        rules_ran=True,
        rule_errors=tuple(f.message for f in report.rule_errors),
        unchecked=unchecked_of(ctx, report.rules),
        correlation=correlation_of(ctx),
    )
