"""Start-up: the commands that only read logs (``stats``, ``parse`` to a machine format) do
not import the heavy packages of the other commands (they cost most of a small run)."""

from __future__ import annotations

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
    cmd = [sys.executable, "-c", PROBE.replace("sys.argv[0]", repr(",".join(HEAVY)))]
    done = subprocess.run(
        [*cmd, args[0], str(log), *args[1:], "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("IMPORTED")]
    assert line, done.stderr
    assert line[-1] == "IMPORTED ", line[-1]
    assert done.stdout  # the command ran and wrote its output
