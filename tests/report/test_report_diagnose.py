"""The seam to the check engine.

The first two tests check the seam as it is before the rules engine is part of the build;
when ``logdoctor.report.diagnose.diagnose`` is wired to the engine, replace them with ones
that check the findings and configuration facts it hands over. The configuration-fact
conversion below stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import logdoctor
from logdoctor.cli import main
from logdoctor.model import Evidence
from logdoctor.report import build_report, diagnose
from logdoctor.report.facts import config_facts
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


# -- configuration facts from engine-shaped objects (as the rules engine's inference gives) ----


@dataclass(frozen=True)
class Fact:
    path: str
    subject: str
    value: Any
    reason: str
    evidence: tuple[Evidence, ...] = ()
    count: int = 0


@dataclass(frozen=True)
class Disagreement:
    path: str
    subject: str
    declared: Any
    inferred: Fact
    declared_at: Evidence


def ev(line: int) -> Evidence:
    return Evidence("ucm-pub", "ssosp00001.log", line, None, "config.changed", f"line {line}")


def test_config_facts_pair_declared_and_inferred_values() -> None:
    flow = Fact(
        "parameters.refresh_login_flow", "", True, "refresh tokens were issued", (ev(3), ev(9)), 40
    )
    implicit = Fact(
        "parameters.implicit_grant", "", False, "implicit requests refused", (ev(5),), 1
    )
    role = Fact("role", "expc1", "expressway", "it relays token requests", (), 0)
    key = Fact("keys.signing", "imp1", "ab12", "last key loaded", (ev(7),), 1)
    differ = Disagreement(
        "cluster[0].parameters.refresh_login_flow",
        "c1",
        False,
        flow,
        Evidence("", "deployment.toml", 12, None, "", "refresh_login_flow = false"),
    )
    orphan = Disagreement(
        "cluster[0].keys.signing",
        "c1",
        "ffff",
        key,
        Evidence("", "deployment.toml", 20, None, "", "signing = 'ffff'"),
    )
    declared = {("parameters.implicit_grant", ""): False}
    facts = config_facts(
        [flow, implicit, role], [differ, orphan], lambda p, s: declared.get((p, s))
    )
    assert [(c.name, c.subject, c.declared, c.inferred, c.status) for c in facts] == [
        ("parameters.refresh_login_flow", "", "off", "on", "differ"),
        ("parameters.implicit_grant", "", "off", "off", "agree"),
        ("role", "expc1", None, "expressway", "inferred only"),
        ("keys.signing", "imp1", "ffff", "ab12", "differ"),
    ]
    assert facts[0].declared_at == "deployment.toml:12" and facts[0].evidence_total == 40
    assert [e.line for e in facts[0].evidence] == [3, 9]
    assert facts[3].declared_at == "deployment.toml:20" and facts[1].declared_at is None
    assert config_facts([flow, flow]) == config_facts([flow])  # one row per fact
