"""Which format reads a file: by its name, its path in the bundle, and its first lines.

Content decides when it is clear (a misnamed file still gets the right parser); the name
breaks ties between formats whose headers fit equally well (the tolerant ssoApp format fits
ssosp lines too); without a name hint, the most specific format wins (see
:func:`logdoctor.ingest.formats.catalog.load_formats` for how specificity is derived from the
samples).

Only whole lines count: the text after the last newline of a file's first bytes may be a line
cut in the middle, which the tolerant ssoApp header fits better than the right one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.parse import decode

__all__ = [
    "Detection",
    "detect",
    "detect_format",
    "header_ratio",
    "is_binary",
    "looks_like_log",
    "named_formats",
    "sniff_lines",
]

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


def sniff_lines(head: bytes) -> list[str]:
    """The first non-blank lines of ``head``; text after its last newline is left out.

    A head is a file's first bytes, so what follows its last newline may be a line cut in the
    middle, which a tolerant header pattern may fit better than the right one. Only a head
    with no newline at all is taken as one line (a one-line file without its newline).
    """
    text, _ = decode(head)
    lines = text.split("\n", _SNIFF_LINES + 1)
    if len(lines) > 1:
        lines = lines[:-1]  # after the last newline: nothing, or a line that may be cut
    lines = lines[:_SNIFF_LINES]
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
    lines = sniff_lines(head)
    return any(header_ratio(f, lines) >= 0.5 for f in formats)


def named_formats(formats: Sequence[Format], name: str, relpath: str) -> list[Format]:
    """The formats whose file names or paths match a file's (in the order of ``formats``)."""
    return [f for f in formats if f.matches_name(name) or f.matches_path(relpath)]


@dataclass(frozen=True)
class Detection:
    """The format picked for a file, and how sure the pick is."""

    format: Format
    lines: int
    """Non-blank lines looked at (0: the pick is by name alone)."""
    ratio: float
    """Share of those lines that fit one of the picked format's header patterns."""


def detect(formats: Sequence[Format], name: str, relpath: str, lines: Sequence[str]) -> Detection:
    """Pick the format of a file from whole lines of it and its name (see the module doc).

    The formats must be in specificity order. Content decides; among formats whose header ratio
    is within 10 % of the best, one the name or path points to wins. Without lines, or when no
    header fits any line (``ratio`` 0), the name decides (else the most tolerant format: a
    file with no line and a name no format claims is read with it, and the loader leaves its
    family out).
    """
    named = named_formats(formats, name, relpath)
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines if ln.strip()]
    ratios = [(header_ratio(f, lines), f) for f in formats]
    best = max((r for r, _ in ratios), default=0.0)
    if best == 0.0:
        return Detection(named[0] if named else formats[-1], len(lines), 0.0)
    close = [f for r, f in ratios if r >= best * 0.9]
    pick = next((f for f in close if f in named), close[0])
    return Detection(pick, len(lines), next(r for r, f in ratios if f is pick))


def detect_format(formats: Sequence[Format], name: str, relpath: str, head: bytes) -> Format:
    """The format to read a file with, from its name and its first bytes ``head``.

    Only the whole lines of ``head`` count (see :func:`sniff_lines`); the formats must be in
    specificity order.
    """
    return detect(formats, name, relpath, sniff_lines(head)).format
