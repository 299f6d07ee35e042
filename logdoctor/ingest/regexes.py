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
    ``[`` inside a character class is escaped (Rust would read it as a nested class); ``\\Z``
    becomes ``\\z``.
    """
    out: list[str] = []
    i = 0
    n = len(pattern)
    in_class = False
    class_start = 0
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            if nxt in table:
                out.append(table[nxt])
            elif nxt in _BOUNDARY and not in_class:
                out.append(_BOUNDARY[nxt])
            elif nxt == "Z" and not in_class:
                out.append("\\z")
            else:
                out.append(c + nxt)
            i += 2
            continue
        if in_class:
            if c == "]" and i > class_start:
                in_class = False
                out.append(c)
            elif c == "[":
                out.append("\\[")
            elif c in "&~-" and i + 1 < n and pattern[i + 1] == c:
                # Rust reads "&&", "--", "~~" inside a class as set operations.
                out.append("\\" + c)
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            # "[]...]" and "[^]...]": a leading "]" is a literal in Python; Rust needs it escaped.
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            class_start = i
            continue
        out.append(c)
        i += 1
    return "".join(out)


_META = set(".^$*+?{}[]\\|()")


def literal_prefix(pattern: str) -> str:
    """The literal text every match of ``pattern`` starts with, if it is anchored with ``^``.

    Returns "" when the pattern is not anchored or starts with a metacharacter. Used only to
    narrow which rows an event pattern is tried on, so it errs on the side of a shorter prefix.
    """
    if not pattern.startswith("^"):
        return ""
    if "|" in pattern and not _alternation_is_nested(pattern):
        return ""
    i = 1
    out: list[str] = []
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt.isalnum():
                break
            out.append(nxt)
            i += 2
            continue
        if c in _META:
            if c in "*?{" and out:
                out.pop()  # the last literal is optional or repeated
            break
        out.append(c)
        i += 1
    return "".join(out)


def _alternation_is_nested(pattern: str) -> bool:
    """True when every ``|`` in ``pattern`` sits inside a group or a class."""
    depth = 0
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return False
        i += 1
    return True
