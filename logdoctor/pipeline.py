"""``check``: load logs and / or a deployment file, run the rules, judge against a threshold.

Orchestration only: the verdict it returns is the value :class:`~logdoctor.verdict.CheckReport`
(:mod:`logdoctor.verdict`). :func:`run_check` also hands back the rule context the verdict was
judged from (:class:`Checked`), for the HTML report and the fleet, which show its correlation
without running the rules again; :func:`check` is the same run, returning the verdict alone.
Both raise on bad input (``DeploymentError``, ``BaselineError``, ``ValueError``) and never print.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

import polars as pl

from logdoctor.baseline import Baseline
from logdoctor.ingest.bundleset import refuse_several_bundles
from logdoctor.ingest.inputs import InputError
from logdoctor.ingest.messages import MessageStore
from logdoctor.progress import NULL_PROGRESS, Progress
from logdoctor.rules import EVIDENCE_CAP, Context, run_rules, select_rules
from logdoctor.table import CATEGORICAL_COLUMNS, empty_frame
from logdoctor.timestamps import ZoneBook, zone_book
from logdoctor.ucm.deployment import load_deployment
from logdoctor.ucm.deploymodel import Deployment
from logdoctor.verdict import FAIL_ON, CheckReport

if TYPE_CHECKING:
    from logdoctor.ingest.load import LoadResult

__all__ = ["Checked", "check", "check_context", "run_check"]

_P = ParamSpec("_P")


@dataclass(frozen=True)
class Checked:
    """A check's verdict and the rule context it was judged from (events, correlation,
    inference), for reports built on the check."""

    report: CheckReport
    context: Context


def check_context(
    ctx: Context,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str = "warning",
    baseline: Baseline | None = None,
    errors: Sequence[InputError] = (),
    logs: bool = True,
    allow_partial: bool = False,
    inputs: Sequence[str] = (),
    evidence_cap: int | None = EVIDENCE_CAP,
    progress: Progress = NULL_PROGRESS,
) -> CheckReport:
    """Run the selected rules on a prepared context (each rule on its own: one that raises
    is listed in ``rule_errors`` and the others still run; ``evidence_cap`` evidence lines at
    most per finding, None for all; ``progress`` hears of each rule)."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"--fail-on {fail_on!r}: allowed values are {', '.join(FAIL_ON)}")
    rules = select_rules(select, ignore)
    findings, failures = run_rules(ctx, rules, evidence_cap=evidence_cap, progress=progress)
    frame = ctx.raw.frame
    times = frame["time"].drop_nulls() if frame.height else pl.Series([], dtype=pl.Datetime)
    first = times.min() if times.len() else None
    last = times.max() if times.len() else None
    return CheckReport(
        findings=tuple(findings),
        rules=tuple(rules),
        fail_on=fail_on,
        baseline=baseline,
        deployment=ctx.declared,
        events=frame.height,
        files=len([s for s in ctx.stats if s.error is None]),
        first_time=first if isinstance(first, datetime) else None,
        last_time=last if isinstance(last, datetime) else None,
        errors=tuple(errors),
        stats=tuple(ctx.stats),
        rule_errors=tuple(failures),
        logs=logs,
        allow_partial=allow_partial,
        inputs=tuple(inputs),
    )


def run_check(
    paths: Sequence[str | Path] = (),
    *,
    config: str | Path | None = None,
    deployment: Deployment | None = None,
    loaded: LoadResult | None = None,
    zones: ZoneBook | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str = "warning",
    baseline: Baseline | None = None,
    correct_skew: bool = False,
    formats_dir: Sequence[str | Path] = (),
    node: str | None = None,
    tz: str | None = None,
    jobs: int | None = None,
    allow_partial: bool = False,
    one_cluster: bool = False,
    evidence_cap: int | None = EVIDENCE_CAP,
    progress: Progress | None = None,
) -> Checked:
    """Check logs (``paths``), a deployment file (``config``), or both: the verdict and the
    rule context it was judged from.

    Logs of which not one record can be read give the status ``not-checked``; inputs that
    cannot be read, or only partly, make the check ``incomplete`` (exit 2) unless
    ``allow_partial``. Paths that hold several bundles (each with its own nodes or
    deployment file) raise :class:`~logdoctor.ingest.bundleset.SeveralBundles` unless
    ``one_cluster``. Each node's zone-less times are read in the zone the deployment file
    declares for it, else in ``tz``, else in UTC (``report.zones`` says which nodes' zone
    was assumed). ``progress`` hears of the stages (parsing, correlating, rules).

    A caller that parsed the logs itself (the fleet, which joins parts parsed on several
    workers) passes them as ``loaded`` instead of ``paths``, with the ``deployment`` it read
    instead of ``config`` and the ``zones`` its load used.
    """
    deployment = _deployment(paths, config, loaded, deployment)
    select_rules(select, ignore)  # validate the patterns before any long load
    if zones is None:
        zones = zone_book(tz, None if deployment is None else deployment.node_zones())
    observer = progress or NULL_PROGRESS
    result = _load_logs(
        paths,
        loaded,
        deployment=deployment,
        zones=zones,
        formats_dir=formats_dir,
        node=node,
        jobs=jobs,
        one_cluster=one_cluster,
        progress=observer,
    )
    observer.stage("correlating")
    ctx = _context(result, loaded is None, deployment, correct_skew)
    errors = [] if result is None else result.errors
    del result
    report = check_context(
        ctx,
        select=select,
        ignore=ignore,
        fail_on=fail_on,
        baseline=baseline,
        errors=errors,
        logs=bool(paths) or loaded is not None,
        allow_partial=allow_partial,
        inputs=[str(p) for p in paths],
        evidence_cap=evidence_cap,
        progress=observer,
    )
    return Checked(replace(report, zones=zones), ctx)


def _context(
    result: LoadResult | None, own: bool, deployment: Deployment | None, correct_skew: bool
) -> Context:
    """The rule context of a load (of nothing: an empty table); ``own``: the load is this
    check's, so its table is given to the context (``result.frame`` emptied: no second copy)."""
    if result is None:
        return Context([empty_frame()], [], deployment, correct_skew=correct_skew)
    box = [result.frame]
    if own:
        result.frame = empty_frame()
    return Context(
        box,
        result.stats,
        deployment,
        correct_skew=correct_skew,
        nodes=result.nodes,
        messages=result.messages,
    )


def _deployment(
    paths: Sequence[str | Path],
    config: str | Path | None,
    loaded: LoadResult | None,
    deployment: Deployment | None,
) -> Deployment | None:
    """The deployment to check: read from ``config`` if given, else ``deployment``; raises
    when there is nothing at all to check."""
    if not paths and config is None and loaded is None and deployment is None:
        raise ValueError("nothing to check: give log paths, --config FILE, or both")
    if config is not None:
        deployment = load_deployment(config)
    return deployment


def _load_logs(
    paths: Sequence[str | Path],
    loaded: LoadResult | None,
    *,
    deployment: Deployment | None,
    zones: ZoneBook,
    formats_dir: Sequence[str | Path],
    node: str | None,
    jobs: int | None,
    one_cluster: bool,
    progress: Progress,
) -> LoadResult | None:
    """The logs to check: ``loaded`` if given, else those parsed from ``paths`` (refusing
    several bundles unless ``one_cluster``), else None (no logs)."""
    if loaded is not None or not paths:
        return loaded
    from logdoctor.ingest.load import open_inputs

    loader = open_inputs(
        list(paths),
        formats_dir=formats_dir,
        node=node,
        jobs=jobs,
        zones=zones,
        progress=progress,
        aliases=None if deployment is None else deployment.aliases,
    )
    if not one_cluster:
        refuse_several_bundles(loader, [str(p) for p in paths])
    return loader.result(CATEGORICAL_COLUMNS, MessageStore())


def _verdict_only(run: Callable[_P, Checked]) -> Callable[_P, CheckReport]:
    """``run`` with the same parameters, returning the verdict alone."""

    @functools.wraps(run)
    def verdict(*args: _P.args, **kwargs: _P.kwargs) -> CheckReport:
        return run(*args, **kwargs).report

    return verdict


check = _verdict_only(run_check)
check.__doc__ = """Check logs (``paths``), a deployment file (``config``), or both; returns the
verdict (:class:`~logdoctor.verdict.CheckReport`). The parameters are :func:`run_check`'s."""
