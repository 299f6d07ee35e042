"""Start-up: the commands that only read logs (``stats``, ``parse`` to a machine format) do
not import the heavy packages of the other commands (they cost most of a small run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("rich", "pandas", "pyarrow", "jinja2", "joserfc", "logdoctor.rules", "logdoctor.report")

PROBE = """
import sys
from logdoctor.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] if not m.startswith("logdoctor.") else ".".join(m.split(".")[:2])
                for m in sys.modules} & set(sys.argv[0].split(",")))
print("IMPORTED", ",".join(heavy), file=sys.stderr)
"""


def run_probed(watched: str, args: list[str]) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run the CLI with ``args`` in a fresh interpreter; the run and its last ``IMPORTED`` line
    (which of the comma-separated ``watched`` packages it imported)."""
    probe = PROBE.replace("sys.argv[0]", repr(watched))
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("IMPORTED")]
    assert line, done.stderr
    return done, line[-1]


@pytest.mark.parametrize(
    "args",
    [["stats", "--format", "json"], ["parse", "--format", "jsonl"], ["stats", "--format", "csv"]],
    ids=["stats-json", "parse-jsonl", "stats-csv"],
)
def test_reading_commands_import_no_heavy_package(tmp_path: Path, args: list[str]) -> None:
    log = tmp_path / "cucm-pub" / "ssosp01.log"
    log.parent.mkdir()
    log.write_text(
        "2026-03-01 10:00:00,000 INFO  [http-bio-8443-exec-1] oauth.TokenServlet - hello\n",
        encoding="utf-8",
    )
    done, line = run_probed(",".join(HEAVY), [args[0], str(log), *args[1:], "--no-cache"])
    assert line == "IMPORTED ", line
    assert done.stdout  # the command ran and wrote its output


def test_kinds_with_the_formats_cached_imports_no_polars(tmp_path: Path) -> None:
    """``kinds`` reads the compiled formats back without the parse engines: polars (about
    half of a small run's CPU) is imported only on a miss, when a format file is compiled."""
    probe = PROBE.replace("sys.argv[0]", repr("polars"))
    env = {**os.environ, "LOGDOCTOR_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("LOGDOCTOR_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe, "kinds", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
        for _ in range(2)
    ]
    imported = [[x for x in r.stderr.splitlines() if x.startswith("IMPORTED")] for r in runs]
    assert imported[0] == ["IMPORTED polars"], runs[0].stderr  # a miss compiles the formats
    assert imported[1] == ["IMPORTED "], runs[1].stderr  # a hit does not need polars
    assert runs[0].stdout == runs[1].stdout
    assert json.loads(runs[1].stdout)["auth.success"]["basis"]


def test_a_command_imports_only_its_own_command_modules(tmp_path: Path) -> None:
    """``stats`` imports the module of ``stats`` (and what it uses), not those of the other
    commands; ``--help`` still lists every command."""
    others = ("check", "fleet", "report", "rules", "service", "serve", "simulate", "tail")
    modules = ",".join(f"logdoctor.cli.{m}" for m in others)
    probe = PROBE.split("heavy = ")[0] + (
        f"print('IMPORTED', ','.join(sorted(set(sys.modules) & set({modules!r}.split(',')))),"
        " file=sys.stderr)"
    )
    log = tmp_path / "ssosp01.log"
    log.write_text("2026-03-01 10:00:00,000 INFO  [x] oauth.TokenServlet - hello\n")
    done = subprocess.run(
        [sys.executable, "-c", probe, "stats", str(log), "--format", "json", "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert [x for x in done.stderr.splitlines() if x.startswith("IMPORTED")] == ["IMPORTED "]
    assert json.loads(done.stdout)["totals"]["lines"] == 1


def test_every_command_is_registered_by_the_modules_named_for_it() -> None:
    """COMMAND_MODULES names, for every command, the modules that define it: looking a
    command up imports them (a missing or wrong entry would leave the command unknown)."""
    import click

    from logdoctor.cli import main
    from logdoctor.cli._base import COMMAND_MODULES

    assert set(main.commands) == set(COMMAND_MODULES)
    for name, cmd in main.commands.items():
        assert cmd.callback is not None
        assert cmd.callback.__module__ in {f"logdoctor.cli.{m}" for m in COMMAND_MODULES[name]}
        assert main.get_command(click.Context(main), name) is cmd
    formats = main.commands["formats"]
    assert isinstance(formats, click.Group)
    assert {"suggest", "export"} <= set(formats.commands)  # cli/formats.py adds these


@pytest.mark.parametrize("command", ["check", "report"])
def test_check_and_report_import_no_numpy(tmp_path: Path, command: str) -> None:
    """``check`` and ``report`` find kinds' rows, gaps and chart buckets with polars alone:
    numpy's import (~0.1 CPU-s, a twentieth of a cached check on a million events) is never
    paid. Run on a bundle with findings, gaps and Expressway lines (every analysis runs)."""
    bundle = Path(__file__).resolve().parent.parent / "sample_logs" / "clock-skew"
    out = ["--format", "json"] if command == "check" else ["-o", str(tmp_path / "report.html")]
    done, line = run_probed("numpy,pandas,pyarrow", [command, str(bundle), *out, "--no-cache"])
    assert line == "IMPORTED ", line
    if command == "check":
        assert json.loads(done.stdout)["findings"]  # the rules ran and found something
    else:
        assert "clock" in (tmp_path / "report.html").read_text(encoding="utf-8").lower()
