"""The JSON records of ``logdoctor tail --format jsonl``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import hypothesis.strategies as st
from hypothesis import given

from logdoctor.ingest.parse import Record
from logdoctor.model import Evidence, Finding, RuleId, Severity
from logdoctor.table import COLUMNS, FIELD_COLUMNS, iso
from logdoctor.tail.jsonl import event_json, event_record, finding_record

text = st.text(st.characters(codec="utf-8"), max_size=40)
maybe = st.none() | text


@given(
    time=st.none()
    | st.datetimes(
        timezones=st.just(UTC), min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)
    ),
    line=st.integers(1, 10**9),
    node=text,
    kind=text,
    level=maybe,
    message=text,
    fields=st.fixed_dictionaries({c: maybe for c in FIELD_COLUMNS}),
)
def test_event_json_is_the_json_of_event_record(
    time: datetime | None,
    line: int,
    node: str,
    kind: str,
    level: str | None,
    message: str,
    fields: dict[str, str | None],
) -> None:
    r = Record(time, node, "ssosp", "f.log", line, level, "t", None, kind, fields, message)
    doc = event_record(r)
    assert list(doc) == ["type", *COLUMNS]
    assert json.loads(event_json(r)) == doc
    assert event_json(r) == json.dumps(doc, ensure_ascii=False)


def test_times_are_utc_with_z_ms_or_us() -> None:
    assert iso(datetime(2026, 11, 20, 8, 45, 1, 500000, tzinfo=UTC)) == "2026-11-20T08:45:01.500Z"
    assert (
        iso(datetime(2026, 11, 20, 8, 45, 1, 500001, tzinfo=UTC)) == "2026-11-20T08:45:01.500001Z"
    )
    assert iso(None) is None


def test_finding_record() -> None:
    t = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    f = Finding(
        rule=RuleId("LD301"),
        severity=Severity.WARNING,
        title="T",
        message="M",
        evidence=(Evidence("pub", "a.log", 3, t, "token.rejected", "x", "modelled"),),
        evidence_total=4,
        subjects=("alice",),
        first_seen=t,
        fix=("step 1",),
        basis="modelled",
    )
    doc = finding_record(f)
    assert doc["type"] == "finding" and doc["rule"] == "LD301" and doc["severity"] == "warning"
    assert doc["evidence"][0] == {
        "node": "pub",
        "file": "a.log",
        "line": 3,
        "time": "2026-11-20T08:00:00.000Z",
        "kind": "token.rejected",
        "basis": "modelled",
        "excerpt": "x",
    }
    assert doc["basis"] == "modelled"
    assert doc["first_seen"] == "2026-11-20T08:00:00.000Z" and doc["last_seen"] is None
    json.dumps(doc)
