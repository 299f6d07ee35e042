"""Which format reads a file: by its name, its path in the bundle, and its first lines.

Content decides when it is clear (a misnamed file still gets the right parser); the name
breaks ties between formats whose headers fit equally well (the tolerant ssoApp format fits
ssosp lines too); without a name hint, the most specific format wins (see
:func:`logdoctor.formats.load_formats` for how specificity is derived from the samples).
"""

from __future__ import annotations

from collections.abc import Sequence

from logdoctor.formats import Format
from logdoctor.parse import decode

__all__ = ["detect_format", "header_ratio", "is_binary", "looks_like_log"]

_SNIFF_LINES = 200


def is_binary(head: bytes) -> bool:
    """True for content that is not text: NUL bytes or mostly control bytes."""
    if not head:
        return False
    sample = head[:8192]
    if b"\x00" in sample:
        return True
    ctrl = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return ctrl > len(sample) * 0.1


def _lines(head: bytes) -> list[str]:
    text, _ = decode(head)
    lines = text.split("\n")[:_SNIFF_LINES]
    if len(lines) > 1 and len(head) >= 1 << 16:
        lines = lines[:-1]  # the last line may be cut
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines if ln.strip()]


def header_ratio(fmt: Format, lines: Sequence[str]) -> float:
    """Share of non-blank lines that match one of the format's header patterns."""
    if not lines:
        return 0.0
    hits = sum(1 for ln in lines if any(h.regex.py.match(ln) for h in fmt.headers))
    return hits / len(lines)


def looks_like_log(formats: Sequence[Format], head: bytes) -> bool:
    """True if at least half of the first lines fit some format's header."""
    if is_binary(head):
        return False
    lines = _lines(head)
    return any(header_ratio(f, lines) >= 0.5 for f in formats)


def detect_format(formats: Sequence[Format], name: str, relpath: str, head: bytes) -> Format:
    """The format to read a file with (the formats must be in specificity order)."""
    named = [f for f in formats if f.matches_name(name) or f.matches_path(relpath)]
    lines = _lines(head)
    ratios = [(header_ratio(f, lines), f) for f in formats]
    best = max((r for r, _ in ratios), default=0.0)
    if best == 0.0:
        return named[0] if named else formats[-1]
    close = [f for r, f in ratios if r >= best * 0.9]
    for f in close:
        if f in named:
            return f
    return close[0]
