"""Progress: the library reports stages to an observer it is given (and never imports rich or
prints); the command line draws them on stderr when it is a terminal, and nothing otherwise."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from logdoctor.ingest.load import load
from logdoctor.pipeline import check
from logdoctor.progress import RecordingProgress
from logdoctor.report import diagnose
from logdoctor.rules import all_rules
from logdoctor.simulate import simulate
from tests.helpers.paths import ASSETS

CASE = ASSETS / "rules" / "LD101" / "bad"


def test_load_reports_each_file() -> None:
    rec = RecordingProgress()
    result = load(CASE, tz="UTC", progress=rec)
    assert rec.stages() == ["parsing"]
    assert rec.events[0] == ("stage", "parsing", 3, "files")
    assert rec.done("parsing") == len(result.stats) == 3
    assert {e[3] for e in rec.events[1:]} == {st.path for st in result.stats}


def test_check_reports_parsing_correlating_and_each_rule() -> None:
    rec = RecordingProgress()
    check([CASE], tz="UTC", progress=rec)
    assert rec.stages() == ["parsing", "correlating", "rules"]
    assert rec.done("rules") == len(all_rules())
    assert [e[3] for e in rec.events if e[1] == "rules" and e[0] == "advance"][:2] == [
        "LD101",
        "LD102",
    ]


def test_the_reports_diagnosis_reports_each_rule() -> None:
    rec = RecordingProgress()
    diagnose(load(CASE, tz="UTC"), progress=rec)
    assert rec.stages() == ["rules"] and rec.done("rules") == len(all_rules())


def test_simulate_reports_each_simulated_day(tmp_path: Path) -> None:
    rec = RecordingProgress()
    simulate("healthy", out=tmp_path / "sim", days=3, users=20, progress=rec)
    assert rec.stages() == ["simulating", "writing"]
    assert rec.events[0] == ("stage", "simulating", 3, "days")
    assert rec.done("simulating") == 3


def test_the_library_never_imports_rich() -> None:
    code = (
        "import sys\n"
        "from logdoctor.ingest.load import load\n"
        "from logdoctor.pipeline import check\n"
        "from logdoctor.progress import RecordingProgress\n"
        "import logdoctor.fleet.runner, logdoctor.fleet.sizing, logdoctor.simulate\n"
        f"check([{str(CASE)!r}], tz='UTC', progress=RecordingProgress())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "[]"


def run_with_stderr_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run logdoctor with stderr on a pseudo-terminal (stdout a pipe): status, stdout, and
    what the terminal received."""
    master, slave = pty.openpty()
    env = {**os.environ, "LOGDOCTOR_PROGRESS_DELAY": "0", "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "logdoctor.cli", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen = b""
    out = b""
    assert proc.stdout is not None
    streams = [master, proc.stdout.fileno()]
    while streams:
        ready, _, _ = select.select(streams, [], [], 120)
        assert ready, "no output for 120 s"
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal's other side closed
                chunk = b""
            if not chunk:
                streams.remove(fd)
            elif fd == master:
                seen += chunk
            else:
                out += chunk
    os.close(master)
    return proc.wait(timeout=120), out.decode(), seen.decode(errors="replace")


def test_progress_is_drawn_on_a_terminal_and_cleared() -> None:
    code, out, tty = run_with_stderr_on_a_terminal("check", str(CASE), "--tz", "UTC")
    assert code == 1
    assert "rules" in tty and "parsing" in tty  # the stages were drawn
    assert "\x1b[" in tty  # as a live display (cursor control), cleared at the end
    assert "LD101 error" in out and "rules" not in out.split("LD101")[0]


def test_nothing_is_drawn_off_a_terminal() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "logdoctor.cli", "check", str(CASE), "--tz", "UTC"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOGDOCTOR_PROGRESS_DELAY": "0", "FORCE_COLOR": "1"},
    )
    assert proc.returncode == 1
    assert proc.stderr == ""


def test_simulate_and_fleet_draw_progress_on_a_terminal(tmp_path: Path) -> None:
    code, out, tty = run_with_stderr_on_a_terminal(
        "simulate", "healthy", "--out", str(tmp_path / "sim"), "--days", "2", "--users", "20"
    )
    assert code == 0 and "simulating" in tty and "days" in tty
    assert out.startswith("healthy: seed 1, 20 users")
    code, out, tty = run_with_stderr_on_a_terminal(
        "fleet",
        str(tmp_path / "sim"),
        str(CASE),
        "--in-process",
        "-o",
        str(tmp_path / "f"),
        "--tz",
        "UTC",
    )
    assert code == 1 and "checking" in tty
    assert "2 cluster(s) on this process" in out
