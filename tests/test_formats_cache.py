"""Compiled, checked formats kept between runs: a hit gives what a fresh load gives without the
sample check; an edit, another version, a damaged, foreign or unsafe entry is a miss; an
unwritable cache only costs the check; ``LOGDOCTOR_NO_CACHE`` neither reads nor writes."""

from __future__ import annotations

import io
import os
import pickle
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logdoctor.ingest import codehash
from logdoctor.ingest.formats import check as check_module
from logdoctor.ingest.formats import compiled
from logdoctor.ingest.formats.catalog import builtin_formats_dir, load_formats
from logdoctor.ingest.formats.types import Format, FormatError, Regex
from tests.test_formats import MINIMAL

BUILTIN = len(list(builtin_formats_dir().glob("*.toml")))


@pytest.fixture
def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The cache allowed in a private folder; yields the names of the formats checked."""
    monkeypatch.delenv("LOGDOCTOR_NO_CACHE", raising=False)
    monkeypatch.setenv("LOGDOCTOR_CACHE_DIR", str(tmp_path / "cache" / "parsed"))
    seen: list[str] = []
    real = check_module.check_format

    def spy(f: Format) -> None:
        seen.append(f.name)
        real(f)

    monkeypatch.setattr(check_module, "check_format", spy)
    yield seen


def _folder(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "parsed-formats"


def _user(tmp_path: Path, text: str = MINIMAL) -> Path:
    d = tmp_path / "fmts"
    d.mkdir(exist_ok=True)
    (d / "mylog.toml").write_text(text)
    return d


def _fresh(extra: list[Path]) -> list[Format]:
    old = os.environ.get("LOGDOCTOR_NO_CACHE")
    os.environ["LOGDOCTOR_NO_CACHE"] = "1"
    try:
        return load_formats(extra)
    finally:
        if old is None:
            del os.environ["LOGDOCTOR_NO_CACHE"]
        else:
            os.environ["LOGDOCTOR_NO_CACHE"] = old


def test_a_hit_gives_what_a_fresh_load_gives_without_checking(
    tmp_path: Path, checks: list[str]
) -> None:
    user = _user(tmp_path)
    first = load_formats([user])
    assert len(checks) == BUILTIN + 1
    folder = _folder(tmp_path)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    entries = list(folder.iterdir())
    assert len(entries) == BUILTIN + 1
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)
    checks.clear()
    second = load_formats([user])
    assert checks == []
    fresh = _fresh([user])
    assert second == fresh == first
    assert [f.specificity for f in second] == [f.specificity for f in fresh]
    checks.clear()
    assert [f.name for f in load_formats([user], check=False)] == [f.name for f in fresh]
    assert checks == []


class _NoPatterns(pickle.Unpickler):
    """Refuses a pickled compiled pattern (unpickling one compiles it)."""

    def find_class(self, module: str, name: str, /) -> Any:
        assert module != "re", f"an entry holds a compiled pattern ({module}.{name})"
        return super().find_class(module, name)


def _regexes(f: Format) -> list[Regex]:
    """Every regex of ``f``: headers (whole and prefix), events (and loggers), fields."""
    return [
        *(r for h in f.headers for r in (h.regex, h.prefix)),
        *(r for e in f.events for r in (e.regex, e.logger) if r is not None),
        *(x.regex for x in f.fields),
    ]


def test_a_hit_compiles_a_regex_only_when_it_is_used(tmp_path: Path, checks: list[str]) -> None:
    """An entry holds no compiled pattern (unpickling one recompiles it): a hit compiles no
    event, field or timestamp regex up front, and a pattern compiled on first use is the one
    a fresh load makes."""
    user = _user(tmp_path)
    load_formats([user])
    for entry in _folder(tmp_path).iterdir():
        _NoPatterns(io.BytesIO(entry.read_bytes())).load()
    hit = load_formats([user])
    assert sorted(checks) == sorted(f.name for f in hit)  # checked once: the second was a hit
    hits = [r for f in hit for r in _regexes(f)]
    assert len(hits) > 2 * len(hit)
    # only the header regexes are compiled (ordering formats by specificity matches them)
    headers = {id(h.regex) for f in hit for h in f.headers}
    assert [r.source for r in hits if "py" in vars(r)] == [
        r.source for r in hits if id(r) in headers
    ]
    assert not any("regex" in vars(t) for f in hit for h in f.headers for t in h.timestamps)
    fresh = [r for f in _fresh([user]) for r in _regexes(f)]
    assert [r.source for r in hits] == [r.source for r in fresh]
    for r, s in zip(hits, fresh, strict=True):
        assert (r.py.pattern, r.py.flags, r.py.groupindex) == (
            s.py.pattern,
            s.py.flags,
            s.py.groupindex,
        )
        assert r.py is r.py  # compiled once
    sample = hit[-1].samples[0].text if hit[-1].samples else ""
    assert [bool(h.regex.py.match(sample)) for h in hit[-1].headers] == [
        bool(h.regex.py.match(sample)) for h in _fresh([user])[-1].headers
    ]


def test_an_edited_file_is_checked_again_and_refused_when_bad(
    tmp_path: Path, checks: list[str]
) -> None:
    user = _user(tmp_path)
    load_formats([user])
    checks.clear()
    _user(tmp_path, MINIMAL.replace('user = "alice", level', 'user = "bob", level'))
    with pytest.raises(FormatError, match="field user: expected 'bob'"):
        load_formats([user])
    assert checks == ["mylog"]  # the built-ins were read back
    checks.clear()
    _user(tmp_path, MINIMAL.replace("My log", "My own log"))
    assert next(f for f in load_formats([user]) if f.name == "mylog").title == "My own log"
    assert checks == ["mylog"]


def test_another_version_is_a_miss(
    tmp_path: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _user(tmp_path)
    load_formats([user], builtin=False)
    checks.clear()
    monkeypatch.setattr(compiled, "_code_hash", lambda: b"another logdoctor")
    load_formats([user], builtin=False)
    assert checks == ["mylog"]


@pytest.mark.parametrize("damage", ["garbage", "foreign", "writable by others"])
def test_a_bad_entry_is_never_used(tmp_path: Path, checks: list[str], damage: str) -> None:
    user = _user(tmp_path)
    load_formats([user], builtin=False)
    entry = compiled.formats_cache_dir() / compiled._key(
        user / "mylog.toml", (user / "mylog.toml").read_bytes(), False
    )
    assert entry.exists()
    if damage == "garbage":
        entry.write_bytes(b"not a pickle")
    elif damage == "foreign":
        _user(tmp_path, MINIMAL.replace('name = "mylog"', 'name = "other"'))
        load_formats([user], builtin=False)
        other = next(p for p in entry.parent.iterdir() if p != entry)
        entry.write_bytes(other.read_bytes())  # another file's format under this file's key
        _user(tmp_path)
    else:
        entry.chmod(0o666)
    checks.clear()
    (f,) = load_formats([user], builtin=False)
    assert checks == ["mylog"]
    assert f.name == "mylog" and f.path == str(user / "mylog.toml")


def test_an_unwritable_cache_costs_only_the_check(
    tmp_path: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder would be")
    monkeypatch.setenv("LOGDOCTOR_CACHE_DIR", str(blocker / "parsed"))
    user = _user(tmp_path)
    assert load_formats([user], builtin=False) == load_formats([user], builtin=False)
    assert checks == ["mylog", "mylog"]


def test_no_cache_neither_reads_nor_writes(
    tmp_path: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _user(tmp_path)
    load_formats([user], builtin=False)
    monkeypatch.setenv("LOGDOCTOR_NO_CACHE", "1")
    checks.clear()
    load_formats([user], builtin=False)
    assert checks == ["mylog"]  # not read
    for p in _folder(tmp_path).iterdir():
        p.unlink()
    load_formats([user], builtin=False)
    assert not any(_folder(tmp_path).iterdir())


def test_old_entries_are_pruned(
    tmp_path: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled, "KEEP", 2)
    user = _user(tmp_path)
    for i in range(4):
        _user(tmp_path, MINIMAL.replace("My log", f"My log {i}"))
        load_formats([user], builtin=False)
    assert len(list(_folder(tmp_path).iterdir())) == 2
    checks.clear()
    load_formats([user], builtin=False)
    assert checks == []  # the newest was kept


def test_every_parse_engine_module_is_in_the_key() -> None:
    """The sample check parses with the engines: an edit of any of their modules (the bulk
    engine's stages included) must be a miss, or a stale check would be reused."""
    package = Path(compiled.__file__).resolve().parents[2]
    engine = {
        p.relative_to(package).as_posix()
        for p in (package / "ingest" / "parse").glob("*.py")
        if p.name != "__init__.py"
    }
    assert engine and engine <= set(codehash.SOURCES)
