"""One regex dialect for two engines: Python ``re`` (line engine) and Rust ``regex`` (polars).

Format files are written once and run by both engines, so logdoctor fixes their common
meaning: ``\\d``, ``\\w`` and ``\\s`` are ASCII classes in both (Python gets ``re.ASCII``;
for Rust they are rewritten to POSIX classes, which are ASCII there), ``\\b`` and ``\\B`` are
ASCII word boundaries in both (``(?-u:\\b)`` for Rust), ``.`` is any character
but newline, and constructs only one engine knows (look-around, back-references, possessive
quantifiers) are refused when the format loads, because Rust's compiler rejects them.
"""

from __future__ import annotations

import re

from logdoctor.ingest.formats.regex_tokens import Token, TokenKind, tokenize

__all__ = ["literal_prefix", "to_python", "to_rust"]

_OUTSIDE = {
    "d": "[[:digit:]]",
    "D": "[[:^digit:]]",
    "w": "[[:word:]]",
    "W": "[[:^word:]]",
    "s": "[[:space:]]",
    "S": "[[:^space:]]",
}
_BOUNDARY = {"b": "(?-u:\\b)", "B": "(?-u:\\B)"}
"""Word boundaries outside a class: ASCII in Rust as ``re.ASCII`` makes them in Python (Rust's
own ``\\b`` is Unicode-aware: ``DEBUGÀ`` has no boundary after ``G`` there, one in Python)."""
_INSIDE = {
    "d": "[:digit:]",
    "D": "[:^digit:]",
    "w": "[:word:]",
    "W": "[:^word:]",
    "s": "[:space:]",
    "S": "[:^space:]",
    "b": "\\x08",  # backspace in a class, as in Python (Rust has no \b there)
}


def to_python(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` for the line engine (ASCII classes)."""
    return re.compile(pattern, re.ASCII)


def to_rust(pattern: str) -> str:
    """Rewrite ``pattern`` so that Rust's ``regex`` gives it the meaning Python gives it.

    Shorthand classes become ASCII POSIX classes and word boundaries ASCII ones; a literal
    ``[`` or ``]`` inside a character class is escaped (Rust would read a nested class, or an
    empty one); ``&&``, ``--`` and ``~~`` in a class are escaped (Rust's set operations);
    ``\\Z`` becomes ``\\z``.
    """
    tokens = tokenize(pattern)
    out: list[str] = []
    for i, t in enumerate(tokens):
        if t.kind is TokenKind.ESCAPE:
            out.append(_rust_escape(t.text[1], in_class=t.in_class) or t.text)
        elif t.kind is TokenKind.CHAR and t.in_class and _rust_literal(tokens, i):
            out.append("\\" + t.text)
        else:
            out.append(t.text)
    return "".join(out)


def _rust_escape(c: str, *, in_class: bool) -> str | None:
    """Rust's spelling of the escape ``\\c`` (None: the same as Python's)."""
    if in_class:
        return _INSIDE.get(c)
    if c == "Z":
        return "\\z"
    return _OUTSIDE.get(c) or _BOUNDARY.get(c)


def _rust_literal(tokens: list[Token], i: int) -> bool:
    """True when the class character at ``i`` needs a backslash in Rust: a ``[`` or ``]``, or
    the first of ``&&``, ``--``, ``~~``."""
    c = tokens[i].text
    if c in ("[", "]"):
        return True
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return c in ("&", "~", "-") and nxt is not None and nxt.kind is TokenKind.CHAR and nxt.text == c


_META = set(".^$*+?{}[]\\|()")


def literal_prefix(pattern: str) -> str:
    """The literal text every match of ``pattern`` starts with, if it is anchored with ``^``.

    Returns "" when the pattern is not anchored or starts with a metacharacter. Used only to
    narrow which rows an event pattern is tried on, so it errs on the side of a shorter prefix.
    """
    if not pattern.startswith("^"):
        return ""
    tokens = tokenize(pattern)
    if any(t.text == "|" for t in tokens) and not _alternation_is_nested(tokens):
        return ""
    out: list[str] = []
    for t in tokens[1:]:
        if t.kind is TokenKind.ESCAPE:
            if t.text[1].isalnum():
                break
            out.append(t.text[1])
        elif t.kind is TokenKind.CHAR and t.text not in _META:
            out.append(t.text)
        else:
            if t.text in "*?{" and out:
                out.pop()  # the last literal is optional or repeated
            break
    return "".join(out)


def _alternation_is_nested(tokens: list[Token]) -> bool:
    """True when every ``|`` outside a class sits inside a group."""
    depth = 0
    for t in tokens:
        if t.kind is TokenKind.NAMED or (
            t.kind is TokenKind.CHAR and t.text == "(" and not t.in_class
        ):
            depth += 1
        elif t.kind is TokenKind.CHAR and not t.in_class and t.text == ")":
            depth -= 1
        elif t.kind is TokenKind.CHAR and not t.in_class and t.text == "|" and depth == 0:
            return False
    return True
