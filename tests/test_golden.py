"""Exact outputs for each family (JSONL events and stats JSON) against reviewed golden files.

Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from logdoctor.cli import main
from tests.helpers.paths import ASSETS

GOLDEN = ASSETS / "golden"


def _bundle(tmp_path: Path) -> Path:
    """The verbatim lines as a two-node bundle, one ssosp file rotated and gzipped."""
    root = tmp_path / "bundle"
    v = ASSETS / "verbatim"
    ssosp = root / "cucm-pub" / "tomcat" / "logs" / "ssosp" / "log4j"
    plat = root / "cucm-pub" / "platform" / "log"
    sub = root / "cucm-sub1" / "tomcat" / "logs" / "ssosp" / "log4j"
    for d in (ssosp, plat, sub):
        d.mkdir(parents=True)
    (ssosp / "ssosp00001.log.gz").write_bytes(
        gzip.compress((v / "ssosp-ucm125.log").read_bytes(), mtime=0)
    )
    shutil.copy(v / "ssosp-errors.log", ssosp / "ssosp00002.log")
    shutil.copy(v / "ssosp-ucm15.log", sub / "ssosp00001.log")
    shutil.copy(v / "ssosp-push.log", sub / "ssosp00002.log")
    shutil.copy(v / "certMgmt00001.log", plat / "certMgmt00001.log")
    shutil.copy(v / "certCN00001.log", plat / "certCN00001.log")
    return root


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("bundle.jsonl", ["parse", "--format", "jsonl", "--tz", "America/New_York"]),
        ("bundle-stats.json", ["stats", "--format", "json"]),
    ],
)
def test_golden(runner, tmp_path: Path, monkeypatch, name: str, args: list[str]) -> None:
    root = _bundle(tmp_path)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(main, [*args, "bundle"])
    assert res.exit_code == 0, res.output
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(res.stdout)
    assert root.exists()
    assert res.stdout == golden.read_text()
