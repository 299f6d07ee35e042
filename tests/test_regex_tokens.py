"""The shared regex tokenizer and the three walkers on it: each walker's output pinned on tricky
patterns (escapes, classes with ``]``, named groups, ``(?|``, ``^`` inside groups, quantifiers).

The table was produced by the walkers as they were before they shared the tokenizer; the one
row that differs is a fix, marked below (``to_rust`` kept a class open after ``[]]``).
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from logdoctor.ingest.formats.lnav import _anchors, _pcre
from logdoctor.ingest.formats.regex_tokens import TokenKind, tokenize, untokenize
from logdoctor.ingest.regexes import literal_prefix, to_python, to_rust

# pattern, to_rust, _pcre(capture, ts->timestamp), _pcre(no capture), _anchors(<S>, <E>), prefix
WALKS = [
    (
        "^a\\.b\\d+\\Z",
        "^a\\.b[[:digit:]]+\\z",
        "^a\\.b\\d+\\z",
        "^a\\.b\\d+\\z",
        "<S>a\\.b\\d+\\Z",
        "a.b",
    ),
    ("[]a]\\d", "[\\]a][[:digit:]]", "[]a]\\d", "[]a]\\d", "[]a]\\d", ""),
    ("[^]x]\\w", "[^\\]x][[:word:]]", "[^]x]\\w", "[^]x]\\w", "[^]x]\\w", ""),
    # fixed: was '[\\]][:digit:]' (the class stayed open after "[]]")
    ("[]]\\d", "[\\]][[:digit:]]", "[]]\\d", "[]]\\d", "[]]\\d", ""),
    ("[a[b]\\s", "[a\\[b][[:space:]]", "[a[b]\\s", "[a[b]\\s", "[a[b]\\s", ""),
    (
        "[a&&b]x[a--b~~c]",
        "[a\\&&b]x[a\\--b\\~~c]",
        "[a&&b]x[a--b~~c]",
        "[a&&b]x[a--b~~c]",
        "[a&&b]x[a--b~~c]",
        "",
    ),
    (
        "^(?P<user>\\S+) (?P<ts>[^ ]+)$",
        "^(?P<user>[[:^space:]]+) (?P<ts>[^ ]+)$",
        "^(?<user>\\S+) (?<timestamp>[^ ]+)$",
        "^(?:\\S+) (?:[^ ]+)$",
        "<S>(?P<user>\\S+) (?P<ts>[^ ]+)<E>",
        "",
    ),
    (
        "(?:^|\\s)Event=(?P<kind>\\w+)",
        "(?:^|[[:space:]])Event=(?P<kind>[[:word:]]+)",
        "(?:^|\\s)Event=(?<kind>\\w+)",
        "(?:^|\\s)Event=(?:\\w+)",
        "(?:<S>|\\s)Event=(?P<kind>\\w+)",
        "",
    ),
    ("(?|a|b)", "(?|a|b)", "(?|a|b)", "(?|a|b)", "(?|a|b)", ""),
    ("x{2,3}?y*z+?", "x{2,3}?y*z+?", "x{2,3}?y*z+?", "x{2,3}?y*z+?", "x{2,3}?y*z+?", ""),
    (
        "\\bword\\B[\\b]",
        "(?-u:\\b)word(?-u:\\B)[\\x08]",
        "\\bword\\B[\\b]",
        "\\bword\\B[\\b]",
        "\\bword\\B[\\b]",
        "",
    ),
    ("a\\\\", "a\\\\", "a\\\\", "a\\\\", "a\\\\", ""),
    ("a\\", "a\\", "a\\", "a\\", "a\\", ""),
    ("[$^]^a$", "[$^]^a$", "[$^]^a$", "[$^]^a$", "[$^]<S>a<E>", ""),
    (
        "\\[(?P<a>x)\\]\\^\\$",
        "\\[(?P<a>x)\\]\\^\\$",
        "\\[(?<a>x)\\]\\^\\$",
        "\\[(?:x)\\]\\^\\$",
        "\\[(?P<a>x)\\]\\^\\$",
        "",
    ),
    ("[(?P<n>x)]", "[(?P<n>x)]", "[(?P<n>x)]", "[(?P<n>x)]", "[(?P<n>x)]", ""),
    ("[^^]", "[^^]", "[^^]", "[^^]", "[^^]", ""),
    ("(a|b)c", "(a|b)c", "(a|b)c", "(a|b)c", "(a|b)c", ""),
    ("^ab|c", "^ab|c", "^ab|c", "^ab|c", "<S>ab|c", ""),
    (
        "^Access token: (?P<x>.*)",
        "^Access token: (?P<x>.*)",
        "^Access token: (?<x>.*)",
        "^Access token: (?:.*)",
        "<S>Access token: (?P<x>.*)",
        "Access token: ",
    ),
    # fixed: _anchors read "[]" as an empty class and replaced the "^" after it
    ("[]^]x$", "[\\]^]x$", "[]^]x$", "[]^]x$", "[]^]x<E>", ""),
]


@pytest.mark.parametrize(("pattern", "rust", "pcre", "pcre_nocap", "anchors", "prefix"), WALKS)
def test_each_walker_on_tricky_patterns(
    pattern: str, rust: str, pcre: str, pcre_nocap: str, anchors: str, prefix: str
) -> None:
    assert to_rust(pattern) == rust
    assert _pcre(pattern, capture=True, rename={"ts": "timestamp"}) == pcre
    assert _pcre(pattern, capture=False) == pcre_nocap
    assert _anchors(pattern, start="<S>", end="<E>") == anchors
    assert literal_prefix(pattern) == prefix


@pytest.mark.parametrize("pattern", [w[0] for w in WALKS])
def test_tokens_give_the_pattern_back(pattern: str) -> None:
    assert untokenize(tokenize(pattern)) == pattern


def test_token_kinds() -> None:
    toks = tokenize(r"[^]\d](?P<user>x)\Z")
    assert [(t.kind, t.text, t.in_class) for t in toks] == [
        (TokenKind.CLASS_OPEN, "[^", False),
        (TokenKind.CHAR, "]", True),
        (TokenKind.ESCAPE, "\\d", True),
        (TokenKind.CLASS_CLOSE, "]", True),
        (TokenKind.NAMED, "(?P<user>", False),
        (TokenKind.CHAR, "x", False),
        (TokenKind.CHAR, ")", False),
        (TokenKind.ESCAPE, "\\Z", False),
    ]
    assert toks[4].name == "user"


@pytest.mark.parametrize(
    ("pattern", "subject"), [(r"[]]\d", "]7"), (r"[]]\d", "]x"), ("[]^]", "^")]
)
def test_fixed_rows_mean_in_rust_what_they_mean_in_python(pattern: str, subject: str) -> None:
    py = to_python(pattern).search(subject) is not None
    assert bool(pl.Series([subject]).str.contains(to_rust(pattern))[0]) == py
    assert (re.search(_anchors(pattern, start="^", end="$"), subject) is not None) == py
