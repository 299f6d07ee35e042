"""The template miner: masking rules, the Drain tree, and what a template keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from logdoctor.analysis.shapes import WILDCARD, Drain, mask_expr, mine

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CLIENT = "C" + "a1" * 32


@pytest.mark.parametrize(
    ("message", "shape"),
    [
        ("Cache refresh took 1200 ms for id 4f3a9c1e", "Cache refresh took <n> ms for id <hex>"),
        ("Cache refresh took 5 ms for id 77ee01ff", "Cache refresh took <n> ms for id <hex>"),
        (
            "token 5f1e2d3c-0a9b-4c8d-9e7f-112233445566 for " + CLIENT + " rejected",
            "token <uuid> for <client> rejected",
        ),
        ("Heartbeat from 10.0.0.12 port 8443", "Heartbeat from <ip> port <n>"),
        ("decade face beef stays", "decade face beef stays"),  # words made of hex letters
        ("first line 7\nat com.x.Y(Y.java:12)", "first line <n>"),
        ("  padded 3  ", "padded <n>"),
        ("bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln sent", "bearer <jwt> sent"),
        ("agent Jabber%2F14.1%20Windows ok", "agent <pct> ok"),
        # key=value values are masked first, whatever they are
        ("login user=alice method=password via=-", "login user=<v> method=<v> via=<v>"),
        ("done jti=5f1e2d3c-0a9b-4c8d-9e7f-112233445566 n=3", "done jti=<v> n=<v>"),
        ("a = b", "a = b"),
        ("[userId=bob, proxy=expc1] ok", "[userId=<v>, proxy=<v>] ok"),
        ("kid=816506bd-92bd-40f1-94fa-0155d74c9241:35c0aa", "kid=<v>"),
    ],
)
def test_masks(message: str, shape: str) -> None:
    assert pl.select(mask_expr(pl.lit(message))).item() == shape


def test_drain_merges_what_differs_in_one_word_and_keeps_weights() -> None:
    d = Drain()
    a = d.add(["Cache", "refresh", "for", "alice", "done"], 5)
    b = d.add(["Cache", "refresh", "for", "bob", "done"], 2)
    c = d.add(["Cache", "evicted", "<n>", "entries"], 1)
    assert a == b != c
    assert d.template(a) == ("Cache", "refresh", "for", WILDCARD, "done")
    assert d.clusters[a].weight == 7 and d.clusters[c].weight == 1


def test_drain_keeps_messages_apart_by_length_and_leading_words() -> None:
    d = Drain()
    ids = {
        d.add(["OAuth", "token", "issued", "user=<v>", "client=<client>"]),
        d.add(["OAuth", "token", "refused", "user=<v>", "client=<client>"]),
        d.add(["OAuth", "token", "issued", "user=<v>"]),
    }
    assert len(ids) == 3  # the first three words route the tree: issued and refused stay apart


def test_drain_below_similarity_starts_a_new_template() -> None:
    d = Drain(similarity=0.5)
    a = d.add(["a", "b", "c", "d", "e", "f"])
    b = d.add(["a", "b", "x", "y", "z", "w"])  # 2 of 6 equal: a new template
    assert a != b


def _records(rows: list[tuple[str, str, str, int, datetime | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "family": pl.String,
            "node": pl.String,
            "file": pl.String,
            "line": pl.Int64,
            "time": pl.Datetime("us", "UTC"),
            "message": pl.String,
        },
        orient="row",
    )


def test_mine_keeps_count_span_nodes_and_two_verbatim_examples() -> None:
    rows = [
        ("ssosp", "pub", "a.log", 3, T0 + timedelta(minutes=2), "Cache refresh for bob done"),
        ("ssosp", "pub", "a.log", 1, T0, "Cache refresh for alice done"),
        ("ssosp", "sub", "b.log", 9, T0 + timedelta(minutes=9), "Cache refresh for alice done"),
        ("ssosp", "sub", "b.log", 4, T0 + timedelta(minutes=1), "Heartbeat 7"),
        ("certmgmt", "pub", "c.log", 1, T0, "Cache refresh for carol done"),
    ]
    templates = mine(_records(rows))
    assert [(t.family, t.rank, t.text, t.count) for t in templates] == [
        ("certmgmt", 1, "Cache refresh for carol done", 1),  # families are mined apart
        ("ssosp", 1, "Cache refresh for <*> done", 3),
        ("ssosp", 2, "Heartbeat <n>", 1),
    ]
    t = templates[1]
    assert (t.first, t.last) == (T0, T0 + timedelta(minutes=9))
    assert t.nodes == ("pub", "sub") and t.files == ("a.log", "b.log")
    # the first record, and the last one whose message differs from the first
    assert [(e.file, e.line, e.message) for e in t.examples] == [
        ("a.log", 1, "Cache refresh for alice done"),
        ("a.log", 3, "Cache refresh for bob done"),
    ]
    assert dict(t.shapes) == {"Cache refresh for alice done": 2, "Cache refresh for bob done": 1}
    assert len({x.id for x in templates}) == 3


def test_mine_does_not_depend_on_record_order() -> None:
    rows = [
        ("ssosp", "n", "f", i, T0 + timedelta(seconds=i), f"Job finished for {w} in {i} ms")
        for i, w in enumerate(["alpha", "beta", "gamma", "delta"] * 5)
    ]
    rows += [("ssosp", "n", "f", 99, None, "Job finished for alpha in 3 ms\ntrace")]
    forward = mine(_records(rows))
    backward = mine(_records(rows[::-1]))
    assert [(t.text, t.count, t.examples) for t in forward] == [
        (t.text, t.count, t.examples) for t in backward
    ]
    assert forward[0].text == "Job finished for <*> in <n> ms" and forward[0].count == 21


def test_a_variable_word_among_the_first_three_routes_apart() -> None:
    """Drain's known limit: the tree is keyed by the leading words, so a name there splits a
    template (until a node has ``max_children`` children); a status word there keeps two
    events apart, which matters more for a draft."""
    rows = [("f", "n", "a", i, T0, f"Job {w} finished") for i, w in enumerate(["x", "y"] * 3)]
    assert sorted(t.text for t in mine(_records(rows))) == ["Job x finished", "Job y finished"]


def test_mine_of_nothing_is_empty() -> None:
    assert mine(_records([])) == []


def test_spacing_and_cut_are_noted() -> None:
    long = "x " * 700
    rows = [
        ("f", "n", "a", 1, T0, "two  spaces here"),
        ("f", "n", "a", 2, T0, long),
    ]
    by_text = {t.text: t for t in mine(_records(rows))}
    assert by_text["two spaces here"].loose_spacing
    assert any(t.cut for t in by_text.values())
