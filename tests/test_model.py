"""The event schema is defined once and every producer follows it."""

from __future__ import annotations

import pandas as pd
import polars as pl

import logdoctor
from logdoctor.ingest.parse import LineParser, parse_bytes
from logdoctor.model import EventKind
from logdoctor.table import COLUMNS, DTYPES, FIELD_COLUMNS, POLARS_SCHEMA, empty_frame
from tests.helpers.paths import asset


def test_every_kind_is_described() -> None:
    for k in EventKind:
        assert k.description and k.description[0].isupper() and k.description.endswith(".")
        assert k.value == k.value.lower()
    assert len({k.value for k in EventKind}) == len(list(EventKind))


def test_dtypes_and_polars_schema_cover_the_columns_in_order() -> None:
    assert tuple(DTYPES) == COLUMNS
    assert tuple(POLARS_SCHEMA) == COLUMNS
    assert set(FIELD_COLUMNS) < set(COLUMNS)
    assert empty_frame().columns == list(COLUMNS)


def test_bulk_engine_output_has_the_schema(formats) -> None:
    frame, _ = parse_bytes(
        asset("verbatim/ssosp-ucm125.log").read_bytes(), formats["ssosp"], file="f", node="n"
    )
    assert frame.schema == pl.Schema(POLARS_SCHEMA)


def test_line_engine_rows_have_the_columns(formats) -> None:
    lp = LineParser(formats["ssosp"], file="f", node="n")
    lines = asset("verbatim/ssosp-ucm125.log").read_text().splitlines()
    recs = [r for ln in lines for r in lp.feed(ln)] + lp.flush()
    assert recs and all(tuple(r.as_row()) == COLUMNS for r in recs)


def test_pandas_event_table_has_the_documented_dtypes() -> None:
    result = logdoctor.load(asset("verbatim"))
    df = result.events
    assert tuple(df.columns) == COLUMNS
    for col, dtype in DTYPES.items():
        assert str(df[col].dtype) == str(pd.Series([], dtype=dtype).dtype), col
    assert len(df) == result.frame.height > 0
