"""The seam between the report and the check engine: one function, :func:`diagnose`.

The report renders whatever :class:`~logdoctor.report.model.Diagnosis` it is given: findings
(``logdoctor.model.Finding``) and configuration facts (declared against inferred, with the
lines each inference came from). Until the rules engine is part of this build, ``diagnose``
returns a diagnosis that says no rule ran, and the report says so instead of claiming the logs
are healthy. Wiring the engine in means replacing the body of this function only, with (for
the rules branch's ``check_context`` / ``Context`` / ``load_deployment``)::

    from logdoctor.check import check_context
    from logdoctor.deployment import load_deployment
    from logdoctor.rules import Context

    declared = None if config is None else load_deployment(config)
    ctx = Context(result.frame, result.stats, declared)
    report = check_context(ctx, fail_on="never", errors=result.errors)

    def declared_value(path: str, subject: str) -> Any:
        if ctx.cluster is None or not path.startswith("parameters."):
            return None
        return getattr(ctx.cluster.parameters, path.split(".", 1)[1], None)

    facts = config_facts(ctx.inferred.facts, ctx.disagreements, declared_value)
    return Diagnosis(findings=report.findings, config=facts, rules_ran=True)

(``config_facts`` is :func:`logdoctor.report.facts.config_facts`.)
"""

from __future__ import annotations

from pathlib import Path

from logdoctor.api import LoadResult
from logdoctor.report.model import Diagnosis

__all__ = ["diagnose"]


def diagnose(result: LoadResult, config: Path | None = None) -> Diagnosis:
    """Run the diagnostic rules on loaded logs (and a deployment file) for the report.

    Returns the findings, the configuration facts and whether any rule ran. Raises
    ``ValueError`` (one line naming the file and key) for a bad deployment file.
    """
    notes: tuple[str, ...] = ()
    if config is not None:
        notes = (
            f"{config}: the deployment file was not checked: this build has no rules engine, "
            "so there is nothing to compare it with.",
        )
    return Diagnosis(findings=(), config=(), rules_ran=False, notes=notes)
