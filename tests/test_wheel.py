"""`pip install .` gives a working logdoctor: build the wheel, install it in a new venv, run it."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT, asset


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = dist.glob("logdoctor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {
        "logdoctor/_data/parsers/ssosp.toml",
        "logdoctor/_data/parsers/ssoapp.toml",
        "logdoctor/_data/parsers/certmgmt.toml",
        "logdoctor/_data/reports/report.html.j2",
        "logdoctor/_data/reports/_macros.html.j2",
        "logdoctor/_data/reports/report.css",
        "logdoctor/_data/reports/report.js",
        "logdoctor/_data/reports/vendor/uplot/uPlot.iife.min.js",
        "logdoctor/_data/reports/vendor/uplot/uPlot.min.css",
        "logdoctor/_data/reports/vendor/uplot/LICENSE",
    } <= set(names)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    exe = env_dir / "bin" / "logdoctor"
    # Run from an empty folder so nothing is imported from the checkout.
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = subprocess.run(
        [str(exe), "formats", "--format", "json"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    formats = json.loads(out.stdout)
    assert sorted(f["name"] for f in formats) == [
        "auditapp",
        "certmgmt",
        "ciscosyslog",
        "expressway",
        "jabber",
        "ssoapp",
        "ssosp",
    ]
    assert all("/_data/parsers/" in f["path"] for f in formats)
    out = subprocess.run(
        [str(exe), "stats", str(asset("verbatim/ssosp-ucm15.log")), "--format", "json"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(out.stdout)["totals"]["records"] == 1
    # the HTML report renders from the templates inside the wheel
    html = work / "report.html"
    out = subprocess.run(
        [str(exe), "report", str(asset("verbatim")), "-o", str(html)],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip() == str(html)
    page = html.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "Leon Sorokin" in page and "uPlot" in page
