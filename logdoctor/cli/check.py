"""``check``: diagnose logs and / or a deployment file (exit 0 clean, 1 findings, 2 bad
input)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import CliError, broken_pipe, handle_errors
from logdoctor.cli.inputs import binary_out, report_check_errors
from logdoctor.cli.options import (
    InputSpec,
    color_option,
    config_option,
    display_tz_option,
    fail_on_option,
    format_option,
    input_options,
    machine_zone,
    output_option,
    partial_options,
    report_zones,
    rule_filter_options,
    rule_ids,
    shown_zone,
)
from logdoctor.cli.progress import TermProgress
from logdoctor.cli.term import Term, quiet_exit, terminal

if TYPE_CHECKING:
    from logdoctor.model import Finding
    from logdoctor.outputs.checktext import TextOptions
    from logdoctor.verdict import CheckReport


def _evidence_count(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """``--evidence N|all``: a count, ``all`` (-1), or None when not given."""
    if value is None:
        return None
    text = value.strip().lower()
    if text == "all":
        return -1
    if not text.isdigit():
        raise click.BadParameter(f"{value!r} is not a number or 'all'")
    return int(text)


def _check_options(fn: Callable[..., None]) -> Callable[..., None]:
    """The options of ``check`` of its own (baseline, evidence, skew)."""
    for option in reversed(
        (
            click.option(
                "--baseline",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                metavar="FILE",
                help="Known findings (rule + subject) that do not fail the check; text and "
                "concise hide them (see --show-unchanged).",
            ),
            click.option(
                "--write-baseline",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                metavar="FILE",
                help="Write the current findings to FILE as the new baseline (they then pass).",
            ),
            click.option(
                "--show-unchanged",
                is_flag=True,
                help="text, concise: also show the findings that are in the baseline.",
            ),
            click.option(
                "--evidence",
                "evidence",
                metavar="N|all",
                callback=_evidence_count,
                default=None,
                help="Evidence lines per finding, or all (default: text 3, json / sarif / "
                "junit 20).",
            ),
            click.option(
                "--correct-skew",
                is_flag=True,
                help="Shift each node's times by its clock offset before correlating.",
            ),
        )
    ):
        fn = option(fn)
    return fn


@main.command("check")
@click.argument("paths", nargs=-1)
@config_option(
    "Deployment file (TOML) declaring what the deployment is meant to be (and the nodes' time "
    "zones)."
)
@format_option(
    "findings",
    "text",
    "text: findings with evidence and fix steps, a short summary by rule, the verdict; "
    "concise: one line per finding (path:line: LD101 error message).",
)
@output_option("Write to FILE instead of standard output (the verdict line is still printed).")
@rule_filter_options
@fail_on_option("Exit 1 when a finding at or above this severity is not in the baseline.")
@_check_options
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
    inputs: InputSpec,
) -> None:
    """Diagnose logs and / or a deployment file; exit 0 clean, 1 findings, 2 bad input.

    PATHS are log files, folders or bundles of one cluster; --config FILE adds (or alone
    checks) the declared deployment. Exit 2 also when no log record was read, when an input
    could not be read (unless --allow-partial) or when a rule failed.
    """
    _refuse_toml_paths(paths, config)
    report = _run_check(
        paths,
        config,
        inputs,
        select=select,
        ignore=ignore,
        fail_on=fail_on,
        baseline=baseline,
        evidence=evidence,
        correct_skew=correct_skew,
        allow_partial=allow_partial,
        one_cluster=one_cluster,
    )
    report_zones(report.zones)
    if write_baseline is not None:
        report = _write_baseline(report, write_baseline)
    term = terminal(color)
    width = term.text_width if output is None else None
    opts = _text_options(report, paths, config, inputs, display_tz, evidence, show_unchanged)
    opts = replace(opts, width=width)
    _write_check(report, out_format, output, opts, term, display_tz)
    if output is not None and str(output) != "-":
        from logdoctor.outputs.checktext import verdict

        line = verdict(report, opts)
        line.append(f"; wrote {output}")
        term.print_lines([line])
    report_check_errors(report)
    sys.exit(report.exit_code)


def _refuse_toml_paths(paths: Sequence[str], config: Path | None) -> None:
    """Nothing to check, or a deployment file given as a log path: one line, exit 2."""
    if not paths and config is None:
        raise CliError("nothing to check: give log paths, --config FILE, or both")
    for p in paths:
        if p.lower().endswith(".toml"):
            raise CliError(
                f"{p}: a TOML file among the log paths; give a deployment file with --config "
                "(one per run)"
            )


def _run_check(
    paths: Sequence[str],
    config: Path | None,
    inputs: InputSpec,
    *,
    select: Sequence[str],
    ignore: Sequence[str],
    fail_on: str,
    baseline: Path | None,
    evidence: int | None,
    correct_skew: bool,
    allow_partial: bool,
    one_cluster: bool,
) -> CheckReport:
    """The library's check, with a progress line; a bad deployment file is one line."""
    from logdoctor.baseline import load_baseline
    from logdoctor.pipeline import check
    from logdoctor.rules import EVIDENCE_CAP
    from logdoctor.ucm.deploymodel import DeploymentError

    cap = None if evidence == -1 else (EVIDENCE_CAP if evidence is None else evidence)
    try:
        known = None if baseline is None else load_baseline(baseline)
        with TermProgress() as progress:
            return check(
                list(paths),
                config=config,
                select=rule_ids(select),
                ignore=rule_ids(ignore),
                fail_on=fail_on,
                baseline=known,
                correct_skew=correct_skew,
                **inputs.keywords(),
                allow_partial=allow_partial,
                one_cluster=one_cluster,
                evidence_cap=cap,
                progress=progress,
            )
    except DeploymentError as exc:
        raise CliError(str(exc)) from None


def _write_baseline(report: CheckReport, path: Path) -> CheckReport:
    """Write the findings as the new baseline; the report then judged against it."""
    from logdoctor.baseline import dump_baseline, load_baseline

    try:
        path.write_text(dump_baseline(report.findings), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot write ({exc.strerror or exc})") from None
    fresh = load_baseline(path)
    click.echo(f"logdoctor: wrote {len(fresh.entries)} finding(s) to the baseline {path}", err=True)
    return replace(report, baseline=fresh)


def _text_options(
    report: CheckReport,
    paths: Sequence[str],
    config: Path | None,
    inputs: InputSpec,
    display_tz: str | None,
    evidence: int | None,
    show_unchanged: bool,
) -> TextOptions:
    """What the text and concise views show (unwrapped)."""
    from logdoctor.outputs.checktext import TEXT_EVIDENCE, TextOptions, cwd_relative

    return TextOptions(
        zone=shown_zone(display_tz, report.zones),
        evidence=(None if evidence == -1 else TEXT_EVIDENCE if evidence is None else evidence),
        show_unchanged=show_unchanged,
        width=None,
        followup=_followup(paths, config, inputs),
        path=cwd_relative,
    )


def _write_check(
    report: CheckReport,
    out_format: str,
    output: Path | None,
    opts: TextOptions,
    term: Term,
    display_tz: str | None,
) -> None:
    """Write the check in its format to ``output`` (standard output when None); a reader
    that leaves early ends the run quietly with the verdict's exit status."""
    from logdoctor.outputs.registry import FindingsStyle, findings_writer

    style = FindingsStyle(
        text=opts,
        color=term.color and output is None,
        zone=machine_zone(display_tz, report.zones),
    )
    try:
        with binary_out(output) as fh:
            findings_writer(out_format)(report, fh, style)
    except OSError as exc:
        if not broken_pipe(exc):
            raise
        quiet_exit(report.exit_code)  # the reader left; the verdict still decides the status


def _followup(
    paths: Sequence[str], config: Path | None, inputs: InputSpec
) -> Callable[[Finding], list[str]]:
    """The commands that show a finding's evidence lines left out of the text view."""
    common: list[str] = []
    if inputs.tz is not None:
        common += ["--tz", inputs.tz]
    if inputs.set_node is not None:
        common += ["--set-node", inputs.set_node]
    for d in inputs.formats_dirs:
        common += ["--formats-dir", str(d)]

    def commands(f: Finding) -> list[str]:
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
