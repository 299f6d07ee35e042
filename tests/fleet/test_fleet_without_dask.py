"""The core install does not need Dask: with ``dask`` and ``distributed`` made unimportable
(a meta-path finder that refuses them, in a fresh interpreter), ``import logdoctor.cli`` and
``logdoctor check`` work, ``fleet --in-process`` works, and ``fleet`` says what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.fleet import TEN, write_fleet

BLOCKED = r"""
import importlib.abc
import sys

class NoDask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, NoDask())
for name in [m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")]:
    del sys.modules[name]
import logdoctor.cli
assert not any(m.split(".")[0] in ("dask", "distributed") for m in sys.modules)
sys.argv = ["logdoctor", *sys.argv[1:]]
try:
    logdoctor.cli.main()
finally:
    leaked = [m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")]
    assert not leaked, leaked
"""


def logdoctor_without_dask(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_the_blocker_blocks(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED.replace("import logdoctor.cli", "import distributed")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "No module named 'distributed' (blocked)" in proc.stderr


def test_check_runs_without_dask(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[0],))
    proc = logdoctor_without_dask("check", paths[0], "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert '"rule": "LD101"' in proc.stdout


def test_fleet_in_process_runs_without_dask(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[0], TEN[6]))
    proc = logdoctor_without_dask("fleet", *paths, "--in-process", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "out" / "clusters" / "east-ld101.html").is_file()
    assert "2 checked" in proc.stdout


def test_fleet_on_dask_says_what_to_install(tmp_path: Path) -> None:
    paths, _ = write_fleet(tmp_path, (TEN[0],))
    # A fleet this small runs in process by default; --dask asks for Dask.
    proc = logdoctor_without_dask("fleet", *paths, "-o", "out", "--dask", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("logdoctor: error: logdoctor fleet needs Dask")
    assert "pip install 'logdoctor[fleet]'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # refused before anything was written
