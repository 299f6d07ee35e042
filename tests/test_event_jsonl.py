"""JSON lines of the event table: no null fields by default (``--all-fields`` keeps them), text
escaped exactly as JSON wants, times with milliseconds or, where a record has them,
microseconds."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.outputs.events import write_events
from logdoctor.table import CATEGORICAL_COLUMNS, COLUMNS, empty_frame


def _frame() -> pl.DataFrame:
    rows = []
    messages = [
        'quote " and backslash \\ here',
        "line\nbreak\tand \x01 control",
        "plain ascii",
        "unicode é ✓ \u2028 end",
        "</script><b>x</b>",
    ]
    for i, msg in enumerate(messages):
        row: dict[str, object] = {c: None for c in COLUMNS}
        row.update(
            time=datetime(2026, 1, 2, 3, 4, 5, 123000 if i != 1 else 123456, tzinfo=UTC),
            node="n1",
            family="ssosp",
            file="f.log",
            line=i + 1,
            kind="unrecognized" if i % 2 else "oauth.grant",
            message=msg,
        )
        if i % 2 == 0:
            row.update(user=f'u"{i}', basis="modelled")
        if i == 4:
            row["time"] = None
        rows.append(row)
    return pl.DataFrame(rows, schema=empty_frame().schema)


def _lines(frame: pl.DataFrame, **kw: bool) -> list[str]:
    out = io.BytesIO()
    write_events(frame, "jsonl", out, **kw)
    text = out.getvalue().decode("utf-8")
    assert text == "" or text.endswith("\n")
    return text.split("\n")[:-1]  # not splitlines(): U+2028 is not a line end in JSON lines


def test_jsonl_leaves_out_null_fields_and_keeps_column_order() -> None:
    frame = _frame()
    lean = [json.loads(x) for x in _lines(frame)]
    full = [json.loads(x) for x in _lines(frame, all_fields=True)]
    assert len(lean) == len(full) == frame.height
    assert all(len(row) == len(COLUMNS) for row in full)
    for a, b in zip(lean, full, strict=True):
        assert a == {k: v for k, v in b.items() if v is not None}
        assert list(a) == [c for c in COLUMNS if c in a]
        assert None not in a.values()
    assert [r["message"] for r in lean] == frame["message"].to_list()
    assert lean[0]["user"] == 'u"0' and "user" not in lean[1]
    assert "time" not in lean[4]


def test_jsonl_times_one_format_micro_where_needed() -> None:
    lean = [json.loads(x) for x in _lines(_frame())]
    assert lean[0]["time"] == "2026-01-02T03:04:05.123Z"
    assert lean[1]["time"] == "2026-01-02T03:04:05.123456Z"


def test_jsonl_of_no_rows_is_empty() -> None:
    assert _lines(empty_frame()) == []


def test_parse_cli_all_fields(tmp_path: Path) -> None:
    log = tmp_path / "ssosp01.log"
    log.write_text(
        "2026-01-02 03:04:05,123 INFO  [t-1] oauth.TokenServlet - Refresh grant accepted: "
        "user=alice client_id=c1 device=CSFA tid=t1 via=-\n"
        '2026-01-02 03:04:06,000 INFO  [t-1] x.Y - something "else"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    lean = runner.invoke(main, ["parse", str(log), "--format", "jsonl"])
    full = runner.invoke(main, ["parse", str(log), "--format", "jsonl", "--all-fields"])
    assert lean.exit_code == full.exit_code == 0, lean.output + full.output
    a = [json.loads(x) for x in lean.stdout.splitlines()]
    b = [json.loads(x) for x in full.stdout.splitlines()]
    assert [list(r) for r in b] == [list(COLUMNS)] * 2
    assert a == [{k: v for k, v in r.items() if v is not None} for r in b]
    assert a[0]["user"] == "alice" and "user" not in a[1]
    assert a[1]["message"] == 'something "else"'


def test_csv_and_tsv_escape_categorical_text_as_string_text() -> None:
    """The rule context holds file, thread, logger, ... as Categorical: written as CSV or
    TSV, such a table gets the same formula prefix and escapes as its String form (they
    went out unescaped)."""
    plain = _frame().with_columns(
        pl.lit("=cmd|' /C calc'!A0").alias("file"), pl.lit("a\tb").alias("logger")
    )
    cat = plain.with_columns(pl.col(c).cast(pl.Categorical) for c in CATEGORICAL_COLUMNS)
    for fmt, escaped in (("csv", b",'=cmd"), ("tsv", b"a\\tb")):
        want, got = io.BytesIO(), io.BytesIO()
        write_events(plain, fmt, want)
        write_events(cat, fmt, got)
        assert escaped in want.getvalue()
        assert got.getvalue() == want.getvalue()
