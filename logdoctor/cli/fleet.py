"""``fleet``: many clusters at once, on Dask."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import CliError, handle_errors, warn
from logdoctor.cli.options import (
    fail_on_option,
    format_option,
    formats_dir_option,
    no_cache_option,
    rule_filter_options,
    rule_ids,
    tz_option,
)
from logdoctor.cli.progress import FleetProgress

if TYPE_CHECKING:
    from logdoctor.fleet import Bundle, FleetOutput, Options
    from logdoctor.fleet.runner import FleetResult

# -- fleet ---------------------------------------------------------------------------------------


@main.command("fleet")
@click.argument("bundles", nargs=-1, required=True, metavar="BUNDLES...")
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Deployment files, one per cluster: DIR/CLUSTER.toml goes with the bundle named "
    "CLUSTER (CLUSTER.zip, CLUSTER.tar.gz or the folder CLUSTER/). A cluster without one is "
    "checked from its logs alone.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on an existing Dask cluster (tcp://host:8786). Its workers open the bundles "
    "themselves: they must see them at the same paths.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    metavar="N",
    help="Worker processes of the local Dask cluster started without --scheduler "
    "(default: one per core).",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(0.1),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for --scheduler.",
)
@click.option(
    "--in-process",
    is_flag=True,
    help="No Dask: check the bundles one after the other in this process (the default for "
    "a small fleet, whose Dask start-up would cost more than it saves).",
)
@click.option(
    "--dask",
    "force_dask",
    is_flag=True,
    help="Start a local Dask cluster even for a small fleet.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("fleet-report"),
    show_default=True,
    metavar="DIR",
    help="Folder for index.html, the fleet tables, summary.json and clusters/ (one report "
    "per cluster).",
)
@format_option("fleet", "json", "Format of the fleet tables findings.* and clusters.*.")
@fail_on_option("Exit 1 when a cluster has a finding at or above this severity.")
@rule_filter_options
@click.option("--correct-skew", is_flag=True, help="Shift each node's times by its clock offset.")
@click.option(
    "--split-mb",
    type=click.IntRange(1),
    default=128,
    show_default=True,
    metavar="MB",
    help="A bundle (folder or zip) whose log files total more than MB is parsed as parts "
    "of about MB/2, in parallel across workers, before it is checked.",
)
@click.option(
    "--cluster-reports",
    type=click.Choice(["html", "json", "none"]),
    default="html",
    show_default=True,
    help="Each cluster's report in DIR/clusters/: the HTML report (as `logdoctor report`), "
    "the check document (as `check --format json`), or none.",
)
@click.option("--title", default=None, help="Title of the summary page.")
@tz_option
@formats_dir_option
@no_cache_option
@handle_errors
def fleet_cmd(
    bundles: Sequence[str],
    config_dir: Path | None,
    scheduler: str | None,
    workers: int | None,
    connect_timeout: float,
    in_process: bool,
    force_dask: bool,
    out: Path,
    out_format: str,
    fail_on: str,
    select: Sequence[str],
    ignore: Sequence[str],
    correct_skew: bool,
    split_mb: int,
    cluster_reports: str,
    title: str | None,
    tz: str | None,
    formats_dirs: Sequence[Path],
) -> None:
    """Check many clusters at once: one bundle (folder or archive) per cluster.

    Each bundle is parsed, correlated and checked as one task on a Dask cluster (a local one
    sized to this machine, or --scheduler's), or in this process for a small fleet (see
    --dask); the results are gathered into fleet tables, a summary page (DIR/index.html) and
    one report per cluster (DIR/clusters/). The cluster of a bundle is its name without the
    archive suffix. Exit 0 clean, 1 findings at or above --fail-on, 2 a bundle could not be
    read (the others are still checked).
    """
    from logdoctor.fleet import FleetOutput, find_bundles, unmatched_configs

    _refuse_conflicts(in_process, scheduler, workers, force_dask)
    found = find_bundles(list(bundles), config_dir)
    why = ""
    if not (in_process or force_dask or scheduler is not None or workers is not None):
        in_process, why = _small_fleet(found)
    for path in unmatched_configs(config_dir, found) if config_dir is not None else ():
        warn(f"{path}: no bundle of this cluster among the inputs (not used)")
    opts = _options(
        in_process=in_process,
        select=select,
        ignore=ignore,
        fail_on=fail_on,
        correct_skew=correct_skew,
        formats_dirs=formats_dirs,
        tz=tz,
        split_mb=split_mb,
        cluster_reports=cluster_reports,
    )
    output = FleetOutput(out, out_format)
    if in_process:
        from logdoctor.fleet.runner import run_in_process

        with FleetProgress() as progress:
            result = run_in_process(found, opts, observer=progress, on_result=output.document)
    else:
        result = _run_dask(found, opts, output, scheduler, workers, connect_timeout)
    written = output.finish(result, title=title)
    _summarize(result, why=why, fail_on=fail_on, tz=tz)
    wrote = ", ".join(str(p) for p in written)
    click.echo(f"wrote {wrote} and {output.reports} cluster report(s) in {output.clusters}")
    sys.exit(result.exit_code)


def _small_fleet(found: Sequence[Bundle]) -> tuple[bool, str]:
    """Whether to run in this process (a fleet too small for Dask's start-up), and why."""
    from logdoctor.fleet.sizing import choose

    sizing = choose(found)
    return sizing.in_process, sizing.reason if sizing.in_process else ""


def _refuse_conflicts(
    in_process: bool, scheduler: str | None, workers: int | None, force_dask: bool
) -> None:
    """Options that contradict each other: one line, exit 2."""
    if in_process and (scheduler is not None or workers is not None or force_dask):
        raise CliError(
            "--in-process runs without Dask: it takes neither --dask, --scheduler nor --workers"
        )
    if scheduler is not None and workers is not None:
        raise CliError("--workers sizes a local cluster; with --scheduler the cluster has its own")


def _options(
    *,
    in_process: bool,
    select: Sequence[str],
    ignore: Sequence[str],
    fail_on: str,
    correct_skew: bool,
    formats_dirs: Sequence[Path],
    tz: str | None,
    split_mb: int,
    cluster_reports: str,
) -> Options:
    """The fleet's options (checked: a bad one, or Dask missing when it is needed, is one
    line)."""
    from logdoctor.fleet import Options
    from logdoctor.fleet.runner import validate
    from logdoctor.ingest import cacheswitch

    opts = Options(
        select=tuple(rule_ids(select)),
        ignore=tuple(rule_ids(ignore)),
        fail_on=fail_on,
        correct_skew=correct_skew,
        formats_dir=tuple(str(d) for d in formats_dirs),
        tz=tz,
        jobs=(os.cpu_count() or 1) if in_process else 1,
        split_bytes=split_mb << 20,
        part_bytes=max(1, (split_mb << 20) // 2),
        report=cluster_reports,
        cache=cacheswitch.enabled(),
    )
    validate(opts)
    if not in_process:
        _require_dask()  # before anything is written
    return opts


def _require_dask() -> None:
    """One line naming what to install when Dask is not there."""
    try:
        import logdoctor.fleet.dask_runner  # noqa: F401
    except ImportError as exc:
        raise CliError(
            f"logdoctor fleet needs Dask ({exc}): pip install 'logdoctor[fleet]', "
            "or run with --in-process"
        ) from None


def _run_dask(
    found: Sequence[Bundle],
    opts: Options,
    output: FleetOutput,
    scheduler: str | None,
    workers: int | None,
    connect_timeout: float,
) -> FleetResult:
    """The bundles checked on a Dask cluster (a local one, or --scheduler's)."""
    from logdoctor.fleet.dask_runner import connect, run_dask

    with FleetProgress() as progress:
        progress.starting(f"connecting to {scheduler}" if scheduler else "starting Dask workers")
        with connect(scheduler, workers, timeout=connect_timeout) as conn:
            return run_dask(found, opts, conn, observer=progress, on_result=output.document)


def _summarize(result: FleetResult, *, why: str, fail_on: str, tz: str | None) -> None:
    """The bundles not read, where and how long the run took, the verdict, the failing
    clusters."""
    from logdoctor.outputs.findings import safe
    from logdoctor.outputs.terminal import clean

    for b in result.bundles:
        if not b.ok:
            click.echo(
                f"logdoctor: error: {clean(b.cluster)}: {b.status}: {clean(b.error)}", err=True
            )
    s = result.summary()
    st, sev = s["status"], s["by_severity"]
    start = f" (+{result.startup_seconds:.1f} s start-up)" if result.startup_seconds else ""
    where = f"this process (no Dask; {why})" if why else result.where
    click.echo(
        f"{s['clusters']} cluster(s) on {where} in {result.seconds:.1f} s{start}: "
        f"{st['ok']} checked, {st['partial']} partial, {st['failed']} failed"
    )
    assumed = [b.cluster for b in result.bundles if b.utc_assumed]
    if assumed and tz is None:
        names = ", ".join(safe(clean(c)) for c in assumed[:5])
        names += " ..." if len(assumed) > 5 else ""
        warn(
            f"times without a zone were read as UTC in {len(assumed)} cluster(s) ({names}); "
            "give --tz ZONE or a timezone in their deployment files"
        )
    verdict = (
        f"{s['failing_clusters']} cluster(s) FAILED at or above {fail_on}"
        if s["failing_clusters"]
        else f"no finding at or above {fail_on}"
    )
    click.echo(
        f"{s['findings']} finding(s): {sev['error']} error, {sev['warning']} warning, "
        f"{sev['info']} info; {verdict}" + (":" if s["failing_clusters"] else "")
    )
    for line in failing_lines(result):
        click.echo(line)


def failing_lines(result: FleetResult, shown: int = 20) -> list[str]:
    """One line per failing cluster, worst first: its name and its failing rules, with the
    severity and how many findings (``acme-east: LD101 error, LD403 warning x19``)."""
    from logdoctor.fleet.summary import cluster_order
    from logdoctor.outputs.findings import safe
    from logdoctor.outputs.terminal import clean

    lines = []
    failing = sorted((b for b in result.bundles if b.failing_count), key=cluster_order)
    for b in failing[:shown]:
        rules: dict[str, list[str]] = {}
        for f, fails in zip(b.findings, b.failing, strict=True):
            if fails:
                rules.setdefault(f.rule, []).append(str(f.severity))
        parts = [
            f"{rule} {sevs[0]}" + (f" x{len(sevs)}" if len(sevs) > 1 else "")
            for rule, sevs in rules.items()
        ]
        lines.append(f"  {safe(clean(b.cluster))}: {', '.join(parts)}")
    if len(failing) > shown:
        lines.append(f"  ... and {len(failing) - shown} more cluster(s) (see index.html)")
    return lines
