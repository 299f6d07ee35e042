"""The bulk engine (polars, one file at a time, in chunks on a thread pool): what
``logdoctor.load``, ``check`` and ``report`` parse with. The line semantics it implements are
stated once, in :mod:`logdoctor.ingest.parse`; :mod:`.line` gives the same rows line by line.
"""

from __future__ import annotations

import collections
import contextlib
import mmap
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import polars as pl

from logdoctor.ingest.clocks import utc_offsets
from logdoctor.ingest.formats.spec import (
    EXTRACT_COLUMNS,
    EventPattern,
    FieldPattern,
    Format,
    HeaderPattern,
)
from logdoctor.ingest.parse.common import MAX_RECORD_BYTES, decode, iter_lines, pct_decode
from logdoctor.ingest.sources import UTF8_BOM, open_regular
from logdoctor.model import EventKind
from logdoctor.table import (
    FIELD_COLUMNS,
    NODE_FIELD,
    ParseStats,
    empty_frame,
)
from logdoctor.timestamps import Zone, resolve_zone

__all__ = ["Chunk", "iter_chunks", "merge_stats", "parse_bytes"]

_UNRECOGNIZED = EventKind.UNRECOGNIZED.value
_T = TypeVar("_T")


def _nulls(name: str, n: int, dtype: pl.DataType) -> pl.Series:
    """A series of ``n`` nulls (a list of Nones goes through Python objects; this does not)."""
    return pl.repeat(None, n, dtype=dtype, eager=True).alias(name)


# --------------------------------------------------------------------------------------------
# Bulk engine
# --------------------------------------------------------------------------------------------


def _header_frame(lines: pl.DataFrame, headers: Sequence[HeaderPattern]) -> pl.DataFrame:
    """Columns ts, level, thread, logger, msg and hdr (index of the header pattern, or null).

    The first header pattern that matches a line wins. The message is sliced off after the
    match of the header's prefix (capturing ``.*`` over a whole line is the slow part of a
    regex engine; slicing is not).
    """
    text = lines["text"]
    n = text.len()
    hdr = _nulls("hdr", n, pl.Int32())
    cols = {name: _nulls(name, n, pl.String()) for name in _HEADER_COLS}
    msg = _nulls("msg", n, pl.String())
    remaining: pl.Series | None = None  # row indices not matched yet (None: all rows)
    for hi, h in enumerate(headers):
        subject = text if remaining is None else text.gather(remaining)
        groups = subject.str.extract_groups(f"(?P<_p>{h.prefix.rust})")
        prefix = groups.struct.field("_p")
        hit = prefix.is_not_null()
        local = hit.arg_true()
        if remaining is None:
            # First pattern, all rows: take its columns as they are (no copy).
            first = pl.when(hit).then(pl.lit(hi, dtype=pl.Int32)).otherwise(None)
            hdr = pl.select(first).to_series().alias("hdr")
            for name in _HEADER_COLS:
                if name in h.prefix.groups:
                    cols[name] = groups.struct.field(name).alias(name)
            msg = (
                pl.DataFrame({"t": subject, "p": prefix})
                .select(pl.col("t").str.strip_prefix(pl.col("p")).alias("msg"))
                .to_series()
            )
        else:
            rows = remaining.gather(local)
            if rows.len():
                hdr.scatter(rows, pl.repeat(hi, rows.len(), dtype=pl.Int32, eager=True))
                for name in _HEADER_COLS:
                    if name in h.prefix.groups:
                        cols[name].scatter(rows, groups.struct.field(name).gather(local))
                matched = subject.gather(local)
                plen = prefix.gather(local).str.len_chars()
                msg.scatter(rows, matched.str.slice(plen))
        missing = (~hit).arg_true()
        remaining = missing if remaining is None else remaining.gather(missing)
        if remaining.len() == 0:
            break
    return lines.with_columns(hdr, msg, *cols.values())


_HEADER_COLS = ("ts", "level", "thread", "logger", "node", "local")


def _parse_times(frame: pl.DataFrame, headers: Sequence[HeaderPattern], zone: Zone) -> pl.Series:
    """The ``time`` column (UTC) from the ``ts`` text, by the formats of each row's header.

    Each format is tried only on the rows the formats before it left unparsed.
    """
    ts = frame["ts"]
    hdr = frame["hdr"]
    out = _nulls("time", ts.len(), pl.Datetime("us", "UTC"))
    default = zone
    for hi, h in enumerate(headers):
        zone = h.zone or default
        rows = (
            (hdr == hi).arg_true()
            if len(headers) > 1
            else pl.int_range(ts.len(), dtype=pl.UInt32, eager=True)
        )
        for tf in h.timestamps:
            if rows.len() == 0:
                break
            sub = ts.gather(rows)
            parsed = sub.str.to_datetime(tf.chrono, strict=False, time_unit="us")
            if tf.has_zone:
                parsed = parsed.dt.convert_time_zone("UTC")
            elif zone.polars_name is not None:
                parsed = parsed.dt.replace_time_zone(
                    zone.polars_name, ambiguous="earliest", non_existent="null"
                ).dt.convert_time_zone("UTC")
            else:
                assert zone.offset is not None
                parsed = (parsed - zone.offset).dt.replace_time_zone("UTC")
            ok = parsed.is_not_null()
            good = ok.arg_true()
            if good.len():
                out.scatter(rows.gather(good), parsed.gather(good))
            rows = rows.gather((~ok).arg_true())
    return out


def _classify(records: pl.DataFrame, events: Sequence[EventPattern]) -> pl.DataFrame:
    """Add ``kind``, ``basis`` and the field columns (the node a pattern names as ``_node``):
    the first event pattern (in file order) that matches.

    Same result as trying every pattern on every row in order, with far less work:
    - rows are grouped by the literal their message starts with; a pattern with a literal
      prefix is only tried in the groups that start with it (patterns without one: everywhere);
    - within a group, each pattern is tried only on the rows no earlier pattern took;
    - a pattern that only looks at the logger (regex ``^``) is decided on the logger column;
    - fields of a ``key=value`` template are cut by splitting on spaces, not by capturing
      (see :func:`logdoctor.ingest.formats.spec.split_plan`); other patterns capture with their
      regex.
    """
    n = records.height
    msg = records["msg"]
    logger = records["logger"].fill_null("")
    literals = sorted({e.literal for e in events if e.literal}, key=len, reverse=True)
    if literals:
        alt = "|".join(re.escape(lit) for lit in literals)
        lit = msg.str.extract(f"^({alt})", 1)
        groups: list[tuple[str | None, pl.Series]] = [(None, lit.is_null().arg_true())]
        for value in lit.drop_nulls().unique().sort().to_list():
            groups.append((value, (lit == value).arg_true()))
    else:
        groups = [(None, pl.int_range(n, dtype=pl.UInt32, eager=True))]
    fields = {c: _nulls(_col(c), n, pl.String()) for c in EXTRACT_COLUMNS}
    kind_names = pl.repeat(_UNRECOGNIZED, n, dtype=pl.String, eager=True).alias("kind")
    bases = _nulls("basis", n, pl.String())
    for value, rows in groups:
        cands = [
            e
            for e in events
            if not e.literal or (value is not None and value.startswith(e.literal))
        ]
        if rows.len() == 0 or not cands:
            continue
        left_msg = msg.gather(rows)
        left_logger = logger.gather(rows)
        left = rows  # rows of the table still unclassified, aligned with left_msg
        for e in cands:
            if left.len() == 0:
                break
            hit, parts = _matches(e, left_msg, left_logger)
            took = hit.arg_true()
            if took.len() == 0:
                continue
            everything = took.len() == left.len()
            taken_rows = left if everything else left.gather(took)
            taken_msg = left_msg if everything else left_msg.gather(took)
            kind_names.scatter(
                taken_rows, pl.repeat(e.kind, taken_rows.len(), dtype=pl.String, eager=True)
            )
            bases.scatter(
                taken_rows, pl.repeat(e.basis, taken_rows.len(), dtype=pl.String, eager=True)
            )
            if e.regex.groups:
                if parts is not None and not everything:
                    parts = parts.gather(took)
                for name, values in _extract(e, taken_msg, parts).items():
                    fields[name].scatter(taken_rows, values)
            for c, v in e.set.items():
                fields[c].scatter(
                    taken_rows, pl.repeat(v, taken_rows.len(), dtype=pl.String, eager=True)
                )
            if everything:
                break
            rest = (~hit).arg_true()
            left, left_msg, left_logger = (
                left.gather(rest),
                left_msg.gather(rest),
                left_logger.gather(rest),
            )
    return records.with_columns(kind_names, bases, *fields.values())


def _col(name: str) -> str:
    """The frame column of an extracted field: the node a line names is ``_node`` until it
    replaces the layout's node."""
    return "_node" if name == NODE_FIELD else name


def _fill_fields(records: pl.DataFrame, extractors: Sequence[FieldPattern]) -> pl.DataFrame:
    """Fill empty field columns from the ``[[field]]`` extractors, in file order: on rows of
    their kinds (any recognized kind by default) where the column is still empty."""
    if not extractors or records.height == 0:
        return records
    kind = records["kind"]
    msg = records["msg"]
    cols = {x.column: records[_col(x.column)] for x in extractors}
    for x in extractors:
        target = cols[x.column]
        want = kind.is_in(list(x.kinds)) if x.kinds else kind != _UNRECOGNIZED
        rows = (want & target.is_null()).arg_true()
        if rows.len() == 0:
            continue
        got = msg.gather(rows).str.extract_groups(x.regex.rust).struct.field(x.column)
        got = _clean_values(got)
        hit = got.is_not_null().arg_true()
        if hit.len():
            target = target.clone()
            target.scatter(rows.gather(hit), got.gather(hit))
            cols[x.column] = target
    return records.with_columns(*(v.alias(_col(c)) for c, v in cols.items()))


_OTHER_SPACE = r"[\t\n\x0b\x0c\r]"
"""ASCII whitespace other than the space: ``\\S`` stops there, a split on " " does not."""


def _matches(
    e: EventPattern, msg: pl.Series, logger: pl.Series
) -> tuple[pl.Series, pl.Series | None]:
    """Rows whose message (and logger) the event pattern matches, and for a key=value
    template the message's tokens (a struct; null where the regex had to judge)."""
    parts = None
    if e.regex.source == "^":
        hit = pl.repeat(True, msg.len(), dtype=pl.Boolean, eager=True)
    elif e.split is not None:
        hit, parts = _template_matches(e, msg)
    else:
        hit = msg.str.contains(e.regex.rust).fill_null(False)
    if e.logger is not None:
        hit = hit & _logger_matches(e, logger)
    return hit, parts


def _logger_matches(e: EventPattern, logger: pl.Series) -> pl.Series:
    """Rows whose logger the pattern's logger regex matches, decided once per distinct logger
    (a log has a few hundred loggers, not a million)."""
    assert e.logger is not None
    names = logger.unique()
    if names.len() * 4 > logger.len():
        return logger.str.contains(e.logger.rust).fill_null(False)
    good = names.filter(names.str.contains(e.logger.rust).fill_null(False))
    return logger.is_in(good.implode()).fill_null(False)


def _template_matches(e: EventPattern, msg: pl.Series) -> tuple[pl.Series, pl.Series | None]:
    """The regex's verdict for a key=value template, decided on its space-separated tokens.

    Equivalent to the regex (``^tok tok key=\\S+ ...``) on rows without other ASCII
    whitespace: literal tokens must be equal (the last one need only start the token, as the
    regex is not anchored at the end) and field tokens must be their ``key=`` plus at least
    one character. The few rows with tabs or line breaks are judged by the regex itself.
    """
    plan = e.split
    assert plan is not None
    parts = msg.str.split_exact(" ", plan.width)
    ok: pl.Series | None = None
    last = len(plan.tokens) - 1
    for pos, (text, is_field) in enumerate(plan.tokens):
        token = parts.struct.field(f"field_{pos}")
        if is_field:
            cond = token.str.starts_with(text) & (token.str.len_bytes() > len(text.encode()))
        elif pos == last:
            cond = token.str.starts_with(text)
        else:
            cond = token == text
        cond = cond.fill_null(False)
        ok = cond if ok is None else ok & cond
    assert ok is not None
    odd = msg.str.contains(_OTHER_SPACE).fill_null(False)
    odd_rows = odd.arg_true()
    if odd_rows.len() == 0:
        return ok, parts
    ok = ok & ~odd
    by_regex = msg.gather(odd_rows).str.contains(e.regex.rust).fill_null(False)
    ok.scatter(odd_rows, by_regex)
    return ok, None  # some rows need the regex: extraction will use it


def _extract(
    e: EventPattern, msg: pl.Series, parts: pl.Series | None = None
) -> dict[str, pl.Series]:
    """The named groups of ``e`` on rows it is known to match (``parts``: their tokens, when
    :func:`_template_matches` already cut them and no row has other whitespace)."""
    plan = e.split
    if plan is not None and parts is not None:
        return {
            name: _clean_values(parts.struct.field(f"field_{pos}").str.slice(skip).alias(name))
            for pos, skip, name in plan.fields
        }
    if plan is not None and msg.len():
        # Multi-line records: the last value ends at the line break; let the regex do those.
        multi = msg.str.contains("\n", literal=True)
        if not bool(multi.any()):
            parts = msg.str.split_exact(" ", plan.width)
            out = {}
            for pos, skip, name in plan.fields:
                value = parts.struct.field(f"field_{pos}").str.slice(skip)
                if plan.open_end and pos == plan.width:
                    # \S+ stops at any ASCII whitespace, a split only at a space.
                    value = value.str.replace(r"[\t\x0b\x0c\r].*", "")
                out[name] = _clean_values(value.alias(name))
            return out
    groups = msg.str.extract_groups(e.regex.rust)
    return {g: _clean_values(groups.struct.field(g).alias(g)) for g in e.regex.groups}


def _apply_links(frame: pl.DataFrame, fmt: Format) -> pl.DataFrame:
    """Fill a field of target events from the next source event in the file (certMgmt unit)."""
    for link in fmt.links:
        src = pl.when(pl.col("kind") == link.source).then(pl.col(link.field))
        filled = src.backward_fill()
        frame = frame.with_columns(
            pl.when(pl.col("kind").is_in(list(link.targets)) & pl.col(link.field).is_null())
            .then(filled)
            .otherwise(pl.col(link.field))
            .alias(link.field)
        )
    return frame


def _clean_values(values: pl.Series) -> pl.Series:
    """ "-" is empty; undo the percent-encoding writers use to keep a value one token.

    Decoding runs once per distinct encoded value (a cluster has few distinct agents or users),
    not once per row.
    """
    values = values.set(values == "-", None)
    pct = values.str.contains("%", literal=True).fill_null(False)  # memchr, not a regex
    if not bool(pct.any()):
        return values
    maybe = values.filter(pct)
    encoded = maybe.filter(maybe.str.contains("%[0-9A-Fa-f]{2}").fill_null(False)).unique()
    if encoded.len() == 0:
        return values
    mapping = {v: pct_decode(v) for v in encoded.to_list()}
    return values.replace(mapping)


CHUNK_BYTES = 16 << 20
"""Files are parsed in chunks of about this size, cut at record starts (bounded memory)."""


def parse_bytes(
    data: bytes | Path,
    fmt: Format,
    *,
    file: str,
    node: str,
    zone: Zone | None = None,
    workers: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> tuple[pl.DataFrame, ParseStats]:
    """Parse one whole file with the bulk engine: its event rows and its statistics."""
    frames: list[pl.DataFrame] = []
    parts: list[ParseStats] = []
    for c in iter_chunks(
        data, fmt, file=file, node=node, zone=zone, workers=workers, chunk_bytes=chunk_bytes
    ):
        frames.append(c.frame)
        parts.append(c.stats)
    out = pl.concat(frames, how="vertical", rechunk=False) if len(frames) > 1 else frames[0]
    if fmt.links and len(frames) > 1:
        out = _apply_links(out, fmt)
    return out, merge_stats(parts)


@dataclass
class Chunk:
    """One parsed chunk of a file: bytes ``start:end`` (cut at record starts), its events, its
    partial statistics and its physical lines (lines of nothing but NULs included)."""

    frame: pl.DataFrame
    stats: ParseStats
    start: int
    end: int
    lines: int
    continues: bool


def iter_chunks(
    data: bytes | Path,
    fmt: Format,
    *,
    file: str,
    node: str,
    zone: Zone | None = None,
    workers: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    start: int = 0,
    first_line: int = 0,
    split_tail: int = 0,
) -> Iterator[Chunk]:
    """Parse a file chunk by chunk, in order: each chunk's events, its partial statistics
    (:func:`merge_stats` adds them up), its byte span and its line count.

    Chunks are cut where a line starts a record, so no record spans two chunks; they are
    parsed on ``workers`` threads with at most ``workers + 1`` in flight, which bounds memory
    whatever the file size.

    ``start``: parse from this offset (a record start; the parse cache re-parses a grown
    file's tail so), numbering lines after ``first_line`` lines. ``split_tail``: when the file
    is at least this many bytes (0: never), its last record is a chunk of its own, so that a
    file that grows (lines appended) can be re-parsed from there.
    """
    zone = zone or resolve_zone(None)
    workers = workers or os.cpu_count() or 1
    with contextlib.ExitStack() as stack:
        buf: bytes | mmap.mmap
        if isinstance(data, Path):
            fh = stack.enter_context(open_regular(data))
            size = os.fstat(fh.fileno()).st_size
            buf = (
                stack.enter_context(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
                if size
                else b""
            )
        else:
            buf = data
        size = len(buf)
        bom = len(UTF8_BOM) if buf[: len(UTF8_BOM)] == UTF8_BOM else 0
        first = start or bom
        if size <= first:
            st = ParseStats(path=file, family=fmt.family, node=node, bytes=size - start)
            yield Chunk(empty_frame(), st, start, size, 0, False)
            return
        bounds = _chunk_bounds(buf, fmt, chunk_bytes, first)
        if split_tail and size - start >= split_tail:
            bounds = _split_last(buf, fmt, bounds)
        inner = workers if len(bounds) == 1 else 1

        def work(k: int) -> tuple[pl.DataFrame, ParseStats, int]:
            lo, hi, continues = bounds[k]
            block, cut = _capped(buf, lo, hi, MAX_RECORD_BYTES)
            frame, st = _parse_block(
                block,
                fmt,
                file=file,
                node=node,
                zone=zone,
                line_offset=0,
                workers=inner,
                cut=cut,
                continues=continues,
            )
            st.bytes = hi - lo + (first if k == 0 and not start else 0)
            # Lines of nothing but NULs are not in st.lines but count in the numbering.
            return frame, st, _count_lines(block) if st.nul_bytes else st.lines

        # Chunks number their lines from 1; shift them by the lines of the chunks before
        # (every line of the file, those of nothing but NULs included).
        seen = first_line
        count = len(bounds)
        for k, (frame, st, lines) in enumerate(
            _in_order(work, count, 1 if count == 1 else workers)
        ):
            if seen:
                frame = frame.with_columns(pl.col("line") + seen)
                st.malformed_lines = [n + seen for n in st.malformed_lines]
            seen += lines
            lo, hi, continues = bounds[k]
            yield Chunk(frame, st, 0 if k == 0 and not start else lo, hi, lines, continues)


def _split_last(
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


def _count_lines(data: bytes) -> int:
    """Lines in ``data`` with the engine's semantics (a last line without ``\\n`` counts)."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _capped(buf: bytes | mmap.mmap, start: int, end: int, cap: int) -> tuple[bytes, list[int]]:
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


def _in_order(work: Callable[[int], _T], count: int, workers: int) -> Iterator[_T]:
    """``work(0) .. work(count - 1)`` on threads, yielded in order, at most workers+1 queued."""
    if workers <= 1:
        for k in range(count):
            yield work(k)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: collections.deque[Future[_T]] = collections.deque()
        next_k = 0
        while next_k < count or pending:
            while next_k < count and len(pending) <= workers:
                pending.append(pool.submit(work, next_k))
                next_k += 1
            yield pending.popleft().result()


def _chunk_bounds(
    buf: bytes | mmap.mmap, fmt: Format, chunk_bytes: int, first: int = 0
) -> list[tuple[int, int, bool]]:
    """Chunks ``(start, end, continues)`` about ``chunk_bytes`` long, each cut at the start of a
    header line, so no record spans two chunks.

    In a run of continuation lines longer than ``max(chunk_bytes, 2 * MAX_RECORD_BYTES)`` with no
    header (a runaway stack trace), the cut is forced at a line start so that a chunk stays
    bounded; the next chunk then ``continues`` the record open at the cut. That record already
    holds more than MAX_RECORD_BYTES of continuation lines, so the lines after the cut would
    not be kept anyway: they are counted as its lines.
    """
    span = max(chunk_bytes, 2 * MAX_RECORD_BYTES)
    bounds: list[tuple[int, int, bool]] = []
    start = first
    size = len(buf)
    continues = False
    opened = False  # a header line was seen before ``start``
    while start < size:
        if start + chunk_bytes >= size:
            bounds.append((start, size, continues))
            break
        cut = _next_record_start(buf, start + chunk_bytes, fmt, start + chunk_bytes + span)
        bounds.append((start, abs(cut), continues))
        if cut >= 0:  # at a header (or the end)
            start, continues, opened = cut, False, True
            continue
        # Forced: a record is open at the cut if a header line came before it.
        if not opened:
            opened = _next_record_start(buf, start, fmt, -cut) >= 0
        start, continues = -cut, opened
    return bounds


def _next_record_start(
    buf: bytes | mmap.mmap, pos: int, fmt: Format, stop: int | None = None
) -> int:
    """The offset of the first line at or after ``pos`` (line-aligned) that is a header line,
    or the file's size; the search gives up at the first line that starts at or after ``stop``
    (when given) and returns that line's offset negated."""
    size = len(buf)
    if pos <= 0:
        start = 0
    else:
        nl = buf.find(b"\n", pos - 1)
        if nl == -1:
            return size
        start = nl + 1
    while start < size:
        if stop is not None and start >= stop:
            return -start
        end = buf.find(b"\n", start)
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


def _read_lines(data: bytes, first: int) -> tuple[pl.DataFrame, int, int]:
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


def merge_stats(parts: Sequence[ParseStats]) -> ParseStats:
    """Add up the partial statistics of a file's chunks (in order)."""
    first = parts[0]
    out = ParseStats(path=first.path, family=first.family, node=first.node)
    kinds: Counter[str] = Counter()
    for st in parts:
        out.bytes += st.bytes
        out.lines += st.lines
        out.records += st.records
        out.record_lines += st.record_lines
        out.malformed += st.malformed
        out.unrecognized += st.unrecognized
        out.decode_errors += st.decode_errors
        out.bad_timestamps += st.bad_timestamps
        out.nul_bytes += st.nul_bytes
        out.truncated += st.truncated
        room = ParseStats.MALFORMED_LINES_KEPT - len(out.malformed_lines)
        out.malformed_lines.extend(st.malformed_lines[: max(room, 0)])
        kinds.update(st.kinds)
        for off, count in st.utc_offsets.items():
            out.utc_offsets[off] = out.utc_offsets.get(off, 0) + count
        if st.first_time is not None and (out.first_time is None or st.first_time < out.first_time):
            out.first_time = st.first_time
        if st.last_time is not None and (out.last_time is None or st.last_time > out.last_time):
            out.last_time = st.last_time
        if st.error is not None and out.error is None:
            out.error = st.error
        if st.partial is not None and out.partial is None:
            out.partial = st.partial
    out.kinds = dict(kinds)
    return out


def _parse_block(
    data: bytes,
    fmt: Format,
    *,
    file: str,
    node: str,
    zone: Zone,
    line_offset: int,
    workers: int,
    cut: Sequence[int] = (),
    continues: bool = False,
) -> tuple[pl.DataFrame, ParseStats]:
    """Parse a block of whole records (a file, or a chunk of one starting at a record).

    ``cut``: the 0-based indexes of the block's lines that were cut to MAX_RECORD_BYTES.
    ``continues``: the lines before the block's first header are the continuation of a record
    of the block before, past its MAX_RECORD_BYTES (counted as its lines, not kept).
    """
    stats = ParseStats(path=file, family=fmt.family, node=node, bytes=len(data))
    if not data:
        return empty_frame(), stats
    lines, stats.decode_errors, stats.nul_bytes = _read_lines(data, line_offset + 1)
    stats.lines = lines.height
    if stats.lines == 0:
        return empty_frame(), stats
    frame = _concat(_map_slices(lines, workers, lambda part: _header_frame(part, fmt.headers)))
    is_hdr = frame["hdr"].is_not_null()
    rec = is_hdr.cast(pl.Int64).cum_sum()
    frame = frame.with_columns(rec.alias("_rec"))
    if not continues:
        malformed = frame.filter(pl.col("_rec") == 0)["n"]
        stats.malformed = malformed.len()
        stats.malformed_lines = malformed.head(ParseStats.MALFORMED_LINES_KEPT).to_list()
    stats.record_lines = stats.lines - stats.malformed
    truncated: set[int] = set()
    if cut:
        numbers = [line_offset + 1 + i for i in cut]
        hit = frame.filter(pl.col("n").is_in(numbers))["_rec"].to_list()
        if not continues:
            stats.truncated += sum(1 for r in hit if r == 0)  # malformed lines, cut
        truncated.update(r for r in hit if r > 0)
    del lines
    records = frame.select("n", "hdr", "_rec", *_HEADER_COLS, "msg").filter(
        pl.col("hdr").is_not_null()
    )
    stats.records = records.height
    if stats.records == 0:
        return empty_frame(), stats
    folding = stats.record_lines > stats.records
    if folding:
        cont = frame.filter(pl.col("hdr").is_null() & (pl.col("_rec") > 0)).select("_rec", "text")
        if int(cont["text"].str.len_bytes().sum()) + cont.height > MAX_RECORD_BYTES:
            # Keep at most MAX_RECORD_BYTES of continuation lines per record.
            size = (pl.col("text").str.len_bytes() + 1).cum_sum().over("_rec")
            cont = cont.with_columns(size.alias("_size"))
            truncated.update(cont.filter(pl.col("_size") > MAX_RECORD_BYTES)["_rec"].to_list())
            cont = cont.filter(pl.col("_size") <= MAX_RECORD_BYTES)
        cont = cont.group_by("_rec", maintain_order=True).agg(
            pl.col("text").str.join("\n").alias("_cont")
        )
    stats.truncated += len(truncated)
    del frame  # the raw lines are no longer needed; free them before classifying
    if folding:
        records = records.join(cont, on="_rec", how="left", maintain_order="left").with_columns(
            pl.when(pl.col("_cont").is_not_null())
            .then(pl.col("msg") + "\n" + pl.col("_cont"))
            .otherwise(pl.col("msg"))
            .alias("msg")
        )

    def per_slice(part: pl.DataFrame) -> pl.DataFrame:
        time = _parse_times(part, fmt.headers, zone)
        part = _classify(part.with_columns(time.alias("time")), fmt.events)
        return _fill_fields(part, fmt.fields)

    records = _concat(_map_slices(records, workers, per_slice))
    stats.bad_timestamps = records["time"].null_count()
    level_map = dict(fmt.levels)
    records = records.with_columns(
        pl.col("level").str.to_uppercase().replace(level_map).alias("level")
    )
    records = _apply_links(records, fmt)
    if fmt.states_zone:
        stats.utc_offsets = utc_offsets(records["local"], records["time"])
    out = records.select(
        pl.col("time"),
        pl.coalesce(
            pl.when(pl.col("_node") != "").then(pl.col("_node")),
            pl.when(pl.col("node") != "").then(pl.col("node")),
            pl.lit(node, dtype=pl.String),
        ).alias("node"),
        pl.lit(fmt.family, dtype=pl.String).alias("family"),
        pl.lit(file, dtype=pl.String).alias("file"),
        pl.col("n").cast(pl.Int64).alias("line"),
        pl.col("level"),
        pl.col("thread"),
        pl.col("logger"),
        pl.col("kind"),
        pl.col("basis"),
        *[pl.col(c) for c in FIELD_COLUMNS],
        pl.col("msg").alias("message"),
    )
    counts = out["kind"].value_counts()
    stats.kinds = {str(k): int(v) for k, v in zip(counts["kind"], counts["count"], strict=True)}
    stats.unrecognized = stats.kinds.get(_UNRECOGNIZED, 0)
    t = out["time"].drop_nulls()
    if t.len():
        lo, hi = t.min(), t.max()
        stats.first_time = lo if isinstance(lo, datetime) else None
        stats.last_time = hi if isinstance(hi, datetime) else None
    return out, stats


_SLICE_ROWS = 200_000
"""Below this many rows per worker, slicing costs more than it saves."""


def _map_slices(
    frame: pl.DataFrame, workers: int, fn: Callable[[pl.DataFrame], pl.DataFrame]
) -> list[pl.DataFrame]:
    """Apply ``fn`` to contiguous row slices of ``frame`` on threads; results in order."""
    k = min(workers, max(1, frame.height // _SLICE_ROWS))
    if k <= 1:
        return [fn(frame)]
    size = -(-frame.height // k)
    parts = [frame.slice(i * size, size) for i in range(k)]
    with ThreadPoolExecutor(max_workers=k) as pool:
        return list(pool.map(fn, parts))


def _concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    return parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical", rechunk=False)
