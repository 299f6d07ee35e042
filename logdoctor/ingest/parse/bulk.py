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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, Required, TypedDict, TypeVar, Unpack

import polars as pl

from logdoctor.ingest.capped import open_regular
from logdoctor.ingest.decoding import UTF8_BOM
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.parse import blocks
from logdoctor.ingest.parse.blocks import chunk_bounds, split_last
from logdoctor.ingest.parse.classify import apply_links
from logdoctor.ingest.parse.pieces import iter_pieces
from logdoctor.ingest.parse.span import Chunk, parse_span, renumber
from logdoctor.table import ParseStats, empty_frame
from logdoctor.timestamps import Zone, resolve_zone

__all__ = ["Chunk", "ParseOptions", "Pieces", "iter_chunks", "merge_stats", "parse_bytes"]

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
        yield from iter_pieces(data.pieces(), fmt, file, node, zone, workers, chunk_bytes, keep)
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
        else:  # pieces went to iter_pieces above
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
            out = parse_span(buf, lo, hi, continues, fmt, file, node, zone, inner, keep)
            out[1].bytes += first if k == 0 and not start else 0
            return out

        # Chunks number their lines from 1; shift them by the lines of the chunks before
        # (every line of the file, those of nothing but NULs included).
        seen, released = first_line, 0  # lines before; bytes given back
        count = len(bounds)
        for k, (frame, st, lines) in enumerate(
            _in_order(work, count, 1 if count == 1 else workers)
        ):
            frame = renumber(frame, st, seen)
            seen += lines
            lo, hi, continues = bounds[k]
            yield Chunk(frame, st, 0 if k == 0 and not start else lo, hi, lines, continues)
            released = blocks.release_parsed(buf, released, hi)


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
