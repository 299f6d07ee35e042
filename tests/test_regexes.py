from __future__ import annotations

import re

import polars as pl
import pytest

from logdoctor.ingest.regexes import literal_prefix, to_python, to_rust


@pytest.mark.parametrize(
    ("pattern", "subject"),
    [
        (r"\d+", "١٢٣"),  # Arabic-Indic digits: not \d in either engine
        (r"\w+", "é"),
        (r"\s", "\u2003"),  # em space
        (r"[\w.]+$", "a.b"),
        (r"[^\]]*\]", "abc]"),
        (r"x\Z", "x"),
        (r"[]a]", "]"),
        (r"[a[b]", "["),
        (r"[a&&b]", "&"),
        (r"\S+", "tok"),
        # Word boundaries are ASCII in both: a letter with an accent is no word character.
        (r"DEBUG\b", "DEBUGÀ [main]"),
        (r"\bé", " é"),
        (r"a\B", "aé"),
        (r"[\b]", "\x08"),
    ],
)
def test_both_engines_agree(pattern: str, subject: str) -> None:
    py = to_python(pattern).search(subject) is not None
    rust = bool(pl.Series([subject]).str.contains(to_rust(pattern))[0])
    assert py == rust, (pattern, subject, to_rust(pattern))


def test_ascii_classes() -> None:
    assert to_python(r"\d").search("٣") is None
    assert not pl.Series(["٣"]).str.contains(to_rust(r"\d"))[0]
    assert to_rust(r"[\w.$]") == "[[:word:].$]"


def test_python_dialect_is_re_ascii() -> None:
    assert to_python("x").flags & re.ASCII


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"^Access token issued: user=(?P<user>\S+)", "Access token issued: user="),
        (r"^Time Valid\?:\s*true", "Time Valid?:"),
        (r"^abc?d", "ab"),
        (r"^a{2}", ""),
        (r"^(?:a|b)", ""),
        (r"^a|^b", ""),
        (r"abc", ""),
        (r"(?i)^abc", ""),
        (r"^op:\s*regenerate", "op:"),
        (r"^x\.y", "x.y"),
    ],
)
def test_literal_prefix(pattern: str, prefix: str) -> None:
    assert literal_prefix(pattern) == prefix
    # Soundness: whatever the pattern matches starts with the prefix.
    for s in (
        "Access token issued: user=bob",
        "Time Valid?:true",
        "abd",
        "abcd",
        "aa",
        "a",
        "b",
        "op: regenerate",
        "x.y",
    ):
        if to_python(pattern).search(s):
            assert s.startswith(prefix)
