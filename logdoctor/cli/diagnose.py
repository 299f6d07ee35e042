"""``check``, ``rules``, ``timeline``: diagnosis and CI."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from logdoctor.cli._base import (
    _binary_out,
    _ids,
    _inputs,
    _not_in_logs,
    _report_check_errors,
    _report_input_errors,
    _require_log_files,
    input_options,
    main,
    partial_options,
)
from logdoctor.cli.errors import EXIT_USAGE, CliError, broken_pipe, handle_errors
from logdoctor.cli.options import (
    color_option,
    display_tz_option,
    entry_zone,
    event_filter,
    event_filter_options,
    machine_zone,
    report_zones,
    shown_zone,
    zones,
    zones_config_option,
)
from logdoctor.cli.progress import TermProgress
from logdoctor.cli.term import quiet_exit, terminal

if TYPE_CHECKING:
    from logdoctor.rules import Rule

# -- check, rules, timeline (diagnosis) ---------------------------------------------------------


def _evidence_count(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--evidence N|all``: a count, ``all`` (-1), or None when not given."""
    if value is None:
        return None
    text = value.strip().lower()
    if text == "all":
        return -1
    if not text.isdigit():
        raise click.BadParameter(f"{value!r} is not a number or 'all'")
    return int(text)


@main.command("check")
@click.argument("paths", nargs=-1)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Deployment file (TOML) declaring what the deployment is meant to be (and the "
    "nodes' time zones).",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "concise", "json", "sarif", "junit"]),
    default="text",
    show_default=True,
    help="text: findings with evidence and fix steps, a short summary by rule, the verdict; "
    "concise: one line per finding (path:line: LD101 error message).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output (the verdict line is still printed).",
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
    help="Known findings (rule + subject) that do not fail the check; text and concise hide "
    "them (see --show-unchanged).",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write the current findings to FILE as the new baseline (they then pass).",
)
@click.option(
    "--show-unchanged",
    is_flag=True,
    help="text, concise: also show the findings that are in the baseline.",
)
@click.option(
    "--evidence",
    "evidence",
    metavar="N|all",
    callback=_evidence_count,
    default=None,
    help="Evidence lines per finding, or all (default: text 3, json / sarif / junit 20).",
)
@click.option(
    "--correct-skew",
    is_flag=True,
    help="Shift each node's times by its clock offset before correlating.",
)
@display_tz_option
@color_option
@partial_options
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
    show_unchanged: bool,
    evidence: int | None,
    correct_skew: bool,
    display_tz: str | None,
    color: str,
    allow_partial: bool,
    one_cluster: bool,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """Diagnose logs and / or a deployment file; exit 0 clean, 1 findings, 2 bad input.

    PATHS are log files, folders or bundles of one cluster; --config FILE adds (or alone
    checks) the declared deployment. Exit 2 also when no log record was read, when an input
    could not be read (unless --allow-partial) or when a rule failed.
    """
    from dataclasses import replace

    from logdoctor.baseline import dump_baseline, load_baseline
    from logdoctor.pipeline import check
    from logdoctor.rules import EVIDENCE_CAP
    from logdoctor.ucm.deployment import DeploymentError

    if not paths and config is None:
        raise CliError("nothing to check: give log paths, --config FILE, or both")
    for p in paths:
        if p.lower().endswith(".toml"):
            raise CliError(
                f"{p}: a TOML file among the log paths; give a deployment file with --config "
                "(one per run)"
            )
    all_evidence = evidence == -1
    cap = None if all_evidence else (EVIDENCE_CAP if evidence is None else evidence)
    try:
        known = None if baseline is None else load_baseline(baseline)
        with TermProgress() as progress:
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
                allow_partial=allow_partial,
                one_cluster=one_cluster,
                evidence_cap=cap,
                progress=progress,
            )
    except DeploymentError as exc:
        raise CliError(str(exc)) from None
    report_zones(report.zones)
    if write_baseline is not None:
        from logdoctor.baseline import Baseline
        from logdoctor.baseline import load_baseline as _reload

        try:
            write_baseline.write_text(dump_baseline(report.findings), encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{write_baseline}: cannot write ({exc.strerror or exc})") from None
        fresh: Baseline = _reload(write_baseline)
        report = replace(report, baseline=fresh)
        click.echo(
            f"logdoctor: wrote {len(fresh.entries)} finding(s) to the baseline {write_baseline}",
            err=True,
        )
    from logdoctor.outputs.checktext import TEXT_EVIDENCE, TextOptions, cwd_relative, verdict

    term = terminal(color)
    opts = TextOptions(
        zone=shown_zone(display_tz, report.zones),
        evidence=(None if all_evidence else TEXT_EVIDENCE if evidence is None else evidence),
        show_unchanged=show_unchanged,
        width=term.text_width if output is None else None,
        followup=_followup(paths, config, tz, set_node, formats_dirs),
        path=cwd_relative,
    )
    try:
        _write_check(report, out_format, output, opts, term, display_tz)
    except OSError as exc:
        if not broken_pipe(exc):
            raise
        quiet_exit(report.exit_code)  # the reader left; the verdict still decides the status
    if output is not None and str(output) != "-":
        line = verdict(report, opts)
        line.append(f"; wrote {output}")
        term.print_lines([line])
    _report_check_errors(report)
    sys.exit(report.exit_code)


def _write_check(
    report: Any, out_format: str, output: Path | None, opts: Any, term: Any, display_tz: str | None
) -> None:
    """Write the check in its format to ``output`` (standard output when None)."""
    with _binary_out(output) as fh:
        if out_format == "json":
            from logdoctor.outputs.findings import write_json

            write_json(report, fh, machine_zone(display_tz, report.zones))
        elif out_format == "sarif":
            from logdoctor.outputs.sarif import write_sarif

            write_sarif(report, fh)
        elif out_format == "junit":
            from logdoctor.outputs.junit import write_junit

            write_junit(report, fh)
        elif out_format == "concise":
            from logdoctor.outputs.checktext import write_concise

            write_concise(report, fh, opts, color=term.color and output is None)
        else:
            from logdoctor.outputs.checktext import write_text

            write_text(report, fh, opts, color=term.color and output is None)


def _followup(
    paths: Sequence[str],
    config: Path | None,
    tz: str | None,
    set_node: str | None,
    formats_dirs: Sequence[Path],
) -> Any:
    """The commands that show a finding's evidence lines left out of the text view."""
    common: list[str] = []
    if tz is not None:
        common += ["--tz", tz]
    if set_node is not None:
        common += ["--set-node", set_node]
    for d in formats_dirs:
        common += ["--formats-dir", str(d)]

    def commands(f: Any) -> list[str]:
        if not paths:
            return []
        conf = ["--config", str(config)] if config is not None else []
        every = ["--select", f.rule, "--evidence", "all"]
        out = ["all: " + shlex.join(["logdoctor", "check", *paths, *conf, *every, *common])]
        kinds = sorted({e.kind for e in f.evidence if e.kind and e.kind != "config"})
        if kinds:
            args = [a for k in kinds for a in ("--kind", k)]
            out.append(
                "lines of "
                + ("this kind" if len(kinds) == 1 else "these kinds")
                + ": "
                + shlex.join(["logdoctor", "parse", *paths, *args, "--format", "jsonl", *common])
            )
        return out

    return commands


@main.command("rules")
@click.argument("rule_id", required=False, metavar="[ID]")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@color_option
@handle_errors
def rules_cmd(rule_id: str | None, out_format: str, color: str) -> None:
    """List the diagnostic rules with their basis, or print the documentation page of rule ID
    (its basis first: the weakest of the kinds it reads).

    A prefix (LD1, LD20) lists the rules it matches, as --select reads it.
    """
    import re

    from logdoctor.ingest.formats.catalog import kind_bases, load_formats
    from logdoctor.outputs.sheet import Column, Sheet
    from logdoctor.outputs.terminal import plain_markup
    from logdoctor.rules import all_rules, get_rule, select_rules

    bases = kind_bases(load_formats())
    if rule_id is not None and re.fullmatch(r"(?i)\s*LD\d{3}\s*", rule_id):
        try:
            r = get_rule(rule_id)
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from None
        if out_format == "json":
            doc = {
                "id": r.id,
                "severity": str(r.severity),
                "title": r.title,
                "category": r.category,
                "basis": _basis_value(r, bases),
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
        click.echo(plain_markup(r.doc.text))
        return
    rules = all_rules() if rule_id is None else select_rules([rule_id])
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
    sheet = Sheet(
        (
            Column("id"),
            Column("severity"),
            Column("category"),
            Column("basis"),
            Column("title", free=True),
        )
    )
    for r in rules:
        sheet.add(r.id, str(r.severity), r.category, _basis_value(r, bases) or "-", r.title)
    terminal(color).print_sheet(sheet)


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
@click.option(
    "--user",
    metavar="U",
    help="Lines about user U (any case): the client (Jabber PRT), edge (Expressway) and server"
    " sides, in a side column.",
)
@click.option("--device", metavar="D", help="Lines about device D (CSF..., TCT...; any case).")
@click.option("--node", metavar="N", help="Lines written by node N.")
@click.option(
    "--token",
    metavar="ID",
    help="Lines about token ID, with its lineage; the start of an id is enough (id=5d8e8baf…).",
)
@event_filter_options
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["text", "tsv", "csv", "jsonl"]),
    default="text",
    show_default=True,
    help="text: a table (ids cut to 8 characters); tsv, csv, jsonl: every column whole.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output (tsv, csv, jsonl).",
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
@display_tz_option
@zones_config_option
@color_option
@input_options
@handle_errors
def timeline_cmd(
    paths: Sequence[str],
    user: str | None,
    device: str | None,
    node: str | None,
    token: str | None,
    kinds: Sequence[str],
    since: str | None,
    until: str | None,
    failures: bool,
    out_format: str,
    output: Path | None,
    limit: int,
    correct_skew: bool,
    display_tz: str | None,
    config: Path | None,
    color: str,
    formats_dirs: Sequence[Path],
    tz: str | None,
    set_node: str | None,
    jobs: int | None,
) -> None:
    """The merged, time-ordered lines of several nodes about a user, device, node or token
    (and / or of some kinds, failures, a time window).

    Exit 1 (with the closest names) when the user, device, node or token is not in the logs.
    """
    from logdoctor.analysis.events import Events
    from logdoctor.analysis.lineage import enrich, lineage
    from logdoctor.analysis.pivots import AmbiguousPrefix, UnknownValue, missing, resolve_prefix
    from logdoctor.analysis.sessions import timeline
    from logdoctor.analysis.skew import clock_skew
    from logdoctor.analysis.skew import correct_skew as corrected_times
    from logdoctor.analysis.usertimeline import user_timeline

    if not any((user, device, node, token, kinds, failures, since, until)):
        raise CliError(
            "give --user, --device, --node, --token, --kind, --failures, --since or --until "
            "(what the timeline is about)"
        )
    if output is not None and out_format == "text":
        raise CliError("--output needs --format tsv, csv or jsonl")
    book = zones(tz, config)
    filt = event_filter(kinds, since, until, failures, entry_zone(display_tz, book))
    with TermProgress() as progress:
        loader = _inputs(
            paths, formats_dirs, tz, set_node, jobs, zones=book, progress=progress, config=config
        )
        _require_log_files(loader, paths)
        result = loader.result()
        progress.stage("correlating")
        events = Events(result.frame)
        note = ""
        if correct_skew:
            report = clock_skew(events)
            if report.skewed():
                events = Events(corrected_times(events.frame, report))
                note = "times corrected for clock skew: " + ", ".join(
                    f"{n} {o:+.1f} s" for n, o in report.skewed()
                )
        lin = lineage(events)
        enriched = enrich(events, lin)
    report_zones(book)
    for value, column, what in ((user, "user", "user"), (device, "device", "device")):
        problem = missing([value], enriched[column].drop_nulls().unique(), what) if value else None
        if problem:
            raise _not_in_logs(problem, result)
    if node is not None:
        node = result.nodes.resolve(node)  # an alias (IP address, FQDN, folder) works too
        problem = missing([node], enriched["node"].drop_nulls().unique(), "node")
        if problem:
            raise _not_in_logs(problem, result)
        node = next(n for n in enriched["node"].unique() if n and n.lower() == node.lower())
    if token is not None:
        try:
            token = resolve_prefix(token, enriched["token_id"].drop_nulls().unique(), "token")
        except AmbiguousPrefix as exc:
            raise CliError(str(exc)) from None
        except UnknownValue as exc:
            raise _not_in_logs(str(exc.args[0]), result) from None
    if user is not None and not (device or node or token):
        # a user's lines from the three sides: client (PRT), edge (Expressway), server
        frame = user_timeline(enriched, user)
    else:
        frame = timeline(enriched, user=user, device=device, node=node, token=token, lin=lin)
    conds = filt.conditions()
    if conds:
        frame = frame.filter(*conds)
    if out_format == "jsonl":
        from logdoctor.outputs.timeline import write_timeline_jsonl

        with _binary_out(output) as fh:
            write_timeline_jsonl(frame, fh, machine_zone(display_tz, book))
    elif out_format in ("tsv", "csv"):
        from logdoctor.outputs.sheet import Column, Sheet, write_sheet
        from logdoctor.outputs.timeline import timeline_rows

        nodes = frame["node"].drop_nulls().unique()
        names, rows = timeline_rows(
            frame,
            shown_zone(display_tz, book, nodes)
            if out_format == "tsv"
            else machine_zone(display_tz, book),
        )
        with _binary_out(output) as fh:
            write_sheet(Sheet(tuple(Column(n) for n in names)), out_format, fh, raw=rows)
    else:
        from logdoctor.outputs.terminal import when
        from logdoctor.outputs.timeline import timeline_sheet

        zone = shown_zone(display_tz, book, frame["node"].drop_nulls().unique())
        term = terminal(color)
        console = term.console()
        term.print_sheet(timeline_sheet(frame, zone, limit=limit), console)
        more = (
            f"; {frame.height - limit:,} more (use --limit or --format jsonl)"
            if (frame.height > limit)
            else ""
        )
        span = ""
        if frame.height:
            lo, hi = frame["time"].min(), frame["time"].max()
            span = f" from {when(lo, zone, ms=False)} to {when(hi, zone, ms=False)}"  # type: ignore[arg-type]
        term.note(f"{frame.height:,} line(s){span}{more}", console)
        if note:
            term.note(note, console)
    if _report_input_errors(result):
        sys.exit(EXIT_USAGE)
