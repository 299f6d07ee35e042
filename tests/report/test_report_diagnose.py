"""The seam to the check engine, as it is before the rules engine is part of the build.

When ``logdoctor.report.diagnose.diagnose`` is wired to the engine, replace these tests with
ones that check the findings and configuration facts it hands over.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import logdoctor
from logdoctor.cli import main
from logdoctor.report import build_report, diagnose
from tests.report.bundles import normal_bundle


def test_without_an_engine_the_report_says_no_rule_ran(tmp_path: Path) -> None:
    res = logdoctor.load(normal_bundle(tmp_path / "b"))
    diag = diagnose(res)
    assert diag.findings == () and diag.config == () and not diag.rules_ran
    r = build_report(res.frame, res.stats, diag)
    assert r.verdict.level == "unknown" and "did not run" in r.verdict.headline


def test_a_config_file_without_an_engine_is_said_not_ignored(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = normal_bundle(tmp_path / "b")
    cfg = tmp_path / "deployment.toml"
    cfg.write_text("[[cluster]]\\nname = 'c1'\\n", encoding="utf-8")
    out = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(root), "--config", str(cfg), "-o", str(out)])
    assert res.exit_code == 0
    assert "deployment file was not checked" in res.stderr
    html = out.read_text(encoding="utf-8")
    assert "deployment file was not checked" in html and "The diagnostic rules did not run" in html
