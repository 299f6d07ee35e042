"""The one-pass token lineage (one narrow gather and one group-by of the token lines) against
the step-by-step computation it replaces (tests/helpers/lineage_ref.py): the same table, row
for row and column for column, on rule cases and every sample bundle, with the String and the
Categorical event table, and on random token lines (Hypothesis); and the enrichment that takes
its one row per token id as given (``distinct``) against the one that de-duplicates it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logdoctor
from logdoctor.analysis.events import Events
from logdoctor.analysis.lineage import LINEAGE_COLUMNS, enrich, lineage
from logdoctor.table import CATEGORICAL_COLUMNS, POLARS_SCHEMA
from tests.helpers.lineage_ref import reference_lineage

ROOT = Path(__file__).parent.parent
RULES = ROOT / "tests" / "assets" / "rules"
CASES = [
    RULES / case
    for case in (
        "healthy/logs",  # parents by refresh and by login
        "LD106/bad",  # refusals with reasons
        "LD107/bad",  # revocations
        "LD301/good",  # both
        "LD902/bad",  # tokens used, not issued, in the logs
        "LD201/bad",
    )
]
"""Rule cases reaching each branch (each load compiles the formats in tests: a few only)."""
BUNDLES = sorted(p for p in (ROOT / "sample_logs").iterdir() if p.is_dir())


def _filled_whole(frame: pl.DataFrame, lin: pl.DataFrame) -> pl.DataFrame:
    """The enrichment as a join of the whole table: each line's missing user, client and
    device from its token's lineage row."""
    known = lin.select(
        "token_id",
        pl.col("user").alias("_u"),
        pl.col("client_id").alias("_c"),
        pl.col("device").alias("_d"),
    )
    return (
        frame.join(known, on="token_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("user").fill_null(pl.col("_u")),
            pl.col("client_id").fill_null(pl.col("_c")),
            pl.col("device").fill_null(pl.col("_d")),
        )
        .drop("_u", "_c", "_d")
    )


@cache
def _load(folder: Path) -> pl.DataFrame:
    return logdoctor.load(str(folder)).frame


def _same(frame: pl.DataFrame) -> None:
    for table in (frame, frame.cast({c: pl.Categorical() for c in CATEGORICAL_COLUMNS})):
        ev = Events(table)
        want = reference_lineage(ev)
        got = lineage(ev)
        assert got.columns == list(LINEAGE_COLUMNS)
        assert got.schema == want.schema
        assert got.equals(want), got.join(want, on="token_id", how="anti")
        # one row per token id: the enrichment joins it without de-duplicating it again
        assert got["token_id"].n_unique() == got.height
        enriched = enrich(ev, got, distinct=True)
        assert enriched.equals(enrich(ev, got))
        assert enriched.equals(_filled_whole(ev.frame, got))


@pytest.mark.parametrize("folder", CASES, ids=lambda p: str(p.relative_to(RULES)))
def test_one_pass_lineage_is_the_step_by_step_one(folder: Path) -> None:
    _same(_load(folder))


@pytest.mark.slow
@pytest.mark.parametrize("folder", BUNDLES, ids=lambda p: p.name)
def test_one_pass_lineage_on_the_sample_bundles(folder: Path) -> None:
    _same(_load(folder))


def test_the_rule_cases_hold_every_kind_of_token_line() -> None:
    """The rule cases above reach each branch: used-only tokens, refusals with reasons,
    revocations, parents by refresh and by login."""
    lin = pl.concat([lineage(_load(f)) for f in CASES])
    assert lin.filter(pl.col("issued_at").is_null()).height > 0
    assert lin.filter(pl.col("reasons").list.len() > 0).height > 0
    assert lin.filter(pl.col("revoked_at").is_not_null()).height > 0
    assert lin.filter(pl.col("parent").is_not_null()).height > 0
    assert lin.filter(pl.col("refreshes") > 0).height > 0


KINDS = [
    "code.issued",
    "token.access.issued",
    "token.refresh.issued",
    "token.refreshed",
    "token.validated",
    "token.rejected",
    "token.revoked",
    "auth.success",
]
T0 = datetime(2026, 11, 16, 8, tzinfo=UTC)

line = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "token_id": st.sampled_from(["t1", "t2", "t3", "t4", "t5", None]),
        "node": st.sampled_from(["ucm-pub", "ucm-sub1"]),
        "user": st.sampled_from(["alice", "bob", None]),
        "client_id": st.sampled_from(["jabber", None]),
        "device": st.sampled_from(["pc1", "pc2", None]),
        "grant": st.sampled_from(["refresh_token", "authorization_code", "implicit", None]),
        "server": st.sampled_from(["expc1", "expc2", None]),
        "reason": st.sampled_from(["expired", "revoked", None]),
        "value": st.sampled_from(["3600", "x", None]),
        "key": st.sampled_from(["k1", None]),
        "step": st.integers(1, 8),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(line, max_size=40))
def test_one_pass_lineage_on_random_token_lines(lines: list[dict[str, object]]) -> None:
    """Random token lines, a second or more apart (within a parent's 5 s window or not):
    tokens used before or without their issue line, issued twice, refused, revoked."""
    rows = []
    t = T0
    for i, drawn in enumerate(lines):
        row = dict.fromkeys(POLARS_SCHEMA)
        t += timedelta(seconds=int(str(drawn.pop("step"))))
        row.update(drawn, time=t, family="ssosp", file="ssosp00001.log", line=i + 1)
        rows.append(row)
    _same(pl.DataFrame(rows, schema=POLARS_SCHEMA))


def test_no_token_line_is_an_empty_lineage() -> None:
    frame = pl.DataFrame(schema=POLARS_SCHEMA)
    _same(frame)
    assert lineage(frame).height == 0
