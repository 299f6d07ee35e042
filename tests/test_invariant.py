"""The lossless invariant, on random input: every line is in exactly one record or malformed.

NUL bytes are removed from lines and a line of nothing but NULs is dropped (its number is kept
by the numbering), as the live tail does; everything else is a line.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.parse import LineParser, decode, iter_lines, parse_bytes

FORMATS = {f.name: f for f in load_formats()}

HEADERS = [
    "2021-04-30 09:00:53,156 DEBUG [http-bio-443-exec-83] filter.SSOAuthAgentFilter - ",
    "2026-01-10 06:06:31,274 ERROR [http-nio-81-exec-157]  cpi.sso.SAMLAuthenticator - ",
    "2014-08-02 23:36:40,979 INFO [main] - ",
    "2026-11-20T06:00:00.250-05:00 ",
    "2026-11-20 08:00:01,120 INFO  [x] oauth.TokenServlet - Access token issued: user=",
]

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
    max_size=40,
)
line = st.one_of(
    st.builds(lambda h, t: h + t, st.sampled_from(HEADERS), text),
    text,
    st.just(""),
    st.just("\tat com.example.Foo(Foo.java:1) ~[?:?]"),
    st.builds(lambda t: t + "\r", text),
    st.builds(lambda h, t: "\x00" * 5 + h + t, st.sampled_from(HEADERS), text),
    st.just("\x00\x00\x00"),
)


@st.composite
def files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(line, max_size=30))
    data = "\n".join(lines).encode("utf-8")
    if lines and draw(st.booleans()):
        data += b"\n"
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(max_size=4)) + data[pos:]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=files(), family=st.sampled_from(["ssosp", "certmgmt", "ssoapp"]))
# A level followed by a letter outside ASCII: ssoApp's `(?P<level>DEBUG|...)\b` found the level
# in the line engine (re.ASCII) and not in the bulk one (Rust's \b was Unicode-aware).
@example(data=b"\xef\xbb\xbf", family="ssosp")  # a file of only a byte-order mark: no line
@example(data=b"\xef\xbb\xbf" + HEADERS[0].encode() + b"x\n", family="ssosp")
@example(data=HEADERS[0].replace("DEBUG", "DEBUG\u00c0").encode(), family="ssoapp")
def test_every_line_is_in_one_record_or_malformed(data: bytes, family: str) -> None:
    fmt = FORMATS[family]
    frame, stats = parse_bytes(data, fmt, file="f", node="n")
    text, _ = decode(data)
    text = text.removeprefix("\ufeff")  # a byte-order mark is not text (both engines drop it)
    numbered = {}  # line number -> the line as kept
    for n, ln in enumerate(iter_lines(text), 1):
        kept = ln.replace("\x00", "")
        if kept or "\x00" not in ln:
            numbered[n] = kept.removesuffix("\r")
    assert stats.nul_bytes == data.count(b"\x00")
    # Totals reconcile.
    assert stats.lines == len(numbered)
    assert stats.lines == stats.record_lines + stats.malformed
    assert stats.records == frame.height
    assert sum(1 + m.count("\n") for m in frame["message"].to_list()) == stats.record_lines
    # Malformed lines are exactly the lines before the first record.
    first = frame["line"][0] if frame.height else max(numbered, default=0) + 1
    assert stats.malformed_lines == [n for n in numbered if n < first]
    # Each record's continuation lines are the original lines, in order, none skipped.
    starts = frame["line"].to_list()
    ends = [*starts[1:], max(numbered, default=0) + 1] if starts else []
    for start, end, msg in zip(starts, ends, frame["message"].to_list(), strict=True):
        assert msg.split("\n")[1:] == [v for n, v in numbered.items() if start < n < end]
    # The line engine agrees on every record.
    lp = LineParser(fmt, file="f", node="n")
    recs = [r for ln in iter_lines(text) for r in lp.feed(ln)] + lp.flush()
    linked = {lk.field for lk in fmt.links}
    assert [{k: v for k, v in r.as_row().items() if k not in linked} for r in recs] == [
        {k: v for k, v in d.items() if k not in linked} for d in frame.to_dicts()
    ]
    assert (lp.stats.lines, lp.stats.malformed, lp.stats.record_lines, lp.stats.nul_bytes) == (
        stats.lines,
        stats.malformed,
        stats.record_lines,
        stats.nul_bytes,
    )


# Mostly token characters, with every kind of whitespace the two engines could disagree on.
value = st.text(
    alphabet=st.sampled_from([*"ab9%2F-=:", "\t", "\r", "\x0b", "\x0c", "\u3000", " ", "é"]),
    max_size=6,
)


token = st.text(alphabet=st.sampled_from([*"ab9%2F-=:é"]), min_size=1, max_size=6)


@settings(max_examples=400, deadline=None)
@given(
    vals=st.lists(st.one_of(token, token, token, value), min_size=7, max_size=7),
    last=value,
    tail=value,
)
def test_key_value_templates_cut_by_split_equal_the_regex(
    vals: list[str], last: str, tail: str
) -> None:
    """The bulk engine cuts key=value templates by splitting; the line engine uses the regex."""
    vals = [*vals, last]
    fmt = FORMATS["ssosp"]
    keys = ["user", "client_id", "device", "grant", "jti", "kid", "expires_in", "via"]
    body = " ".join(f"{k}={v}" for k, v in zip(keys, vals, strict=True))
    line = f"2026-11-20 08:00:01,120 INFO  [t] oauth.TokenServlet - Access token issued: {body}"
    data = (line + tail).encode()
    frame, _ = parse_bytes(data, fmt, file="f", node="n")
    lp = LineParser(fmt, file="f", node="n")
    recs = [r for ln in iter_lines(data.decode()) for r in lp.feed(ln)] + lp.flush()
    assert [r.as_row() for r in recs] == frame.to_dicts()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=files(),
    family=st.sampled_from(["ssosp", "certmgmt", "ssoapp"]),
    chunk=st.integers(1, 300),
    workers=st.integers(1, 3),
)
def test_chunked_parsing_equals_whole_file(data: bytes, family: str, chunk: int, workers: int):
    """Cutting a file into chunks at record starts changes nothing: rows, line numbers, stats."""
    fmt = FORMATS[family]
    whole, ws = parse_bytes(data, fmt, file="f", node="n", chunk_bytes=1 << 30, workers=1)
    parts, ps = parse_bytes(data, fmt, file="f", node="n", chunk_bytes=chunk, workers=workers)
    assert parts.to_dicts() == whole.to_dicts()
    for attr in (
        "lines",
        "records",
        "record_lines",
        "malformed",
        "malformed_lines",
        "unrecognized",
        "decode_errors",
        "bad_timestamps",
        "nul_bytes",
        "truncated",
        "kinds",
        "bytes",
        "first_time",
        "last_time",
    ):
        assert getattr(ps, attr) == getattr(ws, attr), attr
