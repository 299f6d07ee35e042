"""The bulk engine (polars, one file at a time, in chunks on a thread pool): what
``logdoctor.load``, ``check`` and ``report`` parse with. The line semantics it implements are
stated once, in :mod:`logdoctor.ingest.parse`; :mod:`.line` gives the same rows line by line.
"""

from __future__ import annotations

import collections
import contextlib
import mmap
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, Required, TypedDict, TypeVar, Unpack

import polars as pl

from logdoctor.ingest.capped import open_regular
from logdoctor.ingest.clocks import utc_offsets
from logdoctor.ingest.decoding import UTF8_BOM
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.parse import blocks
from logdoctor.ingest.parse.blocks import capped, chunk_bounds, count_lines, read_lines, split_last
from logdoctor.ingest.parse.classify import apply_links, classify, fill_fields, kept
from logdoctor.ingest.parse.common import MAX_RECORD_BYTES
from logdoctor.ingest.parse.header import HEADER_COLS, header_frame, parse_times
from logdoctor.ingest.parse.window import Window
from logdoctor.model import EventKind
from logdoctor.table import FIELD_COLUMNS, ParseStats, empty_frame
from logdoctor.timestamps import Zone, resolve_zone

__all__ = ["Chunk", "ParseOptions", "Pieces", "iter_chunks", "merge_stats", "parse_bytes"]

_UNRECOGNIZED = EventKind.UNRECOGNIZED.value
_T = TypeVar("_T")


CHUNK_BYTES = 16 << 20
"""Files are parsed in chunks of about this size, cut at record starts (bounded memory)."""


class Pieces(Protocol):
    """A file's bytes as pieces, in order (a compressed file decompressed on a thread:
    :class:`logdoctor.ingest.inflate.Inflated`)."""

    def pieces(self) -> Iterator[bytes | memoryview]:
        """The bytes, piece by piece (iterated once; a piece may be a view that is valid only
        until the next piece is asked for)."""
        ...


class ParseOptions(TypedDict, total=False):
    """The keywords of :func:`parse_bytes`, which :func:`iter_chunks` takes too."""

    file: Required[str]
    """The file's name as shown (the ``file`` column)."""
    node: Required[str]
    """The node of its events, unless a line states another."""
    zone: Zone | None
    """The zone of zone-less times (default UTC)."""
    workers: int | None
    """Threads (default: one per core)."""
    chunk_bytes: int
    """About how many bytes a chunk holds (default :data:`CHUNK_BYTES`)."""
    keep: tuple[str, ...] | None
    """Lean: the frames need hold only the events whose message holds one of these texts
    (the statistics still count every line; default None: every event)."""


def parse_bytes(
    data: bytes | Path | Pieces, fmt: Format, **options: Unpack[ParseOptions]
) -> tuple[pl.DataFrame, ParseStats]:
    """Parse one whole file with the bulk engine: its event rows and its statistics."""
    frames: list[pl.DataFrame] = []
    parts: list[ParseStats] = []
    for c in iter_chunks(data, fmt, **options):
        frames.append(c.frame)
        parts.append(c.stats)
    out = pl.concat(frames, how="vertical", rechunk=False) if len(frames) > 1 else frames[0]
    if fmt.links and len(frames) > 1:
        out = apply_links(out, fmt)
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
    data: bytes | Path | Pieces,
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
    keep: tuple[str, ...] | None = None,
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

    Long because the chunk loop (cut, submit, drain in order, carry the tail of a piece into
    the next) shares its state across iterations; split up, that state would travel through
    arguments on every chunk of the hot path.

    ``data`` given as :class:`Pieces` is parsed as its pieces arrive (``start``, ``first_line``
    and ``split_tail`` do not apply). ``keep``: see :class:`ParseOptions`.
    """
    zone = zone or resolve_zone(None)
    workers = workers or os.cpu_count() or 1
    if not isinstance(data, (bytes, Path)):
        yield from _iter_pieces(data.pieces(), fmt, file, node, zone, workers, chunk_bytes, keep)
        return
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
        elif isinstance(data, bytes):
            buf = data
        else:  # pieces went to _iter_pieces above
            raise TypeError(type(data).__name__)
        size = len(buf)
        bom = len(UTF8_BOM) if buf[: len(UTF8_BOM)] == UTF8_BOM else 0
        first = start or bom
        if size <= first:
            st = ParseStats(path=file, family=fmt.family, node=node, bytes=size - start)
            yield Chunk(empty_frame(), st, start, size, 0, False)
            return
        bounds = chunk_bounds(buf, fmt, chunk_bytes, first)
        if split_tail and size - start >= split_tail:
            bounds = split_last(buf, fmt, bounds)
        inner = workers if len(bounds) == 1 else 1

        def work(k: int) -> tuple[pl.DataFrame, ParseStats, int]:
            lo, hi, continues = bounds[k]
            out = _parse_span(buf, lo, hi, continues, fmt, file, node, zone, inner, keep)
            out[1].bytes += first if k == 0 and not start else 0
            return out

        # Chunks number their lines from 1; shift them by the lines of the chunks before
        # (every line of the file, those of nothing but NULs included).
        seen, released = first_line, 0  # lines before; bytes given back
        count = len(bounds)
        for k, (frame, st, lines) in enumerate(
            _in_order(work, count, 1 if count == 1 else workers)
        ):
            frame = _renumber(frame, st, seen)
            seen += lines
            lo, hi, continues = bounds[k]
            yield Chunk(frame, st, 0 if k == 0 and not start else lo, hi, lines, continues)
            released = blocks.release_parsed(buf, released, hi)


def _parse_span(
    buf: bytes | mmap.mmap,
    lo: int,
    hi: int,
    continues: bool,
    fmt: Format,
    file: str,
    node: str,
    zone: Zone,
    workers: int,
    keep: tuple[str, ...] | None = None,
) -> tuple[pl.DataFrame, ParseStats, int]:
    """Parse ``buf[lo:hi]`` (whole records): its events and statistics, lines numbered from 1,
    and its physical lines."""
    block, cut = capped(buf, lo, hi, MAX_RECORD_BYTES)
    return _parse_capped(block, cut, hi - lo, continues, fmt, file, node, zone, workers, keep)


def _parse_capped(
    block: bytes,
    cut: list[int],
    size: int,
    continues: bool,
    fmt: Format,
    file: str,
    node: str,
    zone: Zone,
    workers: int,
    keep: tuple[str, ...] | None = None,
) -> tuple[pl.DataFrame, ParseStats, int]:
    """:func:`_parse_span` of a span already copied out by :func:`capped` (``block``, with
    the lines it ``cut``) from ``size`` bytes of the file."""
    frame, st = _parse_block(
        block,
        fmt,
        file=file,
        node=node,
        zone=zone,
        line_offset=0,
        workers=workers,
        cut=cut,
        continues=continues,
        keep=keep,
    )
    st.bytes = size
    # Lines of nothing but NULs are not in st.lines but count in the numbering.
    return frame, st, count_lines(block) if st.nul_bytes else st.lines


def _renumber(frame: pl.DataFrame, st: ParseStats, seen: int) -> pl.DataFrame:
    """A chunk's line numbers shifted by the ``seen`` lines of the chunks before it."""
    if not seen:
        return frame
    st.malformed_lines = [n + seen for n in st.malformed_lines]
    return frame.with_columns(pl.col("line") + seen)


def _iter_pieces(
    pieces: Iterator[bytes | memoryview],
    fmt: Format,
    file: str,
    node: str,
    zone: Zone,
    workers: int,
    chunk_bytes: int,
    keep: tuple[str, ...] | None,
) -> Iterator[Chunk]:
    """:func:`iter_chunks` over a file arriving piece by piece: bytes are held (in one reused
    :class:`~logdoctor.ingest.parse.window.Window`) until they reach past a chunk and the span
    a forced cut may look ahead, then every chunk whose end is decided is copied out and
    parsed on ``workers`` threads (at most ``workers + 1`` in flight, yielded in order) while
    the next pieces arrive, and the rest is held for the next round. Chunks and numbering are
    those :func:`iter_chunks` gives for the same bytes.

    Chunks parsed side by side rather than one after another, each spread over polars'
    threads: on 1 M lines of a ``.gz`` that took ~0.3 CPU-s more (polars' threads waking for
    each small operation) and about as long in wall time as parsing plus inflating in turn.
    """
    reach = chunk_bytes + max(chunk_bytes, 2 * MAX_RECORD_BYTES)
    held = Window(2 * reach)
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    inner = 1 if pool is not None else workers
    # In flight, in order: the parse, the bytes before the chunk (a BOM) it counts, its span
    # in the file, whether it continues a record.
    pending: collections.deque[
        tuple[Future[tuple[pl.DataFrame, ParseStats, int]], int, int, int, bool]
    ] = collections.deque()
    seen = 0
    opened = False

    def finish() -> Chunk:
        nonlocal seen, opened
        fut, extra, lo, hi, cont = pending.popleft()
        frame, st, lines = fut.result()
        st.bytes += extra
        frame = _renumber(frame, st, seen)
        seen += lines
        opened = opened or cont or st.records > 0
        return Chunk(frame, st, lo, hi, lines, cont)

    try:
        continues = done = False
        while not done:
            piece = next(pieces, None)
            if piece is None:
                done = True
            else:
                held.add(piece)
                if held.size < reach:
                    continue
            buf, size, base = held.buf, held.size, held.base
            bom = len(UTF8_BOM)
            first = bom if base == 0 and size >= bom and buf[:bom] == UTF8_BOM else 0
            if done and base == 0 and size <= first and not pending:
                st = ParseStats(path=file, family=fmt.family, node=node, bytes=size)
                yield Chunk(empty_frame(), st, 0, size, 0, False)
                return
            while pending and not opened:
                yield finish()  # the cuts below depend on whether a record was read before
            bounds = chunk_bounds(
                buf, fmt, chunk_bytes, first, continues=continues, opened=opened, size=size
            )
            ready = bounds if done else [b for b in bounds if b[1] < size]
            for lo, hi, cont in ready:
                block, cut = capped(buf, lo, hi, MAX_RECORD_BYTES)  # a copy: buf is reused
                args = (block, cut, hi - lo, cont, fmt, file, node, zone, inner, keep)
                fut: Future[tuple[pl.DataFrame, ParseStats, int]]
                if pool is not None:
                    fut = pool.submit(_parse_capped, *args)
                else:
                    fut = Future()
                    fut.set_result(_parse_capped(*args))
                at_start = base == 0 and lo == first
                span = (0 if at_start else base + lo, base + hi)
                pending.append((fut, first if at_start else 0, *span, cont))
                while len(pending) > (workers if pool is not None else 0):
                    yield finish()
            if ready and not done:
                continues = bounds[len(ready)][2]
                held.drop(ready[-1][1])
        while pending:
            yield finish()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        held.close()


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
    keep: tuple[str, ...] | None = None,
) -> tuple[pl.DataFrame, ParseStats]:
    """Parse a block of whole records (a file, or a chunk of one starting at a record).

    ``cut``: the 0-based indexes of the block's lines that were cut to MAX_RECORD_BYTES.
    ``continues``: the lines before the block's first header are the continuation of a record
    of the block before, past its MAX_RECORD_BYTES (counted as its lines, not kept).
    ``keep``: see :class:`ParseOptions` (a format with links fills fields across events: all
    its events are kept).

    Long because it is the engine's hot path: one pass of polars expressions over the block's
    lines (headers, records, times, classification, counts) kept in one place, so that each
    intermediate frame is dropped as soon as the next one is built and the stages are read in
    the order they run (the stages themselves live in header.py, blocks.py, classify.py).
    """
    stats = ParseStats(path=file, family=fmt.family, node=node, bytes=len(data))
    if not data:
        return empty_frame(), stats
    lines, stats.decode_errors, stats.nul_bytes = read_lines(data, line_offset + 1)
    stats.lines = lines.height
    if stats.lines == 0:
        return empty_frame(), stats
    frame = _concat(_map_slices(lines, workers, lambda part: header_frame(part, fmt.headers)))
    is_hdr = frame["hdr"].is_not_null()
    rec = is_hdr.cast(pl.Int64).cum_sum()
    frame = frame.with_columns(rec.alias("_rec"))
    if not continues:
        malformed = frame["n"].filter(frame["_rec"] == 0)
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
    records = frame.select("n", "hdr", "_rec", *HEADER_COLS, "msg").filter(
        pl.col("hdr").is_not_null()
    )
    stats.records = records.height
    if stats.records == 0:
        return empty_frame(), stats
    folding = stats.record_lines > stats.records
    if folding:
        cont = (
            frame.select("_rec", "text", "hdr")
            .filter(pl.col("hdr").is_null() & (pl.col("_rec") > 0))
            .drop("hdr")
        )
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
        # Record k (0-based) is the k+1-th header line: its _rec is k + 1. Only the records
        # with continuation lines get a new message (no join, no pass over the others).
        at = (cont["_rec"] - 1).cast(pl.UInt32)
        msg = records["msg"]
        msg.scatter(at, msg.gather(at) + "\n" + cont["_cont"])
        records = records.with_columns(msg)

    def per_slice(part: pl.DataFrame) -> pl.DataFrame:
        if not lean:
            part = part.with_columns(parse_times(part, fmt.headers, zone).alias("time"))
        return fill_fields(classify(part, fmt.events), fmt.fields)

    lean = keep is not None and not fmt.links
    others: Counter[str] = Counter()  # kinds of the records left out (lean)
    if lean:
        assert keep is not None
        records = records.with_columns(parse_times(records, fmt.headers, zone).alias("time"))
        _time_stats(stats, records, fmt.states_zone)
        records, others = kept(records, keep, fmt.events)
        if records.height == 0:
            stats.kinds = dict(others)
            stats.unrecognized = others.get(_UNRECOGNIZED, 0)
            return empty_frame(), stats
    records = _concat(_map_slices(records, workers, per_slice))
    records = records.with_columns(_levels(records["level"], fmt.levels))
    records = apply_links(records, fmt)
    if not lean:
        _time_stats(stats, records, fmt.states_zone)
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
    others.update({str(k): int(v) for k, v in zip(counts["kind"], counts["count"], strict=True)})
    stats.kinds = dict(others)
    stats.unrecognized = stats.kinds.get(_UNRECOGNIZED, 0)
    return out, stats


def _time_stats(stats: ParseStats, records: pl.DataFrame, states_zone: bool) -> None:
    """The statistics of the records' times: unreadable ones, the first and last, and the
    UTC offsets they state (``states_zone``)."""
    stats.bad_timestamps = records["time"].null_count()
    if states_zone:
        stats.utc_offsets = utc_offsets(records["local"], records["time"])
    t = records["time"].drop_nulls()
    if t.len():
        lo, hi = t.min(), t.max()
        stats.first_time = lo if isinstance(lo, datetime) else None
        stats.last_time = hi if isinstance(hi, datetime) else None


def _levels(level: pl.Series, aliases: Mapping[str, str]) -> pl.Series:
    """Levels upper-cased and their aliases (``[levels]``) replaced, decided once per distinct
    value (a log has a handful); rows whose level already is its own spelling are not touched."""
    seen = level.drop_nulls().unique()
    final = seen.str.to_uppercase().replace(dict(aliases))
    change = {a: b for a, b in zip(seen.to_list(), final.to_list(), strict=True) if a != b}
    return level.replace(change) if change else level


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
