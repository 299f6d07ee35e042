"""Make log text safe to show: neutralize invisible characters and cap length.

HTML escaping is Jinja2's job (autoescape). This module handles what escaping does not: control
characters, bidirectional overrides and zero-width characters that would let a log line
reorder or hide what the reader sees, and lines so long they would swamp the page. Each such
character is shown as a visible escape (``\\x1b``, ``\\u202e``), so the reader sees that it
was there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["INVISIBLE", "neutral", "neutral_tree"]

INVISIBLE = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (except tab, newline) and C1 controls, DEL
    "\u00ad"  # soft hyphen
    "\u061c"  # Arabic letter mark
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers (render as blanks)
    "\u180e"  # Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space/joiners, LRM, RLM
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated formats
    "\ufeff"  # zero-width no-break space (BOM)
    "\ufff9-\ufffb"  # interlinear annotation
    "\U000e0000-\U000e007f"  # tag characters
    "\ud800-\udfff"  # lone surrogates (from undecodable bytes)
    "]"
)
"""Characters that are never shown as themselves."""


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    if c < 0x100:
        return f"\\x{c:02x}"
    if c < 0x10000:
        return f"\\u{c:04x}"
    return f"\\U{c:08x}"


def neutral(value: object, limit: int | None = None) -> str:
    """One line of inert, visible text: newlines and tabs become spaces (``⏎`` marks a line
    break), invisible characters become escapes; cut to ``limit`` characters with ``…``."""
    if value is None:
        return ""
    s = str(value)
    if s.isascii() and s.isprintable():  # the usual name or id: nothing to replace or escape
        return s if limit is None or len(s) <= limit else s[: max(0, limit - 1)] + "…"
    if limit is not None and len(s) > 4 * limit + 16:
        s = s[: 4 * limit + 16]  # escapes are at most 4x longer; never scan 100 KB to show 300
        cut = True
    else:
        cut = False
    s = s.replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\t", " ")
    s = INVISIBLE.sub(_escape, s)
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)]
        cut = True
    return s + "…" if cut else s


def neutral_tree(value: Any, limit: int | None = None) -> Any:
    """:func:`neutral` applied to every string (and mapping key) of nested lists, tuples and
    dicts; numbers, booleans and None are kept."""
    if isinstance(value, str):
        return neutral(value, limit)
    if isinstance(value, Mapping):
        return {neutral(k): neutral_tree(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [neutral_tree(v, limit) for v in value]
    return value
