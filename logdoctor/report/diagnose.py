"""The seam between the report and the check engine: one function, :func:`diagnose`.

The report renders the :class:`~logdoctor.report.model.Diagnosis` it is given: findings
(``logdoctor.model.Finding``) and configuration facts (declared against inferred, with the
lines each inference came from), both taken from the same rule context ``logdoctor check``
uses, so the report and the CI check never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from logdoctor.api import LoadResult
from logdoctor.check import CheckReport, check_context
from logdoctor.deployment import load_deployment
from logdoctor.report.facts import config_facts
from logdoctor.report.model import Diagnosis
from logdoctor.rules import Context

__all__ = ["diagnose", "diagnosis_of"]


def diagnose(result: LoadResult, config: Path | None = None) -> Diagnosis:
    """Run the diagnostic rules on loaded logs (and a deployment file) for the report.

    Returns the findings (all severities; the report sorts them), the configuration facts,
    whether the rules ran and which of them failed. Raises ``DeploymentError`` (a
    ``ValueError`` naming the file, the key and the allowed values) for a bad deployment file.
    """
    declared = None if config is None else load_deployment(config)
    ctx = Context(result.frame, result.stats, declared, nodes=result.nodes)
    return diagnosis_of(check_context(ctx, fail_on="never", errors=result.errors))


def diagnosis_of(report: CheckReport) -> Diagnosis:
    """The diagnosis of a check that already ran (``report.context`` must be set): its
    findings and the configuration facts of its rule context (``logdoctor fleet`` renders a
    cluster's report this way, on the worker that checked it, without running the rules
    again)."""
    ctx = report.context
    if ctx is None:
        raise ValueError("diagnosis_of: the check report has no rule context")

    def declared_value(path: str, subject: str) -> Any:
        if ctx.cluster is None or not path.startswith("parameters."):
            return None
        return getattr(ctx.cluster.parameters, path.split(".", 1)[1], None)

    facts = config_facts(ctx.inferred.facts, ctx.disagreements, declared_value)
    return Diagnosis(
        findings=report.findings,
        config=facts,
        rules_ran=True,
        rule_errors=tuple(f.message for f in report.rule_errors),
    )
