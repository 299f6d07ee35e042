"""Rule isolation: a rule that raises is that rule's internal error, never the run's.

A deliberately failing rule is registered for the test: every other rule still runs and its
findings are written, in every output format, and the failure is named (text, JSON
``errors``, SARIF ``toolExecutionNotifications``, JUnit ``<error>``, the report's verdict),
with exit status 2.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import polars as pl
import pytest
from click.testing import CliRunner, Result

from logdoctor.analysis.keys import KEY_FAILURE_MARKS
from logdoctor.cli import main
from logdoctor.model import Severity
from logdoctor.pipeline import check, run_check
from logdoctor.rules import Context, Hit, RuleError, all_rules, registry, rule, run, run_rules
from tests.helpers.paths import ASSETS, ROOT

SAMPLE = ROOT / "sample_logs" / "expressway-refresh-ucm-off"
SCHEMA = json.loads((ASSETS / "sarif" / "sarif-schema-2.1.0.json").read_text())


def _broken(ctx: Context) -> Iterator[Hit]:
    """What:
    A rule that always fails (a test double).

    Why:
    To prove that one rule's bug never hides another rule's findings.

    Detection:
    It selects a column the event table does not have, as LD202 once did.

    Example:
        (none)

    Fix:
        1. Nothing to fix in the logs.

    References:
        - tests/rules/test_isolation.py
    """
    ctx.raw.frame.select(pl.col("_cur"))  # ColumnNotFoundError, like LD202's old crash
    yield Hit(subjects=("never",), message="unreachable")


@pytest.fixture
def failing_rule() -> Iterator[str]:
    rule("LD999", Severity.ERROR, "A rule that always fails")(_broken)
    try:
        yield "LD999"
    finally:
        registry._REGISTRY.pop("LD999", None)


def cli(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def _pairs(doc: dict[str, object]) -> list[tuple[str, list[str]]]:
    return [(f["rule"], f["subjects"]) for f in doc["findings"]]  # type: ignore[attr-defined]


def test_the_other_rules_findings_are_kept(failing_rule: str) -> None:
    ids = [r.id for r in all_rules()]
    assert failing_rule in ids
    checked = run_check([str(SAMPLE)])
    ctx_report = checked.report
    assert [f.rule for f in ctx_report.rule_errors] == [failing_rule]
    assert "ColumnNotFoundError" in ctx_report.rule_errors[0].error
    assert ctx_report.status == "internal-error" and ctx_report.exit_code == 2
    assert not ctx_report.complete
    clean = check([str(SAMPLE)], ignore=[failing_rule])
    assert clean.rule_errors == () and clean.status == "failed"
    assert [(f.rule, f.subjects) for f in ctx_report.findings] == [
        (f.rule, f.subjects) for f in clean.findings
    ]
    assert any(f.rule == "LD101" for f in clean.findings)
    # The library's run() still raises, after every rule ran, naming the failing one.
    findings, failures = run_rules(checked.context)
    assert [f.rule for f in failures] == [failing_rule] and findings
    with pytest.raises(RuleError, match="rule LD999 failed: ColumnNotFoundError"):
        run(checked.context)


def test_every_output_format_names_the_failing_rule(failing_rule: str, tmp_path: Path) -> None:
    base = json.loads(cli("check", SAMPLE, "--format", "json", "--ignore", failing_rule).stdout)
    text = cli("check", SAMPLE)
    assert text.exit_code == 2
    flat = " ".join(text.stdout.split())
    assert "INTERNAL ERROR in 1 rule(s) (LD999)" in flat and "LD101" in flat
    assert "passed" not in flat
    assert "logdoctor: error: internal error in rule LD999: ColumnNotFoundError" in text.stderr

    res = cli("check", SAMPLE, "--format", "json")
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert _pairs(doc) == _pairs(base) and _pairs(doc)
    (err,) = doc["errors"]
    assert (err["type"], err["rule"]) == ("rule", "LD999") and "_cur" in err["message"]
    s = doc["summary"]
    assert (s["passed"], s["status"], s["complete"]) == (False, "internal-error", False)
    assert s["rule_errors"][0]["rule"] == "LD999"

    res = cli("check", SAMPLE, "--format", "sarif")
    assert res.exit_code == 2
    sarif = json.loads(res.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    run_ = sarif["runs"][0]
    (note,) = run_["invocations"][0]["toolExecutionNotifications"]
    assert note["associatedRule"]["id"] == "LD999" and note["level"] == "error"
    index = note["associatedRule"]["index"]
    assert run_["tool"]["driver"]["rules"][index]["id"] == "LD999"
    assert run_["invocations"][0]["executionSuccessful"] is False
    assert {r["ruleId"] for r in run_["results"]} == {f["rule"] for f in base["findings"]}

    res = cli("check", SAMPLE, "--format", "junit")
    assert res.exit_code == 2
    root = ET.fromstring(res.stdout)
    case = root.find("./testsuite/testcase[@classname='logdoctor.LD999']")
    assert case is not None
    error = case.find("error")
    assert error is not None and error.get("type") == "internal-error"
    assert root.get("errors") == "1" and root.get("failures") == "1"  # LD101 still fails
    assert root.find("./testsuite/testcase[@classname='logdoctor.LD101']/failure") is not None


def test_the_report_says_which_rule_failed(failing_rule: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = cli("report", SAMPLE, "-o", out)
    assert res.exit_code == 2 and out.exists()
    html = out.read_text(encoding="utf-8")
    assert "Incomplete: 1 rule(s) failed with an internal error." in html
    assert "internal error in rule LD999" in html
    assert "Expressway refreshes while UCM" in html  # LD101's finding is there
    assert "internal error in rule LD999" in res.stderr


def test_a_fleet_bundle_with_a_failing_rule_is_partial(failing_rule: str, tmp_path: Path) -> None:
    res = cli("fleet", SAMPLE, "--in-process", "-o", tmp_path / "out", "--cluster-reports", "none")
    assert res.exit_code == 2, res.output
    clusters = json.loads((tmp_path / "out" / "clusters.json").read_text())
    (c,) = clusters
    assert c["status"] == "partial" and "LD999" in c["error"]
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert any(f["rule"] == "LD101" for f in findings)


def test_key_failures_have_the_same_columns_with_or_without_failures() -> None:
    """The root of LD202's crash: with no validation failure, ``_cur`` was missing. Both
    tables end with the same marks, in the same order (what rules drop)."""
    frame = run_check([str(ROOT / "sample_logs" / "healthy")]).context.raw.frame
    empty = Context(frame).key_failures
    assert empty.height == 0
    assert tuple(empty.columns[-2:]) == KEY_FAILURE_MARKS
    stale = run_check([str(ROOT / "sample_logs" / "callmanager-not-restarted")]).context
    assert stale.key_failures.height > 0
    assert stale.key_failures.columns == empty.columns
