"""The bulk engine's header stage gives exactly what the line engine's header regex gives."""

from __future__ import annotations

import polars as pl
import pytest

from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.formats.types import HeaderPattern
from logdoctor.ingest.parse.header import header_frame

_LINES = [
    "2026-11-02 07:00:00,316 DEBUG [http-bio-8443-exec-136] oauth.TokenValidator - Token x=1",
    "2026-11-02 07:00:00,316 INFO  [main] a.B - ",
    "2026-11-02 07:00:00,316 INFO  [main] a.B -",
    "2026-11-02 07:00:00,316 INFO  [main] a.B -  two spaces",
    "2026-11-02 07:00:00,316 INFO  [main] a.B -\tafter a tab",
    "2026-11-02 07:00:00,316 WARNING [pool - 1 [x]] a.B - thread with a dash and a bracket",
    "2026-11-02 07:00:00,316 INFO  [thréad] a.B - a non-ASCII thread",
    "2026-11-02 07:00:00,316 INFO  [t] a.B - message ünïcödé [x] - y",
    "2026-11-02 07:00:00,316 INFO  [t] a.B (B.java:12) - with a location",
    "2026-11-02T07:00:00.316 INFO [t] a.B - T and a dot",
    "2026-11-02 07:00:00 INFO [t] a.B - no fraction",
    "2026-11-02 07:00:00,316  INFO [t] a.B - two spaces after the stamp",
    "2026-11-02 07:00:00,316 INFO [t]  a.B - two spaces before the logger",
    "2026-11-02 07:00:00,316 INFO [t] a.B  - two spaces after the logger",
    "2026-11-02 07:00:00,316 INFO [t] a-B - a dash in the logger",
    "2026-11-02 07:00:00,316 INFO [t] - no logger",
    "2026-11-02 07:00:00,316 INFO [] a.B - empty thread",
    "2026-11-02 07:00:00,316 INFO [t a.B - no closing bracket",
    "\tat com.example.Foo(Foo.java:1)",
    "",
    "[",
    "short ] line [",
    "2026-11-02 07:00:00,316 INFO [t] a.B - \u00a0nbsp",
]


def _log4j() -> HeaderPattern:
    fmt = next(f for f in load_formats(check=False) if f.name == "ssosp")
    return fmt.headers[0]


def _by_re(h: HeaderPattern, line: str) -> dict[str, object]:
    """What the line engine's regex (Python ``re``) reads from ``line``."""
    m = h.regex.py.match(line)
    if m is None:
        return {"hdr": None, "ts": None, "level": None, "thread": None, "logger": None, "msg": None}
    return {"hdr": 0, **{k: m.group(k) for k in ("ts", "level", "thread", "logger", "msg")}}


def test_the_bulk_header_equals_the_line_regex() -> None:
    """Every line, a header or not, gets from the bulk engine's header stage (polars, the
    prefix regex's captures and the message sliced off) what Python ``re`` reads with the
    whole header regex."""
    h = _log4j()
    got = header_frame(pl.DataFrame({"text": _LINES}), [h])
    cols = ["hdr", "ts", "level", "thread", "logger", "msg"]
    assert got.select(cols).to_dicts() == [_by_re(h, line) for line in _LINES]
    assert 0 < int(got["hdr"].is_not_null().sum()) < len(_LINES)  # headers and others


@pytest.mark.parametrize("rows", [0, 1])
def test_the_header_stage_on_tiny_frames(rows: int) -> None:
    h = _log4j()
    lines = pl.DataFrame({"text": pl.Series(_LINES[:rows], dtype=pl.String)})
    assert header_frame(lines, [h]).height == rows
