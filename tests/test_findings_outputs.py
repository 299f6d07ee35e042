"""Findings outputs: golden text / JSON / SARIF / JUnit, SARIF schema, hostile text."""

from __future__ import annotations

import io
import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import jsonschema
import pytest

from logdoctor.baseline import Baseline, BaselineEntry, fingerprint
from logdoctor.model import Evidence, Finding, RuleId, Severity
from logdoctor.outputs.checktext import TextOptions, write_text
from logdoctor.outputs.findings import write_json
from logdoctor.outputs.junit import junit_xml, write_junit, xml_text
from logdoctor.outputs.sarif import sarif_document, write_sarif
from logdoctor.pipeline import check
from logdoctor.rules import get_rule
from logdoctor.verdict import CheckReport

ASSETS = Path(__file__).parent / "assets"
GOLDEN = ASSETS / "golden"
SCHEMA = json.loads((ASSETS / "sarif" / "sarif-schema-2.1.0.json").read_text())
UPDATE = os.environ.get("LOGDOCTOR_UPDATE_GOLDEN") == "1"

Writer = Callable[[CheckReport, BinaryIO], None]


def render(report: CheckReport, writer: Writer) -> bytes:
    buf = io.BytesIO()
    writer(report, buf)
    return buf.getvalue()


@pytest.fixture
def report(monkeypatch: pytest.MonkeyPatch) -> CheckReport:
    """LD202/bad (an error and two infos) with the signing-key note in a baseline, and a
    baseline entry that no longer occurs; paths relative to tests/assets."""
    monkeypatch.chdir(ASSETS)
    known = Baseline(
        entries=(
            BaselineEntry(
                fingerprint("LD204", ["ucm-pub", "signing"]),
                "LD204",
                ("ucm-pub", "signing"),
                "Authz key regenerated",
            ),
            BaselineEntry(
                fingerprint("LD301", ["mallory"]),
                "LD301",
                ("mallory",),
                "A revoked user keeps trying to refresh",
            ),
        )
    )
    return check(["rules/LD202/bad"], baseline=known, select=["LD2"])


@pytest.fixture
def config_report(monkeypatch: pytest.MonkeyPatch) -> CheckReport:
    monkeypatch.chdir(ASSETS)
    return check(["rules/LD104/bad"], config="rules/LD104/bad/deployment.toml")


def text80(report: CheckReport, out: BinaryIO) -> None:
    write_text(report, out, TextOptions(width=100))


@pytest.mark.parametrize(
    ("name", "writer"),
    [
        ("check.txt", text80),
        ("check.json", write_json),
        ("check.sarif", write_sarif),
        ("check.junit.xml", write_junit),
    ],
)
def test_golden(report: CheckReport, name: str, writer: Writer) -> None:
    got = render(report, writer)
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got)
    assert got == path.read_bytes(), f"{name} differs (LOGDOCTOR_UPDATE_GOLDEN=1 rewrites it)"


def test_golden_json_with_config_evidence(config_report: CheckReport) -> None:
    got = render(config_report, write_json)
    path = GOLDEN / "check-config.json"
    if UPDATE:
        path.write_bytes(got)
    assert got == path.read_bytes()


def test_json_shape(report: CheckReport) -> None:
    doc = json.loads(render(report, write_json))
    assert set(doc) == {"findings", "errors", "absent", "summary"}
    assert doc["errors"] == []
    f = doc["findings"][0]
    assert list(f) == [
        "rule",
        "severity",
        "title",
        "message",
        "basis",
        "evidence",
        "evidence_total",
        "subjects",
        "first_seen",
        "last_seen",
        "fix",
        "fingerprint",
        "baseline_state",
    ]
    assert (f["rule"], f["severity"], f["subjects"]) == ("LD202", "error", ["ucm-sub1"])
    assert f["fix"] == list(get_rule("LD202").doc.fix)
    assert f["evidence_total"] == len(f["evidence"]) == 6
    assert set(f["evidence"][0]) == {"node", "file", "line", "time", "kind", "basis", "excerpt"}
    # The weakest basis of the lines behind it: a documented certMgmt line and modelled ssosp.
    assert [e["basis"] for e in f["evidence"][:2]] == ["documented", "modelled"]
    assert f["basis"] == "modelled"
    states = {(x["rule"], tuple(x["subjects"])): x["baseline_state"] for x in doc["findings"]}
    assert states[("LD204", ("ucm-pub", "signing"))] == "unchanged"
    assert states[("LD204", ("ucm-pub", "encryption"))] == "new"
    assert doc["absent"] == [
        {"rule": "LD301", "subjects": ["mallory"], "fingerprint": fingerprint("LD301", ["mallory"])}
    ]
    s = doc["summary"]
    assert s["by_severity"] == {"error": 1, "warning": 0, "info": 2}
    assert (s["new"], s["unchanged"], s["absent"], s["failing"]) == (2, 1, 1, 1)
    assert s["passed"] is False and s["fail_on"] == "warning"


@pytest.mark.parametrize("fixture", ["report", "config_report"])
def test_sarif_validates_against_the_official_schema(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rep = request.getfixturevalue(fixture)
    doc = json.loads(render(rep, write_sarif))
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
        assert res["baselineState"] in ("new", "unchanged", "absent")
        assert list(res["partialFingerprints"]) == ["logdoctorFinding/v1"]


def test_sarif_schema_check_is_real() -> None:
    """The schema refuses what SARIF forbids (so the validation above can fail)."""
    bad = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [{"message": {"text": "m"}, "level": "fatal"}],
            }
        ],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(bad)


def test_fingerprints_do_not_depend_on_lines_paths_or_times(tmp_path: Path) -> None:
    src = ASSETS / "rules" / "LD202" / "bad"
    copy = tmp_path / "elsewhere"
    shutil.copytree(src, copy)
    for f in copy.rglob("ssosp00001.log"):
        data = f.read_text()
        f.write_text(data.replace("2026-11-16", "2026-12-01"))
    for f in copy.rglob("ssoApp.log"):
        f.write_text(f.read_text().replace("2026-11-16", "2026-12-01"))
    a = sarif_document(check([str(src)]))["runs"][0]["results"]
    b = sarif_document(check([str(copy)]))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in a] == [r["partialFingerprints"] for r in b]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in a] != [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in b
    ]


HOSTILE = "bell\x07 esc\x1b[31mred\x1b[0m nul\x00 surrogate\udc80 fffe\ufffe bidi\u202e end"


def hostile_report() -> CheckReport:
    ev = Evidence(
        node="ucm\x1b]0;pwn\x07",
        file="a/b c.log",
        line=7,
        time=datetime(2026, 11, 16, 8, tzinfo=UTC),
        kind="token.rejected",
        excerpt=HOSTILE,
    )
    f = Finding(
        rule=RuleId("LD303"),
        severity=Severity.WARNING,
        title="t",
        message=HOSTILE,
        evidence=(ev,),
        evidence_total=1,
        subjects=("eve\udc80\x01",),
        first_seen=ev.time,
        last_seen=ev.time,
        fix=("Do \x00 it.",),
    )
    return CheckReport(findings=(f,), rules=(get_rule("LD303"),))


def test_junit_is_valid_xml_with_control_characters_and_lone_surrogates() -> None:
    data = junit_xml(hostile_report())
    data.decode("utf-8")  # strictly encodable
    root = ET.fromstring(data)
    case = root.find("./testsuite/testcase")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None and failure.text is not None
    assert "\\x07" in failure.text and "\\x1b[31m" in failure.text and "\\x00" in failure.text
    assert "\\udc80" in failure.text and "\\ufffe" in failure.text
    assert "\u202e" in failure.text  # valid XML character: kept as is
    assert case.get("name") == "LD303 eve\\udc80\\x01"
    assert root.get("failures") == "1" and root.find("testsuite").get("tests") == "1"  # type: ignore[union-attr]


def test_xml_text_keeps_what_xml_allows() -> None:
    assert xml_text("a\tb\nc\r é 😀 \ud7ff") == "a\tb\nc\r é 😀 \ud7ff"
    assert xml_text("\x0b\x0c\uffff") == "\\x0b\\x0c\\uffff"


def test_json_sarif_and_text_survive_hostile_text() -> None:
    rep = hostile_report()
    doc = json.loads(render(rep, write_json))
    assert doc["findings"][0]["message"].startswith("bell\x07 esc\x1b[31m")
    assert "\\udc80" in doc["findings"][0]["message"]
    sarif = json.loads(render(rep, write_sarif))
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    text = render(rep, text80).decode("utf-8")
    assert "\x1b" not in text and "\x07" not in text and "\x00" not in text
    assert "\\x1b[31m" in text and "\\u202e" in text


def test_every_output_carries_the_basis(report: CheckReport) -> None:
    """The finding's weakest basis and each evidence line's, in SARIF, JUnit and text."""
    sarif = json.loads(render(report, write_sarif))
    res = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}["LD202"]
    assert res["properties"]["basis"] == "modelled"
    assert res["locations"][0]["properties"] == {"basis": "documented"}
    assert {loc["properties"]["basis"] for loc in res["relatedLocations"]} == {"modelled"}
    root = ET.fromstring(junit_xml(report))
    case = next(c for c in root.iter("testcase") if c.get("name") == "LD202 ucm-sub1")
    prop = case.find("./properties/property[@name='basis']")
    assert prop is not None and prop.get("value") == "modelled"
    failure = case.find("failure")
    assert failure is not None and "basis: modelled" in (failure.text or "")
    assert "[documented] Authz key regenerated" in (failure.text or "")
    text = render(report, write_text).decode()
    assert "6 evidence line(s); basis: modelled" in text
    assert "certMgmt00001.log:4 [documented]  Authz key regenerated" in text
