"""Findings as JUnit XML (for CI systems that show test reports).

One ``<testsuite name="logdoctor check">``; every rule that ran is a test: a rule without
findings is one passing test case, a rule with findings has one test case per finding
(``classname`` = ``logdoctor.LD101``, ``name`` = rule id and subjects). A finding that fails
the check (at or above ``--fail-on``, not baselined) is a ``<failure>``; a baselined one is
``<skipped>``; one below the threshold passes with its text in ``<system-out>``. Each
finding's test case has a ``basis`` property: the weakest basis of its evidence (published,
documented, modelled, or none), also written next to each evidence line of its text.

Log text may hold characters XML 1.0 cannot carry (control characters, lone surrogates,
U+FFFE): they are written as visible ``\\xNN`` / ``\\uNNNN`` escapes, so the file always
parses.

What kept the check from its work is an ``<error>``: a rule that raised is its test case's
``<error type="internal-error">`` (no finding of it is known), and the test case
``logdoctor.inputs`` has an ``<error>`` naming what was not read (unread inputs, or no log
record at all); it passes when everything was read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import BinaryIO

from logdoctor.model import Finding
from logdoctor.table import iso
from logdoctor.verdict import CheckReport

__all__ = ["junit_xml", "write_junit", "xml_text"]

_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """Text XML 1.0 can carry: characters it cannot are written as visible escapes."""
    s = "" if value is None else str(value)

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group(0))
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _INVALID.sub(esc, s)


def _details(f: Finding) -> str:
    lines = [f.message, ""]
    lines.append(f"subjects: {', '.join(f.subjects)}")
    lines.append(f"seen: {iso(f.first_seen, precision='ms')} .. {iso(f.last_seen, precision='ms')}")
    lines.append(f"basis: {f.basis or 'no recognized log line'}")
    lines.append(f"evidence ({f.evidence_total} line(s), {len(f.evidence)} shown):")
    lines += [
        f"  {e.node} {e.file}:{e.line} {iso(e.time, precision='ms') or ''}"
        + (f" [{e.basis}]" if e.basis else "")
        + f" {e.excerpt}"
        for e in f.evidence
    ]
    if f.fix:
        lines.append("fix:")
        lines += [f"  {i}. {s}" for i, s in enumerate(f.fix, 1)]
    return "\n".join(lines)


def junit_xml(report: CheckReport) -> bytes:
    """The JUnit XML document of a check (UTF-8 bytes with an XML declaration)."""
    by_rule: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule, []).append(f)
    crashed = {f.rule: f for f in report.rule_errors}
    cases = _inputs_case(report)
    for r in report.rules:
        if r.id in crashed:
            case = _case(r.id, f"{r.id} {r.title}")
            _error(case, crashed[r.id].message, "internal-error", crashed[r.id].message)
            cases.append(case)
        else:
            found = by_rule.get(r.id, [])
            cases += [_finding_case(report, r.id, f) for f in found] or [
                _case(r.id, f"{r.id} {r.title}")
            ]
    totals = {
        "tests": str(len(cases)),
        "failures": str(sum(c.find("failure") is not None for c in cases)),
        "errors": str(sum(c.find("error") is not None for c in cases)),
        "skipped": str(sum(c.find("skipped") is not None for c in cases)),
        "time": "0",
    }
    suite = ET.Element("testsuite", {"name": "logdoctor check", **totals})
    suite.extend(cases)
    root = ET.Element("testsuites", {"name": "logdoctor", **totals})
    root.append(suite)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _case(rule: str, name: str) -> ET.Element:
    """A test case of rule ``rule`` (``classname`` ``logdoctor.<rule>``)."""
    return ET.Element(
        "testcase", {"classname": f"logdoctor.{rule}", "name": xml_text(name), "time": "0"}
    )


def _error(case: ET.Element, message: str, kind: str, text: str) -> None:
    err = ET.SubElement(case, "error", {"message": xml_text(message), "type": kind})
    err.text = xml_text(text)


def _inputs_case(report: CheckReport) -> list[ET.Element]:
    """``logdoctor.inputs``: an error naming what was not read (when logs were given)."""
    if not report.logs:
        return []
    inputs = _case("inputs", "inputs read")
    if report.not_read:
        text = "\n".join(f"{e.path}: {e.message}" for e in report.errors) or report.not_read
        _error(inputs, report.not_read, "input-not-read", text)
    return [inputs]


def _finding_case(report: CheckReport, rule: str, f: Finding) -> ET.Element:
    """One finding: skipped (baselined), a failure (it fails the check) or a pass with its
    text in ``<system-out>``."""
    case = _case(rule, f"{rule} {', '.join(f.subjects)}".strip())
    props = ET.SubElement(case, "properties")
    ET.SubElement(props, "property", {"name": "basis", "value": f.basis or "none"})
    if report.state(f) != "new":
        ET.SubElement(case, "skipped", {"message": "known finding (in the baseline)"})
    elif report.fails(f):
        fail = ET.SubElement(
            case,
            "failure",
            {"message": xml_text(f"{f.title}: {f.message}"), "type": str(f.severity)},
        )
        fail.text = xml_text(_details(f))
    else:
        out = ET.SubElement(case, "system-out")
        out.text = xml_text(f"[{f.severity}] {_details(f)}")
    return case


def write_junit(report: CheckReport, out: BinaryIO) -> None:
    """Write the JUnit XML document."""
    out.write(junit_xml(report))
