"""The parsed-file cache: a hit gives exactly what a parse gives, any change is a miss, a grown
file is re-parsed from its last chunk only, a damaged entry is parsed again, ``--no-cache``
neither reads nor writes it."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.ingest import cache as cache_module
from logdoctor.ingest import codehash, opening
from logdoctor.ingest import load as load_module
from logdoctor.ingest.cache import ParseCache, cache_dir
from logdoctor.ingest.inputs import Limits, LogFile
from logdoctor.ingest.load import Loader, LoadResult, open_inputs

LEVELS = ("INFO", "DEBUG", "WARN", "ERROR")


def _line(i: int) -> str:
    clock = f"{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"
    ts = f"2026-03-0{1 + i // 86400} {clock},{i % 1000:03d}"
    lvl = LEVELS[i % 4].ljust(5)
    if i % 7 == 0:
        msg = (
            f"Refresh grant accepted: user=u{i % 50} client_id=c{i % 3} device=CSFU tid=t{i} via=-"
        )
    elif i % 5 == 0:
        msg = f"Authorize request: response_type=code client_id=c{i % 3} user=u{i % 50} agent=J%2F1"
    elif i % 11 == 0:
        msg = "java.lang.IllegalStateException: boom\n\tat a.b.C.d(C.java:1)"
    else:
        msg = f"something else entirely {i}"
    return f"{ts} {lvl} [http-bio-8443-exec-{i % 9}] oauth.TokenServlet - {msg}\n"


def _text(start: int, count: int) -> str:
    return "".join(_line(i) for i in range(start, start + count))


def _load(path: Path, cache: bool = True) -> tuple[LoadResult, ParseCache | None]:
    loader = open_inputs([path], cache=cache, jobs=2)
    return loader.result(), loader.cache


def _same(a: LoadResult, b: LoadResult) -> None:
    assert a.frame.equals(b.frame, null_equal=True)
    assert [s.to_dict() for s in a.stats] == [s.to_dict() for s in b.stats]


def _log(tmp_path: Path, lines: int = 6000) -> Path:
    p = tmp_path / "logs" / "cucm-pub" / "ssosp01.log"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(_text(0, lines), encoding="utf-8")
    return p


def test_hit_gives_what_a_parse_gives(tmp_path: Path, cached: Path) -> None:
    log = _log(tmp_path)
    fresh, _ = _load(log, cache=False)
    first, c1 = _load(log)
    second, c2 = _load(log)
    assert c1 is not None and c2 is not None
    assert (c1.counts.misses, c1.counts.stored) == (1, 1)
    assert (c2.counts.hits, c2.counts.misses, c2.counts.stored) == (1, 0, 0)
    assert fresh.frame.height > 5000
    assert fresh.frame["kind"].n_unique() > 1
    _same(fresh, first)
    _same(fresh, second)
    assert oct(cached.stat().st_mode & 0o777) == "0o700"


def test_a_changed_file_is_a_miss(tmp_path: Path, cached: Path) -> None:
    log = _log(tmp_path)
    _load(log)
    # Same size, other content, a later mtime: a miss, and the new content is what loads.
    text = log.read_text(encoding="utf-8").replace("user=u1 ", "user=u9 ")
    log.write_text(text, encoding="utf-8")
    st = log.stat()
    os.utime(log, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    again, cache = _load(log)
    assert cache is not None and (cache.counts.hits, cache.counts.misses) == (0, 1)
    _same(again, _load(log, cache=False)[0])
    assert "u1" not in again.frame["user"].drop_nulls().to_list()


def test_another_zone_is_a_miss(tmp_path: Path, cached: Path) -> None:
    log = _log(tmp_path, 500)
    utc, _ = _load(log)
    loader = open_inputs([log], cache=True, tz="+02:00")
    shifted = loader.result()
    assert loader.cache is not None and loader.cache.counts.hits == 0
    assert shifted.frame["time"][0] != utc.frame["time"][0]


def test_formats_change_is_a_miss(tmp_path: Path, cached: Path) -> None:
    log = _log(tmp_path, 500)
    _load(log)
    fmts = tmp_path / "fmts"
    fmts.mkdir()
    src = Path(__file__).parent.parent / "parsers" / "ssosp.toml"
    text = src.read_text(encoding="utf-8")
    (fmts / "ssosp.toml").write_text(text + "\n# edited\n", encoding="utf-8")
    loader = open_inputs([log], cache=True, formats_dir=[fmts])
    loader.result()
    assert loader.cache is not None
    assert (loader.cache.counts.hits, loader.cache.counts.misses) == (0, 1)


def test_two_format_sets_sharing_a_cache_keep_an_entry_each(tmp_path: Path, cached: Path) -> None:
    """Two versions (or two sets of format files) that share a cache folder: each keeps its
    own entry for the same file, so alternate runs of each hit (an entry per file alone
    made each run replace the other's: a miss every time)."""
    log = _log(tmp_path, 500)
    fmts = tmp_path / "fmts"
    fmts.mkdir()
    src = Path(__file__).parent.parent / "parsers" / "ssosp.toml"
    text = src.read_text(encoding="utf-8")
    (fmts / "ssosp.toml").write_text(text + "\n# edited\n", encoding="utf-8")

    def run(edited: bool) -> tuple[int, int]:
        loader = open_inputs([log], cache=True, formats_dir=[fmts] if edited else [])
        loader.result()
        assert loader.cache is not None
        return loader.cache.counts.hits, loader.cache.counts.misses

    assert run(False) == (0, 1)
    assert run(True) == (0, 1)
    assert [run(False), run(True), run(False)] == [(1, 0), (1, 0), (1, 0)]


def test_growing_file_reparses_only_its_tail(tmp_path: Path, cached: Path) -> None:
    log = _log(tmp_path, 6000)  # over SPLIT_TAIL: the last record is a chunk of its own
    size = log.stat().st_size
    assert size > 256 << 10
    _load(log)
    with log.open("a", encoding="utf-8") as fh:
        # The last record gets continuation lines, then new records come.
        fh.write("\tat more.Continuation(X.java:9)\n")
        fh.write(_text(6000, 300))
    grown, cache = _load(log)
    assert cache is not None
    assert (cache.counts.grown, cache.counts.hits, cache.counts.misses) == (1, 0, 0)
    assert 0 < cache.counts.tail_bytes < log.stat().st_size - size + 4096
    _same(grown, _load(log, cache=False)[0])
    assert grown.frame.height > 6000
    # The grown entry is stored whole again: the next load is a plain hit.
    again, cache = _load(log)
    assert cache is not None and (cache.counts.hits, cache.counts.grown) == (1, 0)
    _same(again, grown)


def test_rewritten_file_of_the_same_inode_is_not_taken_for_growth(
    tmp_path: Path, cached: Path
) -> None:
    log = _log(tmp_path, 6000)
    _load(log)
    with log.open("r+", encoding="utf-8") as fh:  # rewritten in place, then longer
        fh.write(_text(7, 6100))
    loaded, cache = _load(log)
    assert cache is not None and (cache.counts.grown, cache.counts.misses) == (0, 1)
    _same(loaded, _load(log, cache=False)[0])


@pytest.mark.parametrize("damage", ["parquet", "key", "missing"])
def test_damaged_entry_is_parsed_again(tmp_path: Path, cached: Path, damage: str) -> None:
    log = _log(tmp_path, 800)
    fresh, _ = _load(log)
    (entry,) = list(cached.iterdir())
    if damage == "parquet":
        for p in entry.glob("*.parquet"):
            p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    elif damage == "key":
        (entry / "key.json").write_text('{"key": {"version": 1', encoding="utf-8")
    else:
        for p in entry.glob("*.parquet"):
            p.unlink()
    loaded, cache = _load(log)
    assert cache is not None and cache.counts.bad == 1 and cache.counts.hits == 0
    _same(loaded, fresh)
    # And stored again, readable.
    _, cache = _load(log)
    assert cache is not None and cache.counts.hits == 1


def test_damaged_later_segment_is_parsed_again_without_repeating_rows(
    tmp_path: Path, cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hit is replayed one segment at a time: a segment found damaged after others were
    given makes the file parsed again, the rows already given not given twice."""
    monkeypatch.setattr(opening, "CHUNK_BYTES", 1)  # streamed: one segment per chunk
    log = _log(tmp_path, 6000)  # over SPLIT_TAIL: the last record is a segment of its own
    fresh, _ = _load(log, cache=False)
    _load(log)
    (entry,) = list(cached.iterdir())
    segments = sorted(entry.glob("*.parquet"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(segments) >= 2
    last = segments[-1]
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    loaded, cache = _load(log)
    assert cache is not None and cache.counts.bad == 1 and cache.counts.hits == 0
    _same(loaded, fresh)
    assert loaded.frame["line"].is_unique().all()
    _, cache = _load(log)  # stored again, readable
    assert cache is not None and cache.counts.hits == 1


def test_gz_member_is_cached_by_its_file(tmp_path: Path, cached: Path) -> None:
    folder = tmp_path / "b" / "cucm-pub"
    folder.mkdir(parents=True)
    gz = folder / "ssosp01.log.gz"
    gz.write_bytes(gzip.compress(_text(0, 900).encode()))
    fresh, _ = _load(gz, cache=False)
    _load(gz)
    hit, cache = _load(gz)
    assert cache is not None and cache.counts.hits == 1
    _same(hit, fresh)
    gz.write_bytes(gzip.compress(_text(1, 900).encode()))
    changed, cache = _load(gz)
    assert cache is not None and cache.counts.misses == 1
    _same(changed, _load(gz, cache=False)[0])


def _cli(args: list[str]) -> str:
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.stdout


def test_cli_uses_the_cache_and_no_cache_neither_reads_nor_writes(
    tmp_path: Path, cached: Path
) -> None:
    log = _log(tmp_path, 700)
    out = _cli(["stats", str(log), "--format", "json", "--no-cache"])
    assert not cached.exists() or not any(cached.iterdir())
    assert _cli(["stats", str(log), "--format", "json"]) == out
    (entry,) = list(cached.iterdir())
    doc = json.loads((entry / "key.json").read_text(encoding="utf-8"))
    assert doc["key"]["display"] == str(log)
    # A hit gives the same output; --no-cache ignores even a damaged entry it would trip on.
    assert _cli(["stats", str(log), "--format", "json"]) == out
    for p in entry.glob("*.parquet"):
        p.write_bytes(b"not parquet")
    assert _cli(["stats", str(log), "--format", "json", "--no-cache"]) == out
    assert all(p.read_bytes() == b"not parquet" for p in entry.glob("*.parquet"))
    # stats reads the statistics stored in the key, never the tables: same output, and the
    # damaged tables are not even opened (a read would find them damaged and drop them).
    assert _cli(["stats", str(log), "--format", "json"]) == out
    assert all(p.read_bytes() == b"not parquet" for p in entry.glob("*.parquet"))
    # A command that reads the tables finds them damaged and parses the file again.
    _cli(["parse", str(log), "--format", "jsonl", "-o", str(tmp_path / "out.jsonl")])
    assert not any(p.read_bytes() == b"not parquet" for p in entry.glob("*.parquet"))
    assert _cli(["stats", str(log), "--format", "json"]) == out


SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _stats_only(path: Path, cache: bool = True) -> tuple[Loader, ParseCache | None]:
    loader = open_inputs([path], cache=cache, jobs=2)
    loader.read_stats()
    return loader, loader.cache


@pytest.mark.parametrize("big", [False, True], ids=["whole", "streamed"])
def test_stats_only_hit_reads_no_table(
    tmp_path: Path, cached: Path, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    """``read_stats`` gives the statistics and node names a full load gives, on a miss and on
    a hit; a hit opens no table (all of them damaged here), a miss stores the entry."""
    if big:  # every file streamed chunk by chunk (the mode is part of the key)
        monkeypatch.setattr(opening, "CHUNK_BYTES", 1)
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLES / "cisco-published", bundle)
    full, _ = _load(bundle, cache=False)
    assert full.nodes.notes or any(n.aliases for n in full.nodes.nodes)  # names from lines
    missed, c1 = _stats_only(bundle)
    assert c1 is not None and c1.counts.misses > 0 and c1.counts.stored == c1.counts.misses
    for p in cached.glob("*/*.parquet"):
        p.write_bytes(b"not parquet")
    hit, c2 = _stats_only(bundle)
    assert c2 is not None and c2.counts.hits == c1.counts.misses
    assert c2.counts.misses == c2.counts.bad == c2.counts.stored == 0
    assert all(p.read_bytes() == b"not parquet" for p in cached.glob("*/*.parquet"))
    for got in (missed, hit):
        assert [s.to_dict() for s in got.stats] == [s.to_dict() for s in full.stats]
        assert got.nodes == full.nodes


def test_a_file_changed_while_read_leaves_no_tables(
    tmp_path: Path, cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables written as a file is parsed (chunk by chunk, none held) are removed when it
    changed meanwhile (no entry is stored), so the folder holds nothing stale."""
    monkeypatch.setattr(opening, "CHUNK_BYTES", 1)  # streamed
    log = _log(tmp_path, 6000)
    loader = open_inputs([log], cache=True, jobs=2)
    frames = loader.frames()
    next(frames)
    assert list(cached.glob("*/*.parquet")) != []  # written as it came, not held
    with log.open("a", encoding="utf-8") as fh:
        fh.write(_text(3000, 10))
    for _ in frames:
        pass
    assert loader.cache is not None and loader.cache.counts.stored == 0
    assert list(cached.glob("*/*")) == []


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LOGDOCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "logdoctor" / "parsed"


def test_pruned_past_its_limit(tmp_path: Path, cached: Path) -> None:
    a, b = _log(tmp_path, 600), tmp_path / "other" / "n2" / "ssosp02.log"
    b.parent.mkdir(parents=True)
    b.write_text(_text(5, 600), encoding="utf-8")
    _load(a)
    os.utime(next(cached.iterdir()) / "key.json", (1, 1))  # least recently used
    loader = open_inputs([b], cache=True)
    assert loader.cache is not None
    loader.cache.max_bytes = 1
    loader.result()
    assert len(list(cached.iterdir())) <= 1
    frame = pl.read_parquet(next(next(cached.iterdir()).glob("*.parquet")))
    assert frame["file"][0] == str(b)


def test_the_key_hashes_the_engine_sources_where_they_live() -> None:
    """Every engine source the key hashes exists (a moved module would otherwise drop out of
    the hash silently, and an engine change would no longer be a miss), and every module of
    the parse engines is among them."""
    package = Path(cache_module.__file__).resolve().parent.parent
    missing = [name for name in codehash.SOURCES if not (package / name).is_file()]
    assert missing == []
    engines = {p.relative_to(package).as_posix() for p in (package / "ingest/parse").glob("*.py")}
    assert engines <= set(codehash.SOURCES)
    # how an entry is written and read back (its tables' types among it)
    stores = {f"ingest/{n}.py" for n in ("cache", "cachekey", "cachetable", "cacheseam")}
    assert stores <= set(codehash.SOURCES)


def test_identify_nodes_trusts_a_current_entry(
    tmp_path: Path, cached: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``identify_nodes`` (run before a streamed export) neither scans nor parses a cached
    file: one that states no node name is skipped, one that does gives its stored statements;
    the node names are those of a load without the cache. A changed file is scanned again."""
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLES / "cisco-published", bundle)
    fresh = open_inputs([bundle], cache=False, jobs=2).identify_nodes()
    open_inputs([bundle], cache=True, jobs=2).read_stats()  # fills the cache
    scanned: list[str] = []
    real = opening.mentions  # what load.py calls, before the spy replaces its name

    def spy(lf: LogFile, literals: tuple[bytes, ...], limits: Limits) -> bool:
        scanned.append(lf.display)
        return real(lf, literals, limits)

    monkeypatch.setattr(load_module, "mentions", spy)
    loader = open_inputs([bundle], cache=True, jobs=2)
    assert loader.identify_nodes() == fresh
    assert scanned == []
    assert loader.cache is not None and loader.cache.counts.misses == 0
    stating = [lf for lf in loader.files if "ssosp" in lf.display]
    assert stating and loader.cache.counts.hits >= len(stating)
    plain = next(lf for lf in loader.files if lf.name == "jabber.log")
    assert plain.local is not None
    os.utime(plain.local, ns=(1, 1))  # changed: its entry no longer speaks for it
    loader = open_inputs([bundle], cache=True, jobs=2)
    assert loader.identify_nodes() == fresh
    assert scanned == [plain.display]


@pytest.mark.parametrize("big", [False, True], ids=["whole", "streamed"])
def test_a_hit_takes_its_node_statements_from_the_entry(
    tmp_path: Path, cached: Path, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    """A full load from the cache does not look for node statements in the events again: the
    entry's are used (same events, statistics and node names as without the cache)."""
    if big:
        monkeypatch.setattr(opening, "CHUNK_BYTES", 1)
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLES / "cisco-published", bundle)
    fresh, _ = _load(bundle, cache=False)
    _load(bundle)  # fills the cache

    def refuse(frame: pl.DataFrame) -> pl.DataFrame:
        raise AssertionError("statements computed again on a hit")

    monkeypatch.setattr(load_module, "statement_frame", refuse)
    hit, cache = _load(bundle)
    assert cache is not None and cache.counts.misses == 0 and cache.counts.hits > 0
    _same(hit, fresh)
    assert hit.nodes == fresh.nodes
