"""What both parse engines share: decoding bytes, percent-decoding field values, the bound
on a record's size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

__all__ = ["MAX_RECORD_BYTES", "decode", "iter_lines", "pct_decode"]

MAX_RECORD_BYTES = 4 << 20
"""A line keeps at most this many bytes (cut at a character boundary), and a record at most
this many bytes of continuation lines (the lines past it are counted, not kept); each record
cut so is counted in ``ParseStats.truncated``."""

_PCT = re.compile(r"%[0-9A-Fa-f]{2}")


def decode(data: bytes) -> tuple[str, int]:
    """Decode UTF-8, replacing undecodable bytes; returns the text and how many were replaced."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        return text, text.count("\ufffd") - data.count(b"\xef\xbf\xbd")


def pct_decode(value: str | None) -> str | None:
    """A field value with its %XX escapes decoded (writers percent-encode values)."""
    if value is None or "%" not in value:
        return value
    return unquote(value, errors="replace") if _PCT.search(value) else value


def iter_lines(text: str) -> Iterator[str]:
    """Split text into lines with the engine's semantics (``\\n`` only; no empty last line)."""
    if not text:
        return
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    yield from parts
