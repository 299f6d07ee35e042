"""`logdoctor simulate` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.simulate import SCENARIOS


def test_list_names_every_scenario_with_its_summary(runner: CliRunner) -> None:
    res = runner.invoke(main, ["simulate", "--list"])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert [ln.split()[0] for ln in lines] == list(SCENARIOS)
    for ln, sc in zip(lines, SCENARIOS.values(), strict=True):
        assert ln.endswith(sc.summary)


def test_simulate_writes_folder_and_bundle(runner: CliRunner, tmp_path: Path) -> None:
    out, z = tmp_path / "out", tmp_path / "b.zip"
    args = ["simulate", "no-access-user", "--out", str(out), "--bundle", str(z)]
    res = runner.invoke(main, [*args, "--seed", "9", "--users", "8", "--days", "2"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("no-access-user: seed 9, 8 users")
    assert "expect LD304" in res.output and str(z) in res.output
    exp = json.loads((out / "expected.json").read_text())
    assert exp["scenario"] == "no-access-user" and exp["seed"] == 9
    assert z.stat().st_size > 1000
    # the folder now holds a simulation: replaced only with --force
    res = runner.invoke(main, [*args, "--users", "8", "--days", "2"])
    assert res.exit_code == 2 and "--force" in res.output
    res = runner.invoke(main, [*args, "--users", "8", "--days", "2", "--force"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "expected.json").read_text())["seed"] == 1


def test_usage_errors_are_one_line(runner: CliRunner, tmp_path: Path) -> None:
    cases = [
        (["simulate"], "give a scenario NAME"),
        (["simulate", "healthy"], "give --out DIR and/or --bundle"),
        (["simulate", "nope", "--out", str(tmp_path / "a")], "unknown scenario 'nope'"),
        (["simulate", "--all"], "--all needs --out"),
        (["simulate", "--all", "healthy", "--out", str(tmp_path)], "--all takes no scenario"),
        (
            ["simulate", "healthy", "--out", str(tmp_path / "b"), "--start", "soon"],
            "not an ISO 8601",
        ),
        (
            ["simulate", "inactive-user", "--out", str(tmp_path / "c"), "--days", "1"],
            "working day",
        ),
    ]
    for args, message in cases:
        res = runner.invoke(main, args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output, (args, res.output)
        assert "Traceback" not in res.output
        lines = [ln for ln in res.output.splitlines() if ln.startswith("logdoctor: error")]
        assert len(lines) == 1, res.output


def test_help_documents_the_options(runner: CliRunner) -> None:
    res = runner.invoke(main, ["simulate", "--help"])
    assert res.exit_code == 0
    for opt in ("--list", "--all", "--out", "--bundle", "--seed", "--start", "--days", "--users"):
        assert opt in res.output
