"""``simulate``: scenario bundles with ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import CliError, handle_errors
from logdoctor.cli.progress import TermProgress
from logdoctor.cli.term import terminal

if TYPE_CHECKING:
    from logdoctor.simulate import RunSummary

# -- simulate ------------------------------------------------------------------------------------


def _sim_line(summary: RunSummary, dest: str) -> str:
    from datetime import UTC

    start = datetime.fromtimestamp(summary.start, UTC).strftime("%Y-%m-%d %H:%M")
    exp = summary.expectation
    rules = ", ".join(exp.expect) or "no finding"
    return (
        f"{summary.scenario}: seed {summary.seed}, {summary.users} users "
        f"({summary.clients} clients), {summary.days} day(s) from {start} UTC, "
        f"{summary.files} files, {summary.bytes:,} bytes -> {dest}; expect {rules} "
        f"({summary.seconds:.1f} s)"
    )


@main.command("simulate")
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the scenarios and what each shows.")
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Simulate every scenario into OUT/NAME (what `make samples` does).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write: one folder per node (RTMT layout), deployment.toml, expected.json.",
)
@click.option(
    "--bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also (or instead) write the same as one zip file.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--start",
    metavar="ISO",
    default=None,
    help="First day of the log window (ISO 8601, UTC without a zone; default 2026-11-16, a "
    "Monday).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=None,
    help="Days of logs (default: the scenario's).",
)
@click.option(
    "--users",
    type=click.IntRange(1, 200_000),
    default=None,
    help="End users (default: the scenario's).",
)
@click.option(
    "--gzip-over",
    type=click.IntRange(0),
    default=None,
    metavar="BYTES",
    help="Gzip log files larger than BYTES (FILE.log.gz, as RTMT hands over rotated files).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an output folder that holds an earlier simulation.",
)
@handle_errors
def simulate_cmd(
    name: str | None,
    list_: bool,
    all_: bool,
    out: Path | None,
    bundle: Path | None,
    seed: int,
    start: str | None,
    days: int | None,
    users: int | None,
    gzip_over: int | None,
    force: bool,
) -> None:
    """Simulate a scenario: the token service driven by Jabber clients on a virtual clock.

    Writes what UCM would have logged (ssosp, ssoApp.log, certMgmt*.log per node), the
    declared deployment.toml and the expected.json verdicts. The same seed gives the same
    bytes.
    """
    from logdoctor.simulate import SCENARIOS

    if list_:
        width = max(len(n) for n in SCENARIOS)
        for sc in SCENARIOS.values():
            click.echo(f"{sc.name:<{width}}  {sc.summary}")
        return
    knobs = _Knobs(seed, start, days, users, gzip_over, force)
    if all_:
        if name is not None or bundle is not None:
            raise CliError("--all takes no scenario name and no --bundle")
        if out is None:
            raise CliError("--all needs --out DIR (a folder per scenario is written in it)")
        for sc_name in SCENARIOS:
            _run(sc_name, out / sc_name, None, knobs)
        return
    if name is None:
        raise CliError("give a scenario NAME (see --list), or --list, or --all")
    if out is None and bundle is None:
        raise CliError("give --out DIR and/or --bundle FILE.zip")
    _run(name, out, bundle, knobs)


@dataclass(frozen=True)
class _Knobs:
    """The options every simulated scenario of one run shares."""

    seed: int
    start: str | None
    days: int | None
    users: int | None
    gzip_over: int | None
    force: bool


def _run(name: str, out: Path | None, bundle: Path | None, knobs: _Knobs) -> None:
    """Simulate one scenario into ``out`` and / or ``bundle``, then one line saying what."""
    from logdoctor.simulate import simulate

    with TermProgress() as progress:
        summary = simulate(
            name,
            out=out,
            bundle=bundle,
            seed=knobs.seed,
            start=knobs.start,
            days=knobs.days,
            users=knobs.users,
            gzip_over=knobs.gzip_over,
            replace=knobs.force,
            progress=progress,
        )
    dests = [str(p) for p in (out, bundle) if p is not None]
    _print(_sim_line(summary, " and ".join(dests)))


def _print(line: str) -> None:
    """One line; on a terminal, wrapped at spaces (never inside a number or a path)."""
    from rich.text import Text

    from logdoctor.outputs.terminal import hang

    term = terminal()
    term.print_lines(hang(0, Text(line), 2, term.text_width))
