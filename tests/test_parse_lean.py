"""The lean parse (``keep``: what ``stats`` and the node-name pre-pass read without a cache)
gives the same statistics and node statements as the full parse, and its frame holds exactly
the full parse's events whose message holds one of the texts kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logdoctor.ingest.detect import detect_format
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.nodestatements import family_literals, statement_frame
from logdoctor.ingest.parse import parse_bytes
from logdoctor.ingest.parse.classify import classify, count_kinds
from logdoctor.ingest.parse.header import HEADER_COLS, header_frame

ROOT = Path(__file__).resolve().parents[1]
FORMATS = {f.name: f for f in load_formats()}
SAMPLE_LINES = sorted(
    {ln for f in FORMATS.values() for s in f.samples for ln in s.text.split("\n")}
)
"""Every line of every format's samples: real headers, templates and identity lines."""


def _both(data: bytes, name: str, keep: tuple[str, ...] | None = None, **kw: int) -> None:
    """Parse ``data`` with format ``name`` fully and lean (keeping ``keep``, default: the
    texts of its family's node statements); assert they agree (the node statements too, for
    the default)."""
    fmt = FORMATS[name]
    said = keep is None
    keep = family_literals(fmt.family) if keep is None else keep
    full, fs = parse_bytes(data, fmt, file="f", node="n", **kw)  # type: ignore[arg-type]
    lean, ls = parse_bytes(data, fmt, file="f", node="n", keep=keep, **kw)  # type: ignore[arg-type]
    assert ls == fs
    if fmt.links:  # fields filled across events: the lean parse keeps every event
        assert lean.to_dicts() == full.to_dicts()
    else:
        want = full.filter(pl.col("message").str.contains_any(list(keep))) if keep else full[:0]
        assert lean.to_dicts() == want.to_dicts()
    if said:
        assert _said(lean) == _said(full)


def _said(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return sorted(statement_frame(frame).rows()) if frame.height else []


# A line: a sample line (maybe cut short or with text appended), text, a continuation line.
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
    max_size=20,
)
line = st.one_of(
    st.sampled_from(SAMPLE_LINES),
    st.builds(lambda s, t: s + t, st.sampled_from(SAMPLE_LINES), text),
    st.builds(lambda s, n: s[:n], st.sampled_from(SAMPLE_LINES), st.integers(0, 80)),
    st.builds(lambda s, t: s.replace(" ", t, 1), st.sampled_from(SAMPLE_LINES), text),
    text,
    st.just("\tat com.example.Foo(Foo.java:1) spEntityID is : other.example.com"),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(line, max_size=40),
    name=st.sampled_from(sorted(FORMATS)),
    keep=st.one_of(st.none(), st.lists(st.sampled_from(["Token", "spEntityID", "=", "a"]))),
    chunk=st.sampled_from([1 << 30, 200]),
)
def test_lean_parse_agrees_with_the_full_parse(
    lines: list[str], name: str, keep: list[str] | None, chunk: int
) -> None:
    data = "\n".join(lines).encode("utf-8")
    _both(data, name, None if keep is None else tuple(keep), chunk_bytes=chunk)


def test_count_kinds_equals_the_kinds_classify_gives() -> None:
    """On every sample line of every format at once (templates, logger conditions, literal
    groups, lines no pattern takes)."""
    for fmt in FORMATS.values():
        text = pl.Series("text", [*SAMPLE_LINES, "no header here"])
        frame = header_frame(text.to_frame(), fmt.headers).filter(pl.col("hdr").is_not_null())
        records = frame.select("hdr", *HEADER_COLS, "msg")
        if records.height == 0:
            continue
        got = count_kinds(records, fmt.events)
        want = classify(records, fmt.events)["kind"].value_counts()
        assert dict(got) == dict(zip(want["kind"], want["count"], strict=True)), fmt.name


@pytest.mark.parametrize(
    "bundle", sorted(p for p in (ROOT / "sample_logs").iterdir() if p.is_dir()), ids=str
)
def test_lean_parse_of_every_sample_file(bundle: Path) -> None:
    files = [p for p in sorted(bundle.rglob("*")) if p.is_file() and p.suffix != ".toml"]
    for path in files:
        data = path.read_bytes()
        rel = str(path.relative_to(bundle))
        fmt = detect_format(list(FORMATS.values()), path.name, rel, data[: 1 << 16])
        _both(data, fmt.name)


def test_the_lean_parse_leaves_events_out() -> None:
    """The lean path is taken: on an ssosp file most events are not in the frame."""
    path = ROOT / "sample_logs" / "cisco-published" / "cucm1251-pub"
    data = next(p for p in path.rglob("ssosp*.log")).read_bytes()
    fmt = FORMATS["ssosp"]
    full, fs = parse_bytes(data, fmt, file="f", node="n")
    lean, ls = parse_bytes(data, fmt, file="f", node="n", keep=family_literals("ssosp"))
    assert ls == fs
    assert 0 < lean.height < full.height
    assert _said(lean) == _said(full) != []


def _stats_json(args: list[str], cache: Path) -> dict[str, object]:
    env = {**os.environ, "LOGDOCTOR_CACHE_DIR": str(cache)}
    cmd = [str(Path(sys.executable).parent / "logdoctor"), "stats", "--format", "json", *args]
    out = subprocess.run(cmd, capture_output=True, check=True, env=env, cwd=ROOT)
    doc: dict[str, object] = json.loads(out.stdout)
    return doc


@pytest.mark.slow
def test_stats_without_the_cache_equals_stats_through_it(tmp_path: Path) -> None:
    """``stats --no-cache`` parses lean; a first run through an empty cache parses fully (and
    stores the tables): the documents are the same, node names included, on every sample."""
    bundles = sorted(str(p) for p in (ROOT / "sample_logs").iterdir() if p.is_dir())
    lean = _stats_json(["--no-cache", *bundles], tmp_path / "unused")
    full = _stats_json(bundles, tmp_path / "cache")
    assert lean == full
