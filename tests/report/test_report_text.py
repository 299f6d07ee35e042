"""Neutralizing log text for the report."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logdoctor.report.text import neutral, neutral_tree


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain <b>text</b>", "plain <b>text</b>"),  # HTML is escaped later, by Jinja2
        ("a\x1b[31mred", "a\\x1b[31mred"),
        ("nul\x00bell\x07del\x7f", "nul\\x00bell\\x07del\\x7f"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
        ("iso\u2066late\u2069", "iso\\u2066late\\u2069"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028sep", "line\\u2028sep"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("lone\udc80surrogate", "lone\\udc80surrogate"),
        ("two\nlines\r\nthree", "two ⏎ lines ⏎ three"),
        ("tab\there", "tab here"),
        ("ünïcödé 日本 ok", "ünïcödé 日本 ok"),
        (None, ""),
        (42, "42"),
    ],
)
def test_neutral_makes_invisible_characters_visible(raw: object, shown: str) -> None:
    assert neutral(raw) == shown


def test_neutral_cuts_long_text_with_an_ellipsis_and_stays_fast() -> None:
    long = "A" * 100_000
    out = neutral(long, 300)
    assert len(out) == 300 and out.endswith("…") and out[:299] == "A" * 299
    assert neutral("short", 300) == "short"
    # escapes count towards the limit: the result is never longer than asked
    assert len(neutral("\x1b" * 1000, 50)) == 50


def test_neutral_tree_walks_nested_data_and_keeps_numbers() -> None:
    data = {"a\u202e": ["x\x1by", 1, 2.5, None, True, ("t\u200b",)]}
    assert neutral_tree(data) == {"a\\u202e": ["x\\x1by", 1, 2.5, None, True, ["t\\u200b"]]}


def _neutral_without_fast_path(value: object, limit: int | None = None) -> str:
    """:func:`neutral` as it was before its plain-ASCII fast path: every step on every text."""
    from logdoctor.report.text import INVISIBLE, _escape

    if value is None:
        return ""
    s = str(value)
    cut = limit is not None and len(s) > 4 * limit + 16
    if limit is not None and cut:
        s = s[: 4 * limit + 16]
    s = s.replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\t", " ")
    s = INVISIBLE.sub(_escape, s)
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)]
        cut = True
    return s + "…" if cut else s


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=90),
        st.text(max_size=90),
        st.text(alphabet=" \t\n\r\x00\x1b\x7fab\u202e\u00ad", max_size=40),
    ),
    st.one_of(st.none(), st.integers(0, 100)),
)
def test_neutral_fast_path_is_the_full_one(text: str, limit: int | None) -> None:
    """Plain printable ASCII (the usual user, device, token, node) skips the replacements and
    the invisible-character scan: the same result as the full steps, cut or not."""
    assert neutral(text, limit) == _neutral_without_fast_path(text, limit)
