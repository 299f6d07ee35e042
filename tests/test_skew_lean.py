"""Clock skew's links read narrow: the use lines' node and time (and position) only, their
file, line, message and kind gathered for each pair's best link. Compared with the links built
wide (every use line's file, line, message and kind joined and sorted), as they were before."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import logdoctor
from logdoctor.analysis.events import Events
from logdoctor.analysis.lineage import lineage
from logdoctor.analysis.skew import _best, _links, clock_skew
from logdoctor.model import USE_KINDS

ROOT = Path(__file__).parent.parent
RULES = ROOT / "tests" / "assets" / "rules"
CASES = [RULES / c for c in ("LD903/bad", "LD903/good", "healthy/logs", "LD902/bad", "LD202/bad")]
BUNDLES = sorted(p for p in (ROOT / "sample_logs").iterdir() if p.is_dir())


def _wide_best(ev: Events, lin: pl.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """The best link per directed pair, from links carrying every use line's columns."""

    def side(end: str, columns: tuple[str, ...]) -> list[pl.Expr]:
        return [pl.col(c).alias(end if c == "node" else c[0] + end) for c in columns]

    def use_side(frame: pl.DataFrame, key: str) -> pl.DataFrame:
        return frame.select(key, *side("b", ("node", "time", "file", "line", "message", "kind")))

    def across(use: pl.DataFrame, issue: pl.DataFrame, key: str) -> pl.DataFrame:
        return use.join(issue, on=key, how="inner").filter(pl.col("a") != pl.col("b")).drop(key)

    issued = lin.filter(pl.col("issued_at").is_not_null()).select(
        "token_id",
        pl.col("issued_node").alias("a"),
        pl.col("issued_at").alias("ta"),
        pl.col("issued_file").alias("fa"),
        pl.col("issued_line").alias("la"),
    )
    read = ("token_id", "node", "time", "file", "line", "message", "kind")
    uses = ev.narrow(USE_KINDS, read).filter(pl.col("token_id").is_not_null())
    frames = []
    if issued.height and uses.height:
        frames.append(across(use_side(uses, "token_id"), issued, "token_id"))
    regen = (
        ev.of("key.regenerated")
        .filter(pl.col("family") != "certmgmt")
        .select("key", *side("a", ("node", "time", "file", "line")))
    )
    repl = use_side(ev.of("key.replicated"), "key")
    if regen.height and repl.height:
        frames.append(across(repl, regen, "key"))
    if not frames:
        return {}
    cols = ("a", "b", "ta", "tb", "fa", "la", "fb", "lb", "mb", "kb")
    links = pl.concat([f.select(cols) for f in frames]).with_columns(
        ((pl.col("tb") - pl.col("ta")).dt.total_microseconds() / 1e6).alias("d")
    )
    best = (
        links.sort("d")
        .group_by(["a", "b"], maintain_order=True)
        .agg(
            pl.col("d").first().alias("dmin"),
            pl.len().alias("n"),
            *(pl.col(c).first() for c in cols[2:]),
        )
    )
    return {(r["a"], r["b"]): r for r in best.iter_rows(named=True)}


@cache
def _events(folder: Path) -> Events:
    return Events(logdoctor.load(str(folder)).frame)


def _same(ev: Events) -> None:
    lin = lineage(ev)
    links = _links(ev, lin)
    want = _wide_best(ev, lin)
    assert (_best(ev, links) if links.height else {}) == want


@pytest.mark.parametrize("folder", CASES, ids=lambda p: str(p.relative_to(RULES)))
def test_narrow_links_give_the_wide_links_best(folder: Path) -> None:
    _same(_events(folder))


def test_the_cases_have_token_and_key_links() -> None:
    ev = _events(RULES / "LD903/bad")
    assert clock_skew(ev).skewed()
    assert {r["kb"] for r in _wide_best(ev, lineage(ev)).values()} & set(USE_KINDS)
    keys = _events(RULES / "LD202/bad")
    assert "key.replicated" in {r["kb"] for r in _wide_best(keys, lineage(keys)).values()}


@pytest.mark.slow
@pytest.mark.parametrize("folder", BUNDLES, ids=lambda p: p.name)
def test_narrow_links_on_the_sample_bundles(folder: Path) -> None:
    _same(_events(folder))
