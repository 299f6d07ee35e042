"""The bulk engine's fast header path gives exactly what the header regex gives."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.formats.types import HeaderPattern
from logdoctor.ingest.parse.header import LOG4J_PREFIX, header_frame, log4j_fields

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
    assert fmt.headers[0].prefix.source == LOG4J_PREFIX
    return fmt.headers[0]


def test_the_log4j_cut_equals_the_header_regex() -> None:
    """Every line, accepted by the fast cut or not, gets the regex's hdr, fields and message
    (the regex path is forced by a copy of the header whose source differs)."""
    h = _log4j()
    slow = dataclasses.replace(h, prefix=dataclasses.replace(h.prefix, source="(regex path)"))
    lines = pl.DataFrame({"text": _LINES})
    fast = header_frame(lines, [h])
    regex = header_frame(lines, [slow])
    assert fast.to_dicts() == regex.to_dicts()
    ok, _ = log4j_fields(lines)
    assert 0 < int(ok.sum()) < len(_LINES)  # both paths were exercised


@pytest.mark.parametrize("rows", [0, 1])
def test_the_log4j_cut_on_tiny_frames(rows: int) -> None:
    h = _log4j()
    lines = pl.DataFrame({"text": pl.Series(_LINES[:rows], dtype=pl.String)})
    assert header_frame(lines, [h]).height == rows
