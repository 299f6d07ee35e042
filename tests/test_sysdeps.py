"""`scripts/sysdeps`: what `make test` does on a machine without chromium or lnav."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers.paths import ROOT

SCRIPT = ROOT / "scripts" / "sysdeps"


def _bin(tmp: Path, files: dict[str, str]) -> Path:
    """A PATH folder holding fake commands (shell scripts) and nothing else."""
    d = tmp / "bin"
    d.mkdir()
    for name, body in files.items():
        f = d / name
        f.write_text(f"#!/bin/sh\n{body}\n")
        f.chmod(0o755)
    return d


def _run(path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(path), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def test_nothing_to_do_when_both_are_there(tmp_path: Path) -> None:
    d = _bin(tmp_path, {"chromium": "exit 0", "lnav": "exit 0", "apt-get": "exit 9"})
    r = _run(d)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_without_root_or_sudo_it_stops_with_the_command_to_run(tmp_path: Path) -> None:
    d = _bin(tmp_path, {"id": "echo 1000", "apt-get": "echo called >&2; exit 9", "lnav": ""})
    r = _run(d)
    assert r.returncode == 1
    assert "sudo apt-get install -y --no-install-recommends chromium" in r.stderr
    assert "called" not in r.stderr


def test_as_root_it_installs_what_is_missing(tmp_path: Path) -> None:
    log = tmp_path / "apt.log"
    d = _bin(tmp_path, {"id": "echo 0", "apt-get": f'echo "$@" >> {log}'})
    r = _run(d)
    assert r.returncode == 0, r.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls[1].startswith("install -y -qq --no-install-recommends")
    assert calls[1].split()[-2:] == ["chromium", "lnav"]


def test_without_apt_it_names_the_packages(tmp_path: Path) -> None:
    d = _bin(tmp_path, {"id": "echo 0", "chromium": ""})
    r = _run(d)
    assert r.returncode == 1
    assert "lnav" in r.stderr and "chromium" not in r.stderr
