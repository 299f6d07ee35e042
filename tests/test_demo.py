"""``make demo`` prints and writes only true statements about the samples.

It runs the real Makefile target (in a copy of the repository's Makefile and sample_logs/, with
this checkout's virtual environment) and checks what it wrote against each sample's own
``expected.json`` and against ``logdoctor check`` on the same sample.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from logdoctor.pipeline import check
from tests.helpers.paths import ROOT

SAMPLES = ROOT / "sample_logs"
DEMO = "expressway-refresh-ucm-off"


@pytest.mark.slow
def test_make_demo_tells_the_truth(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    venv = Path(sys.prefix)
    shutil.copy2(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copytree(SAMPLES, tmp_path / "sample_logs")
    stamp = venv / ".installed"
    res = subprocess.run(
        ["make", "-o", str(stamp), "demo", f"VENV={venv}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    # One scenario's report: its verdict is the check's.
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    alone = check([str(SAMPLES / DEMO)], config=SAMPLES / DEMO / "deployment.toml")
    worst = alone.findings[0]
    assert f"1 problem to fix. Worst: {worst.title}".replace("'", "&#39;") in html
    assert len(alone.failing) == 1
    # Every sample checked on its own, with its own deployment file: each gives exactly what
    # its expected.json says, and the printed totals are the written ones.
    out = tmp_path / "fleet-report"
    rows = json.loads((out / "findings.json").read_text())
    clusters = {c["cluster"]: c for c in json.loads((out / "clusters.json").read_text())}
    names = sorted(p.name for p in SAMPLES.iterdir())
    assert sorted(clusters) == names
    for name in names:
        exp = json.loads((SAMPLES / name / "expected.json").read_text(encoding="utf-8"))
        mine = [r for r in rows if r["cluster"] == name]
        found: dict[str, set[str]] = {}
        for r in mine:
            found.setdefault(r["rule"], set()).update(r["subjects"])
        loud = {r["rule"] for r in mine if r["severity"] in ("error", "warning")}
        assert set(exp["expect"]) <= set(found), name
        assert not set(exp["forbid"]) & set(found), name
        assert loud <= set(exp["expect"]), name
        for rule, subjects in exp["subjects"].items():
            assert set(subjects) <= found[rule], (name, rule)
        cfg = SAMPLES / name / "deployment.toml"
        assert clusters[name]["config"] == (f"demo-configs/{name}.toml" if cfg.exists() else None)
        assert clusters[name]["status"] == "ok"
    summary = json.loads((out / "summary.json").read_text())
    text = " ".join(res.stdout.split())
    assert f"{len(names)} cluster(s) on this process" in text
    assert f"{len(names)} checked, 0 partial, 0 failed" in text
    sev = summary["by_severity"]
    assert (
        f"{summary['findings']} finding(s): {sev['error']} error, {sev['warning']} warning, "
        f"{sev['info']} info; {summary['failing_clusters']} cluster(s) FAILED at or above warning"
    ) in text
    assert summary["failing_clusters"] == len(
        {r["cluster"] for r in rows if r["severity"] in ("error", "warning")}
    )
    assert not re.search(r"\bpassed\b", text)  # nothing claims a pass it did not get
