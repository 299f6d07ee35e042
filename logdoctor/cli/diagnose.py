"""``check``, ``rules``, ``timeline``: diagnosis and CI."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import (
    EXIT_USAGE,
    CliError,
    _binary_out,
    _console,
    _ids,
    _load,
    _report_input_errors,
    handle_errors,
    input_options,
    main,
    warn,
)

if TYPE_CHECKING:
    from logdoctor.rules import Rule

# -- check, rules, timeline (diagnosis) ---------------------------------------------------------


@main.command("check")
@click.argument("paths", nargs=-1)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Deployment file (TOML) declaring what the deployment is meant to be.",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "json", "sarif", "junit"]),
    default="text",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="IDS",
    help="Run only these rules (comma-separated ids or prefixes: LD101,LD2).",
)
@click.option(
    "--ignore", multiple=True, metavar="IDS", help="Do not run these rules (ids or prefixes)."
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding at or above this severity is not in the baseline.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Known findings (rule + subject) that do not fail the check.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write the current findings to FILE as the new baseline (they then pass).",
)
@click.option(
    "--correct-skew",
    is_flag=True,
    help="Shift each node's times by its clock offset before correlating.",
)
@input_options
@handle_errors
def check_cmd(
    paths: Sequence[str],
    config: Path | None,
    out_format: str,
    output: Path | None,
    select: Sequence[str],
    ignore: Sequence[str],
    fail_on: str,
    baseline: Path | None,
    write_baseline: Path | None,
    correct_skew: bool,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Diagnose logs and / or a deployment file; exit 0 clean, 1 findings, 2 bad input.

    PATHS are log files, folders or bundles; --config FILE adds (or alone checks) the
    declared deployment.
    """
    from dataclasses import replace

    from logdoctor.baseline import dump_baseline, load_baseline
    from logdoctor.check import check
    from logdoctor.deployment import DeploymentError

    if not paths and config is None:
        raise CliError("nothing to check: give log paths, --config FILE, or both")
    for p in paths:
        if p.lower().endswith(".toml"):
            raise CliError(
                f"{p}: a TOML file among the log paths; give a deployment file with --config "
                "(one per run)"
            )
    try:
        known = None if baseline is None else load_baseline(baseline)
        report = check(
            list(paths),
            config=config,
            select=_ids(select),
            ignore=_ids(ignore),
            fail_on=fail_on,
            baseline=known,
            correct_skew=correct_skew,
            formats_dir=formats_dirs,
            node=set_node,
            tz=tz,
            jobs=jobs,
        )
    except DeploymentError as exc:
        raise CliError(str(exc)) from None
    if paths and report.files == 0 and not report.errors:
        raise CliError(
            f"no log file found in {', '.join(paths)} (ssoApp.log, ssosp*.log, certMgmt*.log)"
        )
    if write_baseline is not None:
        from logdoctor.baseline import Baseline
        from logdoctor.baseline import load_baseline as _reload

        try:
            write_baseline.write_text(dump_baseline(report.findings), encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{write_baseline}: cannot write ({exc.strerror or exc})") from None
        fresh: Baseline = _reload(write_baseline)
        report = replace(report, baseline=fresh)
        warn(f"wrote {len(fresh.entries)} finding(s) to the baseline {write_baseline}")
    with _binary_out(output) as fh:
        if out_format == "json":
            from logdoctor.outputs.findings import write_json

            write_json(report, fh)
        elif out_format == "sarif":
            from logdoctor.outputs.sarif import write_sarif

            write_sarif(report, fh)
        elif out_format == "junit":
            from logdoctor.outputs.junit import write_junit

            write_junit(report, fh)
        else:
            from logdoctor.outputs.findings import write_text

            color = output is None and sys.stdout.isatty()
            write_text(report, fh, width=_width(), color=color)
    _report_input_errors(report)
    sys.exit(report.exit_code)


def _width() -> int:
    import shutil

    return max(60, min(160, shutil.get_terminal_size((100, 24)).columns))


@main.command("rules")
@click.argument("rule_id", required=False, metavar="[ID]")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@handle_errors
def rules_cmd(rule_id: str | None, out_format: str) -> None:
    """List the diagnostic rules, or print the documentation page of rule ID."""
    from logdoctor.formats import kind_bases, load_formats
    from logdoctor.rules import all_rules, get_rule

    bases = kind_bases(load_formats())
    if rule_id is not None:
        try:
            r = get_rule(rule_id)
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from None
        basis = r.basis(bases)
        if out_format == "json":
            doc = {
                "id": r.id,
                "severity": str(r.severity),
                "title": r.title,
                "category": r.category,
                "basis": None if basis is None else basis.value,
                "kinds": [
                    {"kind": k.kind, "family": k.family, "basis": k.basis.value}
                    for k in r.kind_bases(bases)
                ],
                "sections": r.doc.sections,
                "fix": list(r.doc.fix),
                "references": list(r.doc.references),
            }
            click.echo(json.dumps(doc, indent=2))
            return
        click.echo(f"{r.id} ({r.severity}, {r.category}): {r.title}\n")
        click.echo(_basis_page(r, bases) + "\n")
        click.echo(r.doc.text)
        return
    rules = all_rules()
    if out_format == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "severity": str(r.severity),
                        "title": r.title,
                        "category": r.category,
                        "basis": _basis_value(r, bases),
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
        return
    from rich.table import Table

    t = Table(show_header=True, header_style="bold")
    t.add_column("id", no_wrap=True)
    t.add_column("severity", no_wrap=True)
    t.add_column("category", no_wrap=True)
    t.add_column("basis", no_wrap=True)
    t.add_column("title", overflow="fold")
    for r in rules:
        t.add_row(r.id, str(r.severity), r.category, _basis_value(r, bases) or "-", r.title)
    _console().print(t)


def _basis_value(r: Rule, bases: dict[str, dict[str, tuple[str, ...]]]) -> str | None:
    basis = r.basis(bases)
    return None if basis is None else basis.value


def _basis_page(r: Rule, bases: dict[str, dict[str, tuple[str, ...]]]) -> str:
    """The ``Basis:`` section of a rule's page: its basis and the kinds it reads, by basis."""
    from logdoctor.rules.registry import ANY_KIND

    if ANY_KIND in r.needs.kinds:
        return "Basis: none (it reads every record: the health of the logs themselves)"
    basis = r.basis(bases)
    lines = [
        f"Basis: {basis.value if basis is not None else 'none'} (the weakest basis of the "
        "kinds it reads)"
    ]
    by: dict[str, list[str]] = {}
    for k in r.kind_bases(bases):
        by.setdefault(k.basis.value, []).append(f"{k.kind} ({k.family})")
    for name in ("published", "documented", "modelled"):
        if name in by:
            lines.append(f"  {name}: {', '.join(by[name])}")
    lines.append(
        "  (published: a verbatim public Cisco line backs the form; documented: Cisco "
        "documents that the log records it, the wording is modelled; modelled: neither)"
    )
    return "\n".join(lines)


@main.command("timeline")
@click.argument("paths", nargs=-1, required=True)
@click.option("--user", metavar="U", help="Lines about user U.")
@click.option("--device", metavar="D", help="Lines about device D (CSF..., TCT...).")
@click.option("--node", metavar="N", help="Lines written by node N.")
@click.option("--token", metavar="JTI", help="Lines about token JTI (or tid), with its lineage.")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "jsonl"]),
    default="text",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output (jsonl).",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=500,
    show_default=True,
    help="Rows shown by --format text.",
)
@click.option(
    "--correct-skew",
    is_flag=True,
    help="Shift each node's times by its clock offset (see rule LD903) before merging.",
)
@input_options
@handle_errors
def timeline_cmd(
    paths: Sequence[str],
    user: str | None,
    device: str | None,
    node: str | None,
    token: str | None,
    out_format: str,
    output: Path | None,
    limit: int,
    correct_skew: bool,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """The merged, time-ordered lines of several nodes about a user, device, node or token."""
    from logdoctor import correlate
    from logdoctor.events import Events

    if not any((user, device, node, token)):
        raise CliError("give --user, --device, --node or --token (what the timeline is about)")
    result = _load(paths, formats_dirs, tz, set_node, jobs)
    events = Events(result.frame)
    note = ""
    if correct_skew:
        report = correlate.clock_skew(events)
        if report.skewed():
            events = Events(correlate.correct_skew(events.frame, report))
            note = "times corrected for clock skew: " + ", ".join(
                f"{n} {o:+.1f} s" for n, o in report.skewed()
            )
    lin = correlate.lineage(events)
    enriched = correlate.enrich(events, lin)
    frame = correlate.timeline(enriched, user=user, device=device, node=node, token=token, lin=lin)
    if out_format == "jsonl":
        from logdoctor.outputs.timeline import write_timeline_jsonl

        with _binary_out(output) as fh:
            write_timeline_jsonl(frame, fh)
    else:
        from logdoctor.outputs.timeline import timeline_table

        if output is not None:
            raise CliError("--output needs --format jsonl")
        console = _console()
        console.print(timeline_table(frame, limit=limit))
        more = (
            f"; {frame.height - limit:,} more (use --limit or --format jsonl)"
            if (frame.height > limit)
            else ""
        )
        span = ""
        if frame.height:
            lo, hi = frame["time"].min(), frame["time"].max()
            if isinstance(lo, datetime) and isinstance(hi, datetime):
                span = f" from {lo:%Y-%m-%d %H:%M:%S} to {hi:%Y-%m-%d %H:%M:%S} UTC"
        console.print(f"{frame.height:,} line(s){span}{more}", style="dim")
        if note:
            console.print(note, style="dim")
    if _report_input_errors(result):
        sys.exit(EXIT_USAGE)
