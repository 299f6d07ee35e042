"""How the parsed-file cache stores a table (:mod:`logdoctor.ingest.cachetable`): the
few-valued columns as Categorical on disk, given so to the readers that keep them (``check``,
``report``, ``parse``'s streamed writers), as String to every other reader, and the same
results either way."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.ingest.cache import ParseCache
from logdoctor.ingest.cachetable import as_read, stored, stored_schema
from logdoctor.ingest.load import open_inputs
from logdoctor.table import CATEGORICAL_COLUMNS, POLARS_SCHEMA

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
BUNDLE = SAMPLES / "expressway-refresh-ucm-off"


def _as_string(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String) for c in CATEGORICAL_COLUMNS)


def _load(keep: tuple[str, ...], cache: bool) -> pl.DataFrame:
    return open_inputs([BUNDLE], cache=cache, jobs=2).result(keep).frame


def test_segments_keep_the_few_valued_columns_categorical(cached: Path) -> None:
    fresh = _load((), cache=False)
    first = _load((), cache=True)
    segments = sorted(cached.rglob("*.parquet"))
    assert segments, "the load stored nothing"
    for seg in segments:
        schema = pl.read_parquet_schema(seg)
        assert pl.Schema(schema) == stored_schema()
        assert all(schema[c] == pl.Categorical() for c in CATEGORICAL_COLUMNS)
    hit = _load((), cache=True)
    # Every reader that keeps nothing gets the documented String table, on a first run and
    # on a hit, equal to a parse without the cache.
    for frame in (first, hit):
        assert frame.schema == POLARS_SCHEMA
        assert frame.equals(fresh, null_equal=True)


def test_a_reader_keeping_columns_gets_them_as_stored(cached: Path) -> None:
    keep = ("kind", "family", "node", "logger")
    fresh = _load((), cache=False)
    for _ in ("first run", "hit"):
        frame = _load(keep, cache=True)
        for c in CATEGORICAL_COLUMNS:
            expected = pl.Categorical() if c in keep else POLARS_SCHEMA[c]
            assert frame.schema[c] == expected, c
        assert _as_string(frame).equals(fresh, null_equal=True)


def test_a_chunk_not_stored_has_the_types_of_one_stored() -> None:
    parsed = pl.DataFrame(
        {c: ["a", None] for c in POLARS_SCHEMA if POLARS_SCHEMA[c] == pl.String},
    )
    parsed = parsed.with_columns(
        pl.lit(None, t).alias(c) for c, t in POLARS_SCHEMA.items() if t != pl.String
    ).select(list(POLARS_SCHEMA))
    keep = ("kind", "node")
    table = stored(parsed)
    written = as_read(table, parsed, keep)
    not_written = as_read(parsed, parsed, keep)  # the cache could not write it
    assert written.schema == not_written.schema
    assert written.schema["kind"] == pl.Categorical()
    assert written.schema["level"] == pl.String()
    assert written.equals(not_written, null_equal=True)
    assert as_read(table, parsed, ()) is parsed


def test_a_write_failing_midway_loses_nothing(
    cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _load((), cache=False)
    calls = {"n": 0}
    write = ParseCache._write_frame

    def flaky(self: ParseCache, folder: Path, name: str, frame: pl.DataFrame) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] % 2 == 0:
            raise OSError("disk full")
        return write(self, folder, name, frame)

    monkeypatch.setattr(ParseCache, "_write_frame", flaky)
    frame = _load(tuple(CATEGORICAL_COLUMNS), cache=True)
    assert calls["n"] > 1
    assert _as_string(frame).equals(fresh, null_equal=True)


_CASES = [
    ("jsonl", []),
    ("csv", []),
    ("tsv", []),
    ("jsonl", ["--kind", "token.*"]),
    ("csv", ["--failures"]),
    ("jsonl", ["--node", "UCM-SUB1"]),
    ("jsonl", ["--user", "LCHEN2"]),
]


@pytest.mark.parametrize(
    ("fmt", "args"),
    _CASES,
    ids=["jsonl", "csv", "tsv", "kind-wildcard", "failures", "node", "user"],
)
def test_parse_from_the_cache_writes_what_a_parse_writes(
    cached: Path, tmp_path: Path, fmt: str, args: list[str]
) -> None:
    log = next(BUNDLE.rglob("ssosp00001.log"))
    runner = CliRunner()

    def parse(*extra: str) -> bytes:
        out = tmp_path / f"out.{fmt}"
        result = runner.invoke(
            main, ["parse", str(log), "--format", fmt, "-o", str(out), *args, *extra]
        )
        assert result.exit_code == 0, result.output
        return out.read_bytes()

    plain = parse("--no-cache")
    assert plain.count(b"\n") > 10  # each filter keeps some of the file's lines
    first, hit = parse(), parse()
    assert any(cached.rglob("*.parquet")), "parse stored nothing"
    assert first == plain
    assert hit == plain
