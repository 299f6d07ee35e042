"""The rule registry, the documentation pages, and `logdoctor rules`."""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import logdoctor.rules as pkg
from logdoctor.cli import main
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.parse import LineParser
from logdoctor.model import Severity
from logdoctor.rules import all_rules, get_rule
from logdoctor.rules.registry import CATEGORIES, SECTIONS, parse_doc, rule

RULES = all_rules()


def test_ids_are_unique_well_formed_and_grouped() -> None:
    ids = [r.id for r in RULES]
    assert ids == sorted(set(ids))
    for r in RULES:
        assert re.fullmatch(r"LD\d{3}", r.id)
        assert r.category == CATEGORIES[r.id[2]]
        assert isinstance(r.severity, Severity)
        assert r.title and len(r.title) <= 80 and not r.title.endswith(".")


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.id)
def test_documentation_page(r) -> None:  # type: ignore[no-untyped-def]
    assert list(r.doc.sections) == list(SECTIONS)
    assert all(r.doc.sections[s].strip() for s in SECTIONS)
    assert r.doc.fix and all(step.endswith(".") for step in r.doc.fix)
    assert r.doc.references


EXAMPLE_LINE = r"\s*(?:\d{4}-\d{2}-\d{2}[ T]|[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} )"
"""An Example line starts with a log time: log4j, ISO (Expressway) or syslog (CiscoSyslog)."""


@pytest.mark.parametrize("rule_id", ["LD103", "LD205"])
def test_edge_rule_examples_are_lines_of_the_family_they_read(rule_id: str) -> None:
    """LD103 and LD205 read Unity Connection's syslog and the Expressway's diagnostic log: their
    Example line is one of those families, of a kind the rule reads."""
    r = get_rule(rule_id)
    formats = {f.family: f for f in load_formats()}
    lines = [ln.strip() for ln in r.doc.sections["Example"].splitlines() if ln.strip()]
    assert lines
    for text in lines:
        kinds = set()
        for family in r.needs.families:
            p = LineParser(formats[family], file="example", node="n")
            kinds |= {rec.kind for rec in p.feed(text) + p.flush()}
        assert kinds & set(r.needs.kinds), f"{rule_id}: {text}"


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.id)
def test_example_log_lines_parse_to_a_known_kind(r) -> None:  # type: ignore[no-untyped-def]
    """Every log line of an Example section is recognized by logdoctor's own formats."""
    formats = {f.name: f for f in load_formats()}
    lines = [
        ln.strip() for ln in r.doc.sections["Example"].splitlines() if re.match(EXAMPLE_LINE, ln)
    ]
    if r.id == "LD905":  # malformed lines: no timestamp, on purpose
        assert not lines and "Unknown Source" in r.doc.sections["Example"]
        return
    assert lines, f"{r.id}: no example log line"
    for text in lines:
        kinds = set()
        for fmt in formats.values():
            p = LineParser(fmt, file="example", node="n")
            recs = p.feed(text) + p.flush()
            kinds |= {rec.kind for rec in recs}
        known = kinds - {"unrecognized"}
        if r.id == "LD901":
            assert kinds == {"unrecognized"}
        else:
            assert known, f"{r.id}: example line not recognized: {text}"


def test_fix_steps_reach_the_findings() -> None:
    assert get_rule("LD202").doc.fix[0].startswith("On every UCM node of the cluster, restart")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (None, "no docstring"),
        ("What: x\nWhy: y\nDetection: z\nExample: e\nFix:\n1. a.\nReferences:\n", "no '- ' item"),
        ("What: x\nWhy: y\nDetection: z\nExample: e\nFix:\n2. a.\nReferences:\n- r", "numbered"),
        ("What: x\nWhy: y\nExample: e\nFix:\n1. a.\nReferences:\n- r", "lacks section"),
        ("Why: y\nWhat: x\nDetection: z\nExample: e\nFix:\n1. a.\nReferences:\n- r", "order"),
        ("intro\nWhat: x", "before the first section"),
        ("What: x\nWhy: y\nDetection: z\nExample: e\nFix:\nrestart\nReferences:\n- r", "numbered"),
    ],
)
def test_bad_documentation_is_refused(doc: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_doc("LD999", doc)


@pytest.mark.parametrize("rid", ["LD12", "XX101", "LD501x", "LD801"])
def test_bad_ids_are_refused(rid: str) -> None:
    with pytest.raises(ValueError):
        rule(rid, Severity.INFO, "t")


def test_rules_command_lists_every_rule() -> None:
    out = CliRunner().invoke(main, ["rules", "--format", "json"])
    assert out.exit_code == 0
    doc = json.loads(out.output)
    assert [d["id"] for d in doc] == [r.id for r in RULES]
    assert {d["severity"] for d in doc} <= {"error", "warning", "info"}
    table = CliRunner().invoke(main, ["rules"])
    assert table.exit_code == 0
    for r in RULES:
        assert r.id in table.output


def test_rules_command_prints_one_page() -> None:
    out = CliRunner().invoke(main, ["rules", "ld101"])
    assert out.exit_code == 0
    assert out.output.startswith("LD101 (error, configuration): Expressway refreshes")
    for section in SECTIONS:
        assert f"\n{section}:" in out.output
    assert "reason=refresh_disabled" in out.output
    page = json.loads(CliRunner().invoke(main, ["rules", "LD304", "--format", "json"]).output)
    assert page["id"] == "LD304" and page["fix"] == list(get_rule("LD304").doc.fix)


def test_rules_command_shows_the_basis() -> None:
    # A SAML rule rests on published Cisco lines; an OAuth one on lines logdoctor modelled.
    saml = CliRunner().invoke(main, ["rules", "LD211"])
    assert "\nBasis: published (the weakest basis of the kinds it reads)\n" in saml.output
    assert "  published: saml.cert.mismatch (ssosp)\n" in saml.output
    oauth = json.loads(CliRunner().invoke(main, ["rules", "LD101", "--format", "json"]).output)
    assert oauth["basis"] == "modelled"
    assert {"kind": "token.validated", "family": "ssosp", "basis": "modelled"} in oauth["kinds"]
    listing = json.loads(CliRunner().invoke(main, ["rules", "--format", "json"]).output)
    by_id = {d["id"]: d["basis"] for d in listing}
    assert by_id["LD211"] == "published" and by_id["LD902"] is None
    health = CliRunner().invoke(main, ["rules", "LD902"])
    assert "Basis: none (it reads every record" in health.output


def test_rules_command_unknown_id_exits_2() -> None:
    out = CliRunner().invoke(main, ["rules", "LD999"])
    assert out.exit_code == 2
    assert "LD999" in out.output and "not a rule id" in out.output


def test_readme_rule_table_matches_the_registry() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| (LD\d{3}) \| (\w+) \| ([a-z ]+) \| (.+) \|$", readme, re.M)
    assert rows == [(r.id, str(r.severity), r.category, r.title) for r in RULES]


def test_rule_modules_and_rule_functions_stay_small() -> None:
    """No rules module over 500 lines, no rule function's code (its docstring excluded) over
    60 lines (issue 14: shared halves live in rules/declared.py, not in copies)."""
    for path in Path(pkg.__file__).parent.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path.name
    for r in all_rules():
        src = inspect.cleandoc("\n" + inspect.getsource(r.func))
        fn = ast.parse(src).body[0]
        assert isinstance(fn, ast.FunctionDef)
        first = fn.body[1] if ast.get_docstring(fn) is not None else fn.body[0]
        assert fn.end_lineno is not None
        assert fn.end_lineno - first.lineno + 1 <= 60, r.id
