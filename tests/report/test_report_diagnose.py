"""The seam to the check engine.

The first two tests check the seam as it is before the rules engine is part of the build;
when ``logdoctor.report.diagnose.diagnose`` is wired to the engine, replace them with ones
that check the findings and configuration facts it hands over. The configuration-fact
conversion below stays.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import logdoctor
from logdoctor.analysis.inference import Disagreement, Fact
from logdoctor.cli import main
from logdoctor.model import Evidence
from logdoctor.report import build_report, diagnose
from logdoctor.report.facts import Declared, config_facts
from tests.helpers.paths import ASSETS
from tests.helpers.report import normal_bundle


def test_the_report_runs_the_rules_like_check(tmp_path: Path) -> None:
    bad = ASSETS / "rules" / "LD101" / "bad"
    res = logdoctor.load(bad)
    diag = diagnose(res)
    assert diag.rules_ran
    assert [f.rule for f in diag.findings if f.severity != "info"] == ["LD101"]
    assert diag.findings[0].subjects == ("expc1",)
    r = build_report(res.frame, res.stats, diag)
    assert r.verdict.level == "error"
    good = logdoctor.load(ASSETS / "rules" / "LD101" / "good")
    gdiag = diagnose(good)
    assert gdiag.rules_ran and not [f for f in gdiag.findings if f.severity != "info"]
    assert build_report(good.frame, good.stats, gdiag).verdict.level != "error"


def test_report_with_a_deployment_file_shows_declared_against_inferred(
    runner: CliRunner, tmp_path: Path
) -> None:
    case = ASSETS / "rules" / "LD101"
    out = tmp_path / "r.html"
    res = runner.invoke(
        main,
        [
            "report",
            str(case / "bad"),
            "--config",
            str(case / "config" / "deployment.toml"),
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "LD101" in html and "The diagnostic rules did not run" not in html
    assert "refresh_login_flow" in html


def test_a_bad_deployment_file_is_one_line_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    cfg = tmp_path / "deployment.toml"
    cfg.write_text(
        "[[cluster]]\nname = 'c1'\n[cluster.parameters]\naccess_token_expiry_minutes = 5000\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(root), "--config", str(cfg), "-o", str(out)])
    assert res.exit_code == 2
    assert "access_token_expiry_minutes" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# -- configuration facts from engine-shaped objects (as the rules engine's inference gives) ----


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
    declared = [
        Declared("parameters.implicit_grant", "", False, "deployment.toml:14"),
        Declared("parameters.refresh_token_expiry_days", "", 60, "deployment.toml:16"),
        Declared("role", "cuc1", "unity", "deployment.toml:30"),
        Declared("keys.signing", "imp2", "ffff", "deployment.toml:20", backs_only=True),
    ]
    facts = config_facts([flow, implicit, role], [differ, orphan], declared)
    assert [(c.name, c.subject, c.declared, c.inferred, c.status) for c in facts] == [
        ("role", "expc1", None, "expressway", "inferred only"),
        ("role", "cuc1", "unity", None, "declared only"),
        ("parameters.refresh_login_flow", "", "off", "on", "differ"),
        ("parameters.implicit_grant", "", "off", "off", "agree"),
        ("parameters.refresh_token_expiry_days", "", "60", None, "declared only"),
        ("keys.signing", "imp1", "ffff", "ab12", "differ"),
    ]
    rows = {(c.name, c.subject): c for c in facts}
    flow_row = rows[("parameters.refresh_login_flow", "")]
    assert flow_row.declared_at == "deployment.toml:12" and flow_row.evidence_total == 40
    assert [e.line for e in flow_row.evidence] == [3, 9]
    assert rows[("keys.signing", "imp1")].declared_at == "deployment.toml:20"
    assert rows[("parameters.implicit_grant", "")].declared_at == "deployment.toml:14"
    assert config_facts([flow, flow]) == config_facts([flow])  # one row per fact


def test_a_role_the_logs_only_guess_is_not_shown_as_inferred() -> None:
    guess = Fact("role", "cuc9", "unknown", "guessed from its name")
    (row,) = config_facts([guess], [], [Declared("role", "cuc9", "unity", "d.toml:3")])
    assert (row.declared, row.inferred, row.status) == ("unity", None, "declared only")


def test_a_jabber_group_seen_on_fewer_devices_than_declared_agrees() -> None:
    seen = Fact("jabber", "Jabber 14.1.3 Windows", 3, "devices whose last request declared it")
    more = Fact("jabber", "Jabber 14.2.0 Mac", 5, "devices whose last request declared it")
    declared = [
        Declared("jabber", "Jabber 14.1.3 Windows", 4, "d.toml:40"),
        Declared("jabber", "Jabber 14.2.0 Mac", 2, "d.toml:46"),
    ]
    rows = {c.subject: c.status for c in config_facts([seen, more], [], declared)}
    assert rows == {"Jabber 14.1.3 Windows": "agree", "Jabber 14.2.0 Mac": "differ"}
