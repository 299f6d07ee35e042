"""One span of whole records parsed into events: the bulk engine's hot path (headers,
records, times, classification, counts in one pass of polars expressions), shared by
:mod:`.bulk` (a file read at once) and :mod:`.pieces` (a file arriving piece by piece)."""

from __future__ import annotations

import mmap
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from logdoctor.ingest.clocks import utc_offsets
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.parse.blocks import capped, count_lines, read_lines
from logdoctor.ingest.parse.classify import apply_links, classify, fill_fields, kept
from logdoctor.ingest.parse.common import MAX_RECORD_BYTES
from logdoctor.ingest.parse.header import HEADER_COLS, header_frame, parse_times
from logdoctor.model import EventKind
from logdoctor.table import FIELD_COLUMNS, ParseStats, empty_frame
from logdoctor.timestamps import Zone

__all__ = ["Chunk", "parse_capped", "parse_span", "renumber"]

_UNRECOGNIZED = EventKind.UNRECOGNIZED.value


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


def parse_span(
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
    return parse_capped(block, cut, hi - lo, continues, fmt, file, node, zone, workers, keep)


def parse_capped(
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
    """:func:`parse_span` of a span already copied out by :func:`capped` (``block``, with
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


def renumber(frame: pl.DataFrame, st: ParseStats, seen: int) -> pl.DataFrame:
    """A chunk's line numbers shifted by the ``seen`` lines of the chunks before it."""
    if not seen:
        return frame
    st.malformed_lines = [n + seen for n in st.malformed_lines]
    return frame.with_columns(pl.col("line") + seen)


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
