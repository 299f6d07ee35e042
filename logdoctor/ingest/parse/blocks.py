"""The bulk engine's byte stage: cutting a file into chunks at record starts, capping long
lines, and reading a chunk's lines into a frame."""

from __future__ import annotations

import mmap

import polars as pl

from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.parse.common import MAX_RECORD_BYTES, decode, iter_lines

__all__ = ["capped", "chunk_bounds", "count_lines", "read_lines", "release_parsed", "split_last"]


def split_last(
    buf: bytes | mmap.mmap, fmt: Format, bounds: list[tuple[int, int, bool]]
) -> list[tuple[int, int, bool]]:
    """``bounds`` with the last chunk cut at the start of its last record (when that record
    starts after the chunk's first line and within the last MAX_RECORD_BYTES of the file)."""
    lo, hi, continues = bounds[-1]
    floor = max(lo, hi - MAX_RECORD_BYTES)
    pos = hi - 1 if hi and buf[hi - 1 : hi] == b"\n" else hi
    while pos > floor:
        nl = buf.rfind(b"\n", floor, pos)
        if nl == -1:
            break
        line = bytes(buf[nl + 1 : min(pos, nl + 1 + (1 << 16))])
        text = line.decode("utf-8", errors="replace").removesuffix("\r")
        if any(h.regex.py.match(text) for h in fmt.headers):
            return [*bounds[:-1], (lo, nl + 1, continues), (nl + 1, hi, False)]
        pos = nl
    return bounds


def count_lines(data: bytes) -> int:
    """Lines in ``data`` with the engine's semantics (a last line without ``\\n`` counts)."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def capped(buf: bytes | mmap.mmap, start: int, end: int, cap: int) -> tuple[bytes, list[int]]:
    """``buf[start:end]`` with every line longer than ``cap`` bytes cut to ``cap`` (at a UTF-8
    character boundary), and the 0-based indexes of the lines cut.

    Only the kept bytes are copied, so a 200 MB line costs ``cap`` bytes here. Lines shorter
    than ``cap`` are skipped a window at a time (``rfind`` of the last newline in the next
    ``cap + 1`` bytes), so the scan costs about one C call per ``cap`` bytes.
    """
    pieces: list[bytes] = []
    cut: list[int] = []
    newlines = 0
    piece = pos = start
    while end - pos > cap:
        nl = buf.rfind(b"\n", pos, pos + cap + 1)
        if nl != -1:
            pos = nl + 1
            continue
        keep = pos + cap  # the line at pos is longer than cap
        while keep > pos and buf[keep] & 0xC0 == 0x80:
            keep -= 1  # do not split a character
        kept = bytes(buf[piece:keep])
        pieces.append(kept)
        newlines += kept.count(b"\n")
        cut.append(newlines)
        nl = buf.find(b"\n", pos + cap, end)
        piece = pos = end if nl == -1 else nl
    pieces.append(bytes(buf[piece:end]))
    return (pieces[0] if len(pieces) == 1 else b"".join(pieces)), cut


def chunk_bounds(
    buf: bytes | mmap.mmap,
    fmt: Format,
    chunk_bytes: int,
    first: int = 0,
    *,
    continues: bool = False,
    opened: bool = False,
    size: int | None = None,
) -> list[tuple[int, int, bool]]:
    """Chunks ``(start, end, continues)`` about ``chunk_bytes`` long, each cut at the start of a
    header line, so no record spans two chunks.

    In a run of continuation lines longer than ``max(chunk_bytes, 2 * MAX_RECORD_BYTES)`` with no
    header (a runaway stack trace), the cut is forced at a line start so that a chunk stays
    bounded; the next chunk then ``continues`` the record open at the cut. That record already
    holds more than MAX_RECORD_BYTES of continuation lines, so the lines after the cut would
    not be kept anyway: they are counted as its lines.

    ``continues`` / ``opened``: the bytes before ``first`` (of a stream, parsed already) left
    a record open at ``first`` / held a header line. ``size``: the bytes of ``buf`` that hold
    data (default all; a stream's reused buffer holds stale bytes after them).
    """
    span = max(chunk_bytes, 2 * MAX_RECORD_BYTES)
    bounds: list[tuple[int, int, bool]] = []
    start = first
    size = len(buf) if size is None else size
    while start < size:
        if start + chunk_bytes >= size:
            bounds.append((start, size, continues))
            break
        cut = _next_record_start(buf, start + chunk_bytes, fmt, start + chunk_bytes + span, size)
        bounds.append((start, abs(cut), continues))
        if cut >= 0:  # at a header (or the end)
            start, continues, opened = cut, False, True
            continue
        # Forced: a record is open at the cut if a header line came before it.
        if not opened:
            opened = _next_record_start(buf, start, fmt, -cut, size) >= 0
        start, continues = -cut, opened
    return bounds


def _next_record_start(buf: bytes | mmap.mmap, pos: int, fmt: Format, stop: int, size: int) -> int:
    """The offset of the first line at or after ``pos`` (line-aligned) that is a header line,
    or ``size`` (the end of the data in ``buf``); the search gives up at the first line that
    starts at or after ``stop`` and returns that line's offset negated."""
    if pos <= 0:
        start = 0
    else:
        nl = buf.find(b"\n", pos - 1, size)
        if nl == -1:
            return size
        start = nl + 1
    while start < size:
        if start >= stop:
            return -start
        end = buf.find(b"\n", start, size)
        line = bytes(buf[start : min(end if end != -1 else size, start + (1 << 16))])
        text = line.decode("utf-8", errors="replace").removesuffix("\r")
        if any(h.regex.py.match(text) for h in fmt.headers):
            return start
        if end == -1:
            break
        start = end + 1
    return size


# Polars decompresses input that starts like gzip, zlib or zstd; a log line may start so.
_COMPRESSED_LOOKING = (b"\x1f\x8b", b"x\x01", b"x^", b"x\x9c", b"x\xda", b"(\xb5/\xfd")


def read_lines(data: bytes, first: int) -> tuple[pl.DataFrame, int, int]:
    """Lines (column ``text``, numbered from ``first`` in ``n``), the decode-error count and
    the NUL bytes removed (a line of nothing but NULs is dropped; the numbering counts it)."""
    if b"\x00" in data:
        return _lines_without_nul(data, first)
    if not data.startswith(_COMPRESSED_LOOKING):
        try:
            lines = pl.read_lines(data, name="text", row_index_name="n", row_index_offset=first)
            return lines, 0, 0
        except (pl.exceptions.PolarsError, OSError):
            pass  # not valid UTF-8: decode below, replacing what does not decode
    text, errors = decode(data)
    parts = [ln.removesuffix("\r") for ln in iter_lines(text)]
    lines = pl.DataFrame({"text": pl.Series("text", parts, dtype=pl.String)}).with_row_index(
        "n", offset=first
    )
    return lines, errors, 0


def _lines_without_nul(data: bytes, first: int) -> tuple[pl.DataFrame, int, int]:
    raw = data.split(b"\n")
    if raw[-1] == b"":
        raw.pop()
    numbers: list[int] = []
    kept: list[bytes] = []
    for i, line in enumerate(raw):
        if b"\x00" in line:
            line = line.replace(b"\x00", b"")
            if not line:
                continue
        numbers.append(first + i)
        kept.append(line)
    text, errors = decode(b"\n".join(kept))
    parts = [ln.removesuffix("\r") for ln in text.split("\n")] if kept else []
    lines = pl.DataFrame(
        {
            "n": pl.Series("n", numbers, dtype=pl.UInt32),
            "text": pl.Series("text", parts, dtype=pl.String),
        }
    )
    return lines, errors, data.count(b"\x00")


def release_parsed(buf: bytes | mmap.mmap, done: int, upto: int) -> int:
    """Drop a mapped file's pages below ``upto`` (parsed) from the process's resident memory
    and return the new mark (from ``done``; bytes are left alone): a read mapping keeps every
    page it touched resident until it is closed (+100 MiB at the end of a 105 MB file). The
    pages stay in the page cache, and a later read of them reads the file again."""
    end = upto - upto % mmap.PAGESIZE
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if not isinstance(buf, mmap.mmap) or advice is None or end <= done:
        return done
    buf.madvise(advice, done, end - done)
    return end
