"""Every rule on its good and bad cases, and precision / recall over every scenario.

A scenario is a folder with an ``expected.json`` in the simulator's format: the rule cases
under tests/assets/rules/ and, when they exist, the simulator's sample_logs/<scenario>/.
``check`` must report every expected rule (with the expected subjects), none of the
forbidden ones, and nothing else at warning or above.
"""

from __future__ import annotations

import filecmp
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cases import CASES, ROOT, generate

from logdoctor.model import Severity
from logdoctor.pipeline import check
from logdoctor.rules import all_rules

REPO = ROOT.parent.parent.parent
SCENARIO_ROOTS = (ROOT, REPO / "sample_logs")


@dataclass
class Outcome:
    name: str
    expect: set[str]
    found: dict[str, set[str]]
    """rule -> subjects of its findings."""
    loud: set[str]
    """rules with a finding at warning or above."""
    problems: list[str]


def scenarios() -> list[Path]:
    out = []
    for root in SCENARIO_ROOTS:
        if root.is_dir():
            out += sorted(p.parent for p in root.glob("**/expected.json"))
    return out


def run_scenario(folder: Path) -> Outcome:
    exp = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    has_logs = any(p.is_dir() or p.suffix not in (".json", ".toml") for p in folder.iterdir())
    config = folder / "deployment.toml"
    report = check([str(folder)] if has_logs else [], config=config if config.exists() else None)
    found: dict[str, set[str]] = {}
    for f in report.findings:
        found.setdefault(f.rule, set()).update(f.subjects)
    loud = {f.rule for f in report.findings if Severity(f.severity).rank >= Severity.WARNING.rank}
    problems = []
    for rule in exp["expect"]:
        if rule not in found:
            problems.append(f"expected {rule} did not fire")
    for rule in exp.get("forbid", []):
        if rule in found:
            problems.append(f"forbidden {rule} fired: {sorted(found[rule])}")
    if not exp.get("noise", False):
        for rule in sorted(loud - set(exp["expect"])):
            problems.append(f"unexpected {rule} at warning or above: {sorted(found[rule])}")
    for rule, subjects in exp.get("subjects", {}).items():
        missing = set(subjects) - found.get(rule, set())
        if missing:
            problems.append(
                f"{rule} lacks subject(s) {sorted(missing)}: {sorted(found.get(rule, []))}"
            )
        # A finding whose subjects are all unexpected (the wrong user or node) is a false
        # positive too; subjects may be tuples (cluster, key use), so one match suffices.
        for f in report.findings:
            if f.rule == rule and not set(f.subjects) & set(subjects):
                problems.append(f"{rule} finding about unexpected {list(f.subjects)}")
    return Outcome(str(folder), set(exp["expect"]), found, loud, problems)


@pytest.mark.parametrize("folder", scenarios(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_scenario(folder: Path) -> None:
    outcome = run_scenario(folder)
    assert outcome.problems == [], outcome.problems


@pytest.mark.slow
def test_precision_and_recall_over_all_scenarios() -> None:
    expected = fired = correct = 0
    rows = []
    for folder in scenarios():
        o = run_scenario(folder)
        expected += len(o.expect)
        fired += len(o.loud | (o.expect & set(o.found)))
        correct += len(o.expect & set(o.found))
        rows.append((o.name, sorted(o.expect), sorted(o.loud)))
    assert len(rows) >= 2 * len(all_rules()), "fewer scenarios than good + bad per rule"
    recall = correct / expected
    precision = correct / fired
    assert (precision, recall) == (1.0, 1.0), rows


def test_every_rule_has_a_good_and_a_bad_case() -> None:
    for r in all_rules():
        bad = json.loads((ROOT / r.id / "bad" / "expected.json").read_text())
        good = json.loads((ROOT / r.id / "good" / "expected.json").read_text())
        assert r.id in bad["expect"], r.id
        assert r.id in good["forbid"] and r.id not in good["expect"], r.id


def test_healthy_traffic_is_quiet() -> None:
    report = check(
        [str(ROOT / "healthy" / "logs")], config=ROOT / "healthy" / "logs" / "deployment.toml"
    )
    assert report.events > 300
    assert [f.rule for f in report.findings] == []
    assert report.exit_code == 0


def test_cases_are_current(tmp_path: Path) -> None:
    """The committed cases are exactly what cases.py writes (regenerate: python cases.py)."""
    generate(tmp_path)
    for name in CASES:
        cmp = filecmp.dircmp(tmp_path / name, ROOT / name)
        stack = [cmp]
        while stack:
            c = stack.pop()
            assert not c.left_only and not c.right_only, (name, c.left_only, c.right_only)
            _match, mismatch, errors = filecmp.cmpfiles(
                c.left, c.right, c.common_files, shallow=False
            )
            assert not mismatch and not errors, (name, mismatch, errors)
            stack.extend(c.subdirs.values())
    committed = {f"{p.parent.name}/{p.name}" for p in ROOT.glob("*/*") if p.is_dir()}
    assert committed == set(CASES)
