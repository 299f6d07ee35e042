"""The lean event access: rows of a kind gathered by position, narrow gathers, the enriched
table sharing the raw one's rows, and coverage's evidence fetched by position from the wide
table. Each result is compared with the plain filter of the whole table it replaces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import logdoctor
from logdoctor.analysis.coverage import coverage
from logdoctor.analysis.events import Events, in_merged_order, merge_nodes, take_merged
from logdoctor.analysis.lineage import ENRICHED_COLUMNS
from logdoctor.model import ISSUE_KINDS, USE_KINDS
from logdoctor.rules import Context
from logdoctor.table import POLARS_SCHEMA

CASES = Path(__file__).parent / "assets" / "rules"


def _filtered(frame: pl.DataFrame, kinds: list[str]) -> pl.DataFrame:
    return frame.filter(pl.col("kind").is_in(kinds))


@pytest.mark.parametrize("case", ["healthy/logs", "LD301/bad", "LD202/bad"])
def test_of_is_the_filter_of_the_whole_table(case: str) -> None:
    ev = Events(logdoctor.load(str(CASES / case)).frame)
    kinds = sorted(ev.rows)
    assert len(kinds) >= 3
    for kind in kinds:
        assert ev.of(kind).equals(_filtered(ev.frame, [kind]))
        assert ev.count(kind) == ev.of(kind).height
    for group in (kinds[:2], kinds[1:], [*ISSUE_KINDS], [*USE_KINDS], [kinds[0], "no.such"]):
        got = ev.of(*group)
        assert got.equals(_filtered(ev.frame, list(group)))
        assert got["time"].is_sorted(nulls_last=True)
    assert ev.of("no.such").height == 0
    assert sum(ev.count(k) for k in kinds) == ev.frame.height


def test_narrow_is_the_filter_of_the_columns() -> None:
    ev = Events(logdoctor.load(str(CASES / "healthy/logs")).frame)
    cols = ["time", "node", "token_id", "kind"]
    got = ev.narrow(USE_KINDS, cols)
    assert got.columns == cols
    assert got.equals(_filtered(ev.frame, list(USE_KINDS)).select(cols))
    assert ev.narrow(["no.such"], cols).columns == cols


@pytest.mark.parametrize("case", ["healthy/logs", "LD301/bad"])
def test_where_is_the_filter_of_the_kinds_rows(case: str) -> None:
    """``where`` reads only the condition's columns, then gathers the rows it keeps: the
    same rows, columns and order as filtering ``of``; ``last`` keeps the last ones."""
    ctx = Context(logdoctor.load(str(CASES / case)).frame)
    for ev in (ctx.raw, ctx.events):  # the enriched table gathers its own columns too
        kinds = ["token.access.issued", "token.refresh.issued", "token.refreshed"]
        middle = ev.frame["time"].sort()[ev.frame.height // 2]
        every = ev.of(*kinds).height
        kept = []
        for cond in (
            pl.col("value").is_not_null() & (pl.col("time") >= middle),
            pl.col("server").is_in(["expc1", "no-such"]),
            pl.col("grant") == "authorization_code",
            pl.col("grant").is_null() | (pl.col("user") == ev.of(*kinds)["user"].min()),
        ):
            want = ev.of(*kinds).filter(cond)
            assert ev.where(kinds, cond).equals(want)
            assert ev.where(kinds, cond, last=3).equals(want.tail(3))
            kept.append(want.height)
        # Most conditions keep some rows and leave others (an empty result proves little).
        assert sum(0 < k < every for k in kept) >= 3, kept
        assert ev.where(["no.such"], pl.col("user").is_null()).equals(ev.of("no.such"))
    assert ctx.raw.where(kinds, pl.lit(True)).height == ctx.raw.of(*kinds).height > 0


def test_enriched_events_carry_their_own_columns() -> None:
    ctx = Context(logdoctor.load(str(CASES / "healthy/logs")).frame)
    raw = ctx.raw.of("token.validated")
    assert raw["device"].null_count() == raw.height  # a validation names no device
    ctx.raw.of("token.validated", "token.refreshed")  # the raw parts exist before enriching
    enriched = ctx.events
    val = enriched.of("token.validated")
    assert val["device"].null_count() == 0  # filled from the token's issue line
    assert val.equals(_filtered(enriched.frame, ["token.validated"]))
    both = enriched.of("token.validated", "token.refreshed")
    assert both.equals(_filtered(enriched.frame, ["token.validated", "token.refreshed"]))
    assert both.columns == ctx.raw.frame.columns
    # the raw table is left as it was
    assert ctx.raw.of("token.validated")["device"].null_count() == raw.height
    assert set(ENRICHED_COLUMNS) <= set(enriched.frame.columns)


def test_derived_events_need_the_same_rows() -> None:
    ev = Events(logdoctor.load(str(CASES / "healthy/logs")).frame)
    with pytest.raises(ValueError, match="rows"):
        Events.derived(ev, ev.frame.head(3), ENRICHED_COLUMNS)


def test_gap_evidence_is_the_line_at_each_edge() -> None:
    """Two nodes interleaved: a silence on one node names its own lines before and after."""
    t0 = datetime(2026, 11, 16, 8, tzinfo=UTC)
    rows = []
    for node in ("ucm-pub", "ucm-sub1"):
        for d in range(3):
            for i in range(1200):
                t = t0 + timedelta(days=d, seconds=30 * i)
                if node == "ucm-pub" and d == 1 and 7200 <= 30 * i < 12600:
                    continue  # 10:00 to 11:30 on day two: nothing on the publisher
                rows.append(
                    {
                        "time": t,
                        "node": node,
                        "family": "ssosp",
                        "file": f"{node}/ssosp00001.log",
                        "kind": "token.refreshed",
                        "message": f"{node} at {t:%d %H:%M:%S}",
                    }
                )
    frame = pl.DataFrame(rows, schema=POLARS_SCHEMA).with_columns(
        pl.int_range(pl.len()).add(1).over("node").alias("line")
    )
    gaps = [g for c in coverage(Events(frame)) for g in c.gaps]
    assert len(gaps) == 1
    g = gaps[0]
    assert g.before is not None and g.after is not None
    assert g.before.excerpt == "ucm-pub at 17 09:59:30"
    assert g.after.excerpt == "ucm-pub at 17 11:30:00"
    assert (g.before.node, g.after.node) == ("ucm-pub", "ucm-pub")
    assert g.after.line == g.before.line + 1


def test_large_gathers_live_only_while_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gather above KEEP_ROWS is the same frame while a reader holds it, and is freed (then
    gathered anew, equal) once no one does; a small one is kept for the run."""
    import gc
    import weakref

    from logdoctor.analysis import events as events_module

    ev = Events(logdoctor.load(str(CASES / "healthy/logs")).frame)
    kinds = sorted(ev.rows, key=ev.count)
    small, big = kinds[0], kinds[-1]
    monkeypatch.setattr(events_module, "KEEP_ROWS", ev.count(big) - 1)
    held = ev.of(big)
    assert ev.of(big) is held  # one gather while it is read
    assert ev.of(big, small).equals(_filtered(ev.frame, [big, small]))
    expected = held.clone()
    ref = weakref.ref(held)
    del held
    gc.collect()
    assert ref() is None  # nothing keeps the wide copy once its reader is done
    assert ev.of(big).equals(expected)
    kept = ev.of(small)
    assert ev.of(small) is kept


def test_a_context_given_the_table_in_a_list_takes_it_away() -> None:
    """The list form (the caller gives the table away, as ``check`` and ``report`` do) leaves
    the list empty and correlates exactly what the plain table gives."""
    loaded = logdoctor.load(str(CASES / "LD301/bad"))
    plain = Context(loaded.frame, loaded.stats, nodes=loaded.nodes)
    box = [loaded.frame]
    given = Context(box, loaded.stats, nodes=loaded.nodes)
    assert box == []
    assert given.raw.frame.equals(plain.raw.frame)
    assert given.lineage.equals(plain.lineage)


def test_diagnose_keeps_one_table() -> None:
    """After ``diagnose`` the load result holds the context's time-ordered table (the same
    events), not a second copy in load order."""
    from logdoctor.report import diagnose

    loaded = logdoctor.load(str(CASES / "LD301/bad"))
    before = loaded.frame
    diagnosis = diagnose(loaded)
    assert diagnosis.correlation is not None
    assert loaded.frame is not before
    assert loaded.frame.height == before.height
    assert loaded.frame.equals(Events(before).frame)


def test_a_fact_at_positions_is_the_fact_of_those_rows() -> None:
    """``fact_at`` gathers only the rows it shows: the same evidence (first and last lines)
    and count as :func:`make_fact` of all the rows."""
    from logdoctor.analysis.inference.fact import fact_at, make_fact

    ev = Events(logdoctor.load(str(CASES / "healthy/logs")).frame)
    for kinds in (["token.validated"], ["code.issued", "token.access.issued"], ["key.loaded"]):
        at = ev.positions(kinds)
        for part in (at, at.head(3), at.tail(12)):
            got = fact_at(ev, "role", "n", "ucm", "why", part)
            want = make_fact("role", "n", "ucm", "why", ev.frame[part.to_list()])
            assert got == want
            assert got.count == part.len()


def _merged(frame: pl.DataFrame) -> pl.DataFrame:
    return take_merged([frame])


@pytest.mark.parametrize("seed", range(40))
def test_take_merged_is_the_four_column_sort(seed: int) -> None:
    """The stable sort by time alone is kept only where it is the sort by time, node, file
    and line: random tables with ties, nulls and loads in and out of file order."""
    import random

    rng = random.Random(seed)
    n = rng.randint(1, 60)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        {
            "time": None if rng.random() < 0.1 else base + timedelta(seconds=rng.randint(0, 4)),
            "node": None if rng.random() < 0.05 else rng.choice(["a", "b", "c"]),
            "file": None if rng.random() < 0.05 else rng.choice(["f1", "f2", "f10"]),
            "line": None if rng.random() < 0.05 else rng.randint(1, 6),
            "i": i,
        }
        for i in range(n)
    ]
    if seed % 2:  # a load in node, file, line order (the usual case: the fast path)
        rows = [r for r in rows if None not in (r["node"], r["file"], r["line"])]
        rows.sort(key=lambda r: (r["node"], r["file"], r["line"]))
    frame = pl.DataFrame(rows, schema_overrides={"time": pl.Datetime("us", "UTC")})
    assert _merged(frame).equals(merge_nodes(frame))
    # The rule context's table holds node and file as Categorical: the same order as text.
    text = {"node": pl.String, "file": pl.String}
    cat = frame.with_columns(pl.col("node", "file").cast(pl.Categorical))
    assert _merged(cat).cast(text).equals(merge_nodes(frame))
    asked = take_merged([frame], ("node", "file"))  # cast on the way, as Context asks
    assert asked.schema["file"] == pl.Categorical() and asked.cast(text).equals(merge_nodes(frame))
    by_time = frame.sort("time", nulls_last=True, maintain_order=True)
    assert in_merged_order(by_time) == _in_merged_order_of_every_row(by_time)


def _in_merged_order_of_every_row(frame: pl.DataFrame) -> bool:
    """The check as it was made before: node, file and line compared on every row."""
    if frame.height < 2:
        return True
    time, node, file, line = (pl.col(c) for c in ("time", "node", "file", "line"))
    ordered = (
        ~time.eq_missing(time.shift(1))
        | (node.shift(1) < node)
        | (
            (node.shift(1) == node)
            & ((file.shift(1) < file) | ((file.shift(1) == file) & (line.shift(1) <= line)))
        )
    )
    return bool(frame.select(ordered.slice(1).fill_null(False).all()).item())


def test_take_merged_of_a_loaded_bundle_is_the_four_column_sort() -> None:
    frame = logdoctor.load(str(CASES / "healthy/logs")).frame
    assert frame.height > 100
    by_time = frame.sort("time", nulls_last=True, maintain_order=True)
    assert in_merged_order(by_time)  # the fast path is the one taken on a load
    assert _merged(frame).equals(merge_nodes(frame))
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=7)  # not in file order
    assert not in_merged_order(shuffled.sort("time", nulls_last=True, maintain_order=True))
    assert _merged(shuffled).equals(merge_nodes(shuffled))


@pytest.mark.parametrize("case", ["healthy/logs", "LD202/bad"])
def test_positions_of_several_kinds_are_their_rows_merged(case: str) -> None:
    """The positions of several kinds (found on the kind column in one pass) are the
    concatenation of each kind's positions, sorted: with a String and a Categorical kind."""
    frame = logdoctor.load(str(CASES / case)).frame
    for table in (frame, frame.with_columns(pl.col("kind").cast(pl.Categorical()))):
        ev = Events(table)
        kinds = sorted(ev.rows)
        for group in (kinds, kinds[::2], [*ISSUE_KINDS, *USE_KINDS], [kinds[0], "no.such"]):
            present = [k for k in group if k in ev.rows]
            want = pl.concat([ev.rows[k] for k in present]).sort()
            got = ev.positions(group)
            assert got.dtype == pl.UInt32
            assert got.name == "_row"
            assert got.equals(want)
