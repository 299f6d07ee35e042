"""The wheel ships the summary page's template and stylesheet where the renderer looks."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.slow
def test_wheel_ships_the_fleet_page(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("logdoctor-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(meta).decode("utf-8")
    assert {
        "logdoctor/_data/reports/fleet.html.j2",
        "logdoctor/_data/reports/fleet.css",
        "logdoctor/fleet/dask_runner.py",
    } <= names
    assert "Provides-Extra: fleet" in metadata
    assert "Requires-Dist: dask[distributed]>=2024.8; extra == 'fleet'" in metadata
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert not any("dask" in r for r in core)
    assert any(r.startswith("Requires-Dist: jinja2") for r in core)
