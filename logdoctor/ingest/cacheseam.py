"""The seam between the loader and the parsed-file cache (:mod:`logdoctor.ingest.cache`): one
file's frames from its cache entry, or parsed and stored there.

A hit whose entry covers the whole file is replayed; a file that grew since is replayed up to
its last cached chunk and parsed from there on; a miss is parsed and stored chunk by chunk; a
damaged entry is removed and the file parsed again. The file's statistics are complete once
the frames are exhausted (:attr:`CachedRead.stats`). A lean read (``lean=True``, for
``stats``) yields each part's node statements instead of its events: a hit then reads only the
entry's key (the statistics and statements stored with each segment), never its tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from logdoctor.ingest.cache import SPLIT_TAIL, Lookup, ParseCache, Writer
from logdoctor.ingest.cachekey import Segment, said_frame
from logdoctor.ingest.cachetable import as_read
from logdoctor.ingest.detect import detect_format
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.inputs import Limits, LogFile
from logdoctor.ingest.messages import MessageStore
from logdoctor.ingest.nodestatements import statement_frame
from logdoctor.ingest.opening import Opened, data_size, open_file
from logdoctor.ingest.parse import Chunk, iter_chunks, merge_stats, parse_bytes
from logdoctor.table import ParseStats
from logdoctor.timestamps import Zone

__all__ = ["CachedRead"]

Part = tuple[pl.DataFrame, ParseStats, pl.DataFrame | None]
"""A part of a file: its frame (or, lean, its node statements), its statistics, and its node
statements when they are known without computing them (stored in the cache)."""


@dataclass
class CachedRead:
    """One file read through the cache; ``zone_for(lf, fmt)`` gives the zone its zone-less times
    are read in and the file that stated it (called once per format)."""

    cache: ParseCache
    lf: LogFile
    mode: str
    """``whole`` (one task, one worker) or ``streamed`` (chunk by chunk, ``jobs`` workers)."""
    formats: Sequence[Format]
    limits: Limits
    jobs: int
    zone_for: Callable[[LogFile, Format], tuple[Zone, str | None]]
    stats: ParseStats | None = None
    """The file's statistics, once :meth:`frames` is exhausted."""
    lean: bool = False
    """Yield each part's node statements (:func:`~logdoctor.ingest.nodes.statement_frame`)
    instead of its events (see the module)."""
    messages: MessageStore | None = None
    """A hit's segments are read without the ``message`` of the rows the store fetches back
    from them (:meth:`~logdoctor.ingest.messages.MessageStore.read_segment`)."""
    categorical: frozenset[str] = frozenset()
    """Columns given as they are stored, ``Categorical`` (:mod:`~logdoctor.ingest.cachetable`);
    the others are String."""
    _zones: dict[str, Zone] = field(default_factory=dict, repr=False)
    _sources: dict[str, str | None] = field(default_factory=dict, repr=False)

    def _zone(self, fmt: Format) -> Zone:
        if fmt.name not in self._zones:  # once per format: zone_for notes the file as read
            self._zones[fmt.name], self._sources[fmt.name] = self.zone_for(self.lf, fmt)
        return self._zones[fmt.name]

    def frames(self) -> Iterator[Part]:
        """The file's frames (chunk by chunk, or their node statements when ``lean``) with
        each chunk's statistics."""
        lf = self.lf
        hit = self.cache.lookup(lf.display, lf.local, lf.node, self._zone, self.mode)
        if hit is not None and hit.rest is None and not self.lean:
            yield from self._replay(hit)
            return
        parts: list[Part] = []
        if hit is not None:
            try:
                parts = list(
                    hit.statements() if self.lean else hit.frames(self.messages, self.categorical)
                )
            except (OSError, ValueError, pl.exceptions.PolarsError):
                hit.forget()
                hit = None
        if hit is not None and hit.rest is None:
            self._replayed(hit, [p[1] for p in parts])
            yield from parts
            return
        opened = open_file(lf, self.limits)
        if isinstance(opened, ParseStats):
            self.stats = opened
            return
        yield from self._parse(opened, hit, parts)

    def _replay(self, hit: Lookup) -> Iterator[Part]:
        """A whole hit, one segment's table read at a time (a streamed export holds one
        chunk, not the file's table). A segment found damaged after others were given: the
        entry is dropped and the file parsed again, without the rows of the segments given
        (those that start on a line before the damaged segment's first)."""
        done: list[ParseStats] = []
        # a store reads the segments without their text
        parts = hit.frames(self.messages, self.categorical)
        while True:
            try:
                part = next(parts, None)
            except (OSError, ValueError, pl.exceptions.PolarsError):
                hit.forget()
                yield from self._again(sum(st.lines for st in done))
                return
            if part is None:
                break
            done.append(part[1])
            yield part
        self._replayed(hit, done)

    def _replayed(self, hit: Lookup, done: list[ParseStats]) -> None:
        """A hit given whole: the entry marked used, the file's statistics set."""
        hit.touch()
        st = merge_stats(done)
        st.decode_errors += hit.decode_errors
        st.partial = hit.partial
        st.zone_from = self._sources.get(hit.fmt.name)
        self.stats = st

    def _again(self, given: int) -> Iterator[Part]:
        """The file parsed (and stored) again after a damaged segment, leaving out the rows
        of its first ``given`` lines (given already from the entry)."""
        opened = open_file(self.lf, self.limits)
        if isinstance(opened, ParseStats):
            self.stats = opened
            return
        for frame, st, said in self._parse(opened, None, []):
            if given:
                frame, said = frame.filter(pl.col("line") > given), None
            yield frame, st, said

    def _parse(self, opened: Opened, hit: Lookup | None, parts: list[Part]) -> Iterator[Part]:
        """Parse the file (a grown one from its last cached chunk on) and store the chunks."""
        lf = self.lf
        done: list[ParseStats] = []
        writer: Writer | None
        if hit is not None and hit.rest is not None and isinstance(opened.data, Path):
            fmt, start, first_line = hit.fmt, hit.rest, hit.first_line
            zone = self._zone(fmt)
            writer = hit.writer()
            for part in parts:
                done.append(part[1])
                yield part
        else:
            fmt = detect_format(self.formats, lf.name, lf.relpath, opened.head)
            zone = self._zone(fmt)
            start = first_line = 0
            writer = self.cache.writer(lf.display, lf.local, lf.node, fmt, zone, self.mode)
        for chunk in self._chunks(opened, fmt, zone, start, first_line):
            seg, table = (None, chunk.frame) if writer is None else writer.add(chunk)
            done.append(chunk.stats)
            said = None if seg is None else said_frame(seg.said)
            if not self.lean:
                frame = as_read(table, chunk.frame, self.categorical)
                yield self._written(writer, seg, frame), chunk.stats, said
            elif said is not None:
                yield said, chunk.stats, said
            else:
                yield statement_frame(chunk.frame), chunk.stats, None
        if writer is not None:
            writer.finish(*opened.notes())
        st = opened.account(merge_stats(done))
        st.zone_from = self._sources.get(fmt.name)
        self.stats = st

    def _written(
        self, writer: Writer | None, seg: Segment | None, frame: pl.DataFrame
    ) -> pl.DataFrame:
        """A parsed chunk's frame, its messages left in the segment just written when the
        store takes them (:meth:`~logdoctor.ingest.messages.MessageStore.written`)."""
        if self.messages is None or writer is None or seg is None or writer.failed:
            return frame
        return self.messages.written(writer.folder / seg.name, frame)

    def _chunks(
        self, opened: Opened, fmt: Format, zone: Zone, start: int, first_line: int
    ) -> Iterator[Chunk]:
        lf = self.lf
        workers = 1 if self.mode == "whole" else self.jobs
        if fmt.links and self.mode == "whole":
            # Links reach across chunks: one segment holding the whole file's table.
            frame, st = parse_bytes(
                opened.data, fmt, file=lf.display, node=lf.node, zone=zone, workers=workers
            )
            end = data_size(opened.data)
            return iter([Chunk(frame, st, 0, end, st.lines, False)])
        return iter_chunks(
            opened.data,
            fmt,
            file=lf.display,
            node=lf.node,
            zone=zone,
            workers=workers,
            start=start,
            first_line=first_line,
            split_tail=0 if fmt.links else SPLIT_TAIL,
        )
