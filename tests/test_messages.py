"""``check`` and ``report`` keep ``message`` out of the rule context's table and fetch it back
for the rows they cite (:mod:`logdoctor.ingest.messages`): from compact blocks kept while
parsing, or from the parsed-file cache. The text fetched is the text parsed, every rule finds
the same with or without the store, and the report is the same page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

import logdoctor
import logdoctor.ingest.messages as messages_module
from logdoctor.ingest.load import open_inputs
from logdoctor.ingest.messages import MessageStore
from logdoctor.outputs.html import render_html
from logdoctor.report import build_report, diagnose
from logdoctor.rules import Context, run_rules
from logdoctor.table import CATEGORICAL_COLUMNS, COLUMNS
from logdoctor.ucm.deployment import load_deployment

ROOT = Path(__file__).parent.parent
SAMPLES = sorted(p for p in (ROOT / "sample_logs").iterdir() if p.is_dir())
MIXED = ROOT / "sample_logs" / "expressway-refreshed-late"
"""A bundle with expressway rows (their message kept) and UCM rows (their message stored)."""


def _frame(rows: list[tuple[str, int, str, str, str | None]]) -> pl.DataFrame:
    file, line, family, kind, message = zip(*rows, strict=True)
    return pl.DataFrame(
        {"file": file, "line": line, "family": family, "kind": kind, "message": message},
        schema={
            "file": pl.String(),
            "line": pl.Int64(),
            "family": pl.String(),
            "kind": pl.String(),
            "message": pl.String(),
        },
    )


def test_take_keeps_whole_column_rows_and_fill_gives_the_rest_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(messages_module, "BLOCK_ROWS", 3)  # several blocks per file
    rows = [
        ("a.log", 1, "ssosp", "token.validated", "first\nsecond line"),
        ("a.log", 3, "ssosp", "unrecognized", "kept: unrecognized"),
        ("a.log", 4, "ssosp", "token.access.issued", "a4 " + "x" * 40),
        ("a.log", 9, "ssosp", "token.validated", ""),
        ("a.log", 12, "ssosp", "token.validated", None),
        ("a.log", 15, "ssosp", "token.refreshed", "a15"),
        ("a.log", 20, "ssosp", "token.refreshed", "a20"),
        ("b.log", 2, "expressway", "edge.request", "kept: expressway"),
        ("b.log", 5, "ssoapp", "auth.success", "b5 ünïcode"),
    ]
    store = MessageStore()
    original = _frame(rows)
    lean = store.take(original)
    kept = {r[4] for r in rows if r[4] and r[4].startswith("kept")}
    assert set(lean["message"].drop_nulls().to_list()) == kept
    assert lean.drop("message").equals(original.drop("message"))
    assert store.compressed_bytes > 0
    # Any subset, in any order, across files and blocks, with or without the column.
    picked = lean.reverse().gather_every(2)
    want = original.reverse().gather_every(2)["message"]
    assert store.fill(picked)["message"].equals(want)
    assert store.fill(lean)["message"].equals(original["message"])
    assert store.fill(lean.drop("message"))["message"].to_list()[:3] == [
        "first\nsecond line",
        None,  # unrecognized: kept in the table, so not in the store
        "a4 " + "x" * 40,
    ]
    # A row the store does not know stays null; a file it does not know too.
    unknown = pl.DataFrame({"file": ["a.log", "c.log"], "line": [2, 1], "message": [None, None]})
    assert store.fill(unknown.cast({"message": pl.String}))["message"].to_list() == [None, None]


def _plain(bundle: Path) -> pl.DataFrame:
    return logdoctor.load(str(bundle), cache=False).frame


def _lean(bundle: Path, *, cache: bool) -> tuple[pl.DataFrame, MessageStore]:
    store = MessageStore()
    frame = open_inputs([str(bundle)], cache=cache).result(CATEGORICAL_COLUMNS, store).frame
    return frame.cast({c: pl.String() for c in CATEGORICAL_COLUMNS}), store


@pytest.mark.parametrize("open_segments", [256, 1])
def test_the_store_gives_the_parsed_text_back_parsed_or_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_segments: int
) -> None:
    monkeypatch.setenv("LOGDOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LOGDOCTOR_NO_CACHE", raising=False)  # the tests' default: no cache
    monkeypatch.setattr(messages_module, "OPEN_SEGMENTS", open_segments)
    plain = _plain(MIXED)
    for cached in (False, True):  # parsed (and stored in the cache), then read from it
        lean, store = _lean(MIXED, cache=True)
        assert lean.drop("message").equals(plain.drop("message"))
        nulls = lean["message"].null_count()
        assert 0 < nulls < lean.height, "some rows keep their message, most do not"
        assert store.fill(lean).select(COLUMNS).equals(plain), f"cached={cached}"
        if open_segments > 1:  # the text is left in the segments written or read: no copy
            assert store.compressed_bytes == 0, f"cached={cached}"
        store.close()
        assert any((tmp_path / "cache").rglob("*.parquet")), "the cache was written"
    lean, store = _lean(MIXED, cache=False)
    assert store.fill(lean).equals(plain)


def _findings(bundle: Path, *, store: bool) -> list[str]:
    config = bundle / "deployment.toml"
    declared = load_deployment(config) if config.exists() else None
    if store:
        result = open_inputs([str(bundle)], cache=False).result(CATEGORICAL_COLUMNS, MessageStore())
        assert result.frame["message"].null_count() > 0
    else:
        result = logdoctor.load(str(bundle), cache=False)
    ctx = Context(
        result.frame, result.stats, declared, nodes=result.nodes, messages=result.messages
    )
    findings, failures = run_rules(ctx, evidence_cap=None)
    assert failures == []
    facts = [repr(f) for f in ctx.inferred.facts]
    return [repr(f) for f in findings] + facts


@pytest.mark.slow
@pytest.mark.parametrize("bundle", SAMPLES, ids=lambda p: p.name)
def test_rules_find_the_same_with_the_message_store(bundle: Path) -> None:
    full = _findings(bundle, store=False)
    lean = _findings(bundle, store=True)
    assert full, "every sample bundle has facts or findings"
    assert lean == full


def _report(bundle: Path, *, store: bool) -> str:
    if store:
        result = open_inputs([str(bundle)], cache=False).result(CATEGORICAL_COLUMNS, MessageStore())
    else:
        result = logdoctor.load(str(bundle), cache=False)
    diagnosis = diagnose(result)
    now = datetime(2026, 12, 5, tzinfo=UTC)
    return render_html(build_report(result.frame, result.stats, diagnosis, now=now))


@pytest.mark.slow
@pytest.mark.parametrize("bundle", SAMPLES, ids=lambda p: p.name)
def test_the_report_is_the_same_page_with_the_message_store(bundle: Path) -> None:
    assert _report(bundle, store=True) == _report(bundle, store=False)


def test_files_taken_on_several_threads_keep_their_own_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(messages_module, "BLOCK_ROWS", 50)
    store = MessageStore()
    frames = [
        _frame([(f"f{i}.log", n, "ssosp", "token.validated", f"f{i} line {n}") for n in range(400)])
        for i in range(24)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        lean = list(pool.map(store.take, frames))
    for original, taken in zip(frames, lean, strict=True):
        assert taken["message"].null_count() == taken.height
        assert store.fill(taken)["message"].equals(original["message"])


@pytest.mark.parametrize("cached", [False, True])
def test_two_members_of_one_name_keep_their_own_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    """A record is named by its file and line: an archive holding two members of one name
    (a zip may) shows the second as ``name (2)``, so the text fetched back for a row is its
    own member's (it was the other member's)."""
    import zipfile

    monkeypatch.setenv("LOGDOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LOGDOCTOR_NO_CACHE", raising=False)
    sample = next((MIXED / "ucm-pub").rglob("ssosp00001.log")).read_bytes()
    other = sample.replace(b"user=", b"user=other-")
    assert other != sample
    bundle = tmp_path / "dup.zip"
    with zipfile.ZipFile(bundle, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("ucm-pub/ssosp00001.log", sample)
        z.writestr("ucm-pub/ssosp00001.log", other)
    plain = _plain(bundle)
    name = f"{bundle}!ucm-pub/ssosp00001.log"
    assert plain["file"].unique().sort().to_list() == [name, f"{name} (2)"]
    lean, store = _lean(bundle, cache=cached)
    assert lean["message"].null_count() > 0
    assert store.fill(lean).select(COLUMNS).equals(plain)
    store.close()
    assert any((tmp_path / "cache").rglob("*.parquet")) == cached
