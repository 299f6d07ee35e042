"""One reading of logdoctor's regex dialect (Python ``re`` syntax) into tokens.

The walkers that rewrite a format's regexes (:func:`logdoctor.ingest.regexes.to_rust` for
polars, and the PCRE2 export and anchor rewriting of :mod:`logdoctor.ingest.formats.lnav`)
must agree on what is a class, an escape and a named group; they all read the tokens of
:func:`tokenize` and each is a short pass that rewrites the tokens it cares about.

Tokens, in source order (their texts joined give the pattern back exactly):

- ``ESCAPE``: a backslash and the character after it (``\\d``, ``\\]``, ``\\Z``);
- ``CLASS_OPEN``: ``[`` or ``[^`` starting a character class;
- ``CLASS_CLOSE``: the ``]`` ending it;
- ``NAMED``: ``(?P<name>`` opening a named group (outside classes only; ``name`` is set);
- ``CHAR``: any other single character, a trailing lone backslash included.

``in_class`` is true for the tokens between a class's ``CLASS_OPEN`` and ``CLASS_CLOSE``. As in
Python, a ``]`` right after ``[`` or ``[^`` is a literal (a ``CHAR`` inside the class), and a
``[`` inside a class is a literal too (Python warns about it; Rust needs it escaped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = ["Token", "TokenKind", "tokenize", "untokenize"]


class TokenKind(Enum):
    """What a :class:`Token` is."""

    ESCAPE = "escape"
    CLASS_OPEN = "class_open"
    CLASS_CLOSE = "class_close"
    NAMED = "named"
    CHAR = "char"


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a pattern: its kind, its exact source text, whether it sits in a class."""

    kind: TokenKind
    text: str
    in_class: bool = False
    name: str = ""
    """The group name of a ``NAMED`` token."""


_NAMED = re.compile(r"\(\?P<(\w+)>")


def tokenize(pattern: str) -> list[Token]:
    """The tokens of ``pattern`` (see the module docstring); never fails on any string."""
    out: list[Token] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(Token(TokenKind.ESCAPE, pattern[i : i + 2], in_class))
            i += 2
        elif in_class:
            if c == "]":
                out.append(Token(TokenKind.CLASS_CLOSE, c, True))
                in_class = False
            else:
                out.append(Token(TokenKind.CHAR, c, True))
            i += 1
        elif c == "[":
            opener = "[^" if pattern.startswith("^", i + 1) else "["
            out.append(Token(TokenKind.CLASS_OPEN, opener, False))
            in_class = True
            i += len(opener)
            if pattern.startswith("]", i):  # a leading "]" is a literal
                out.append(Token(TokenKind.CHAR, "]", True))
                i += 1
        elif m := _NAMED.match(pattern, i):
            out.append(Token(TokenKind.NAMED, m.group(0), False, m.group(1)))
            i = m.end()
        else:
            out.append(Token(TokenKind.CHAR, c, False))
            i += 1
    return out


def untokenize(tokens: list[Token]) -> str:
    """The pattern the tokens were read from."""
    return "".join(t.text for t in tokens)
