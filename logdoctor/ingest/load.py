"""The Python API: ``logdoctor.load(paths)`` gives the event table and per-file statistics.

Files are parsed one per task on a thread pool (polars releases the GIL, so two cores parse two
files at once); results come back in input order, so a load is deterministic. Opening a file
(:mod:`logdoctor.ingest.opening`) and reading it through the parsed-file cache
(:mod:`logdoctor.ingest.cacheseam`) have modules of their own; this one assembles the frames.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

import polars as pl

from logdoctor.ingest.cache import ParseCache, default_cache
from logdoctor.ingest.cacheseam import CachedRead
from logdoctor.ingest.detect import (
    detect_format,
    looks_like_log,
    named_formats,
)
from logdoctor.ingest.formats.catalog import formats_matcher, load_formats
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.inputs import Ignored, InputError, Limits, LogFile
from logdoctor.ingest.messages import MessageStore
from logdoctor.ingest.nodes import NodeTable, identify
from logdoctor.ingest.nodestatements import (
    family_literals,
    file_statements,
    identity_literals,
    named_files,
    statement_frame,
    statements,
)
from logdoctor.ingest.opening import is_big, mentions, open_file, stated_zones
from logdoctor.ingest.parse import iter_chunks, merge_stats, parse_bytes
from logdoctor.ingest.sources import discover
from logdoctor.progress import NULL_PROGRESS, Progress
from logdoctor.table import COLUMNS, DTYPES, ParseStats, empty_frame
from logdoctor.timestamps import Zone, ZoneBook, resolve_zone
from logdoctor.ucm.prt import with_prt_identity

if TYPE_CHECKING:  # pandas is imported when a caller asks for it (it costs 0.3 s to import)
    import pandas as pd

__all__ = ["LoadOptions", "LoadResult", "Loader", "load", "open_inputs", "to_pandas"]

Piece = tuple[pl.DataFrame, pl.DataFrame | None]
"""Events (or, in a lean read, their node statements) and their node statements when the cache
knows them (None: computed from the events)."""


@dataclass
class LoadResult:
    """What a load produced: the events, per-file statistics, and what could not be read."""

    frame: pl.DataFrame
    """The event table as a polars DataFrame (the engine's own form)."""
    stats: list[ParseStats]
    errors: list[InputError] = field(default_factory=list)
    """Inputs that could not be read, or only partly, each with the reason."""
    ignored: list[Ignored] = field(default_factory=list)
    formats: list[Format] = field(default_factory=list)
    nodes: NodeTable = field(default_factory=NodeTable)
    """Each node's canonical name and aliases (the ``node`` and ``server`` columns and the
    statistics already use the canonical names)."""
    messages: MessageStore | None = None
    """The text the frame leaves null (:mod:`logdoctor.ingest.messages`); None: it has all."""

    @cached_property
    def events(self) -> "pd.DataFrame":  # noqa: UP037
        """The event table as a pandas DataFrame with the documented dtypes."""
        return to_pandas(self.frame)


def to_pandas(frame: pl.DataFrame) -> "pd.DataFrame":  # noqa: UP037
    """Convert an engine frame to the pandas event table (columns and dtypes of table.DTYPES)."""
    df = frame.select(COLUMNS).to_pandas()
    return df.astype({c: DTYPES[c] for c in COLUMNS})


@dataclass
class Loader:
    """Discovered inputs, parsed on demand: stream the events chunk by chunk, or collect them.

    ``frames()`` yields event frames in input order (a big file in chunks, small files on a
    thread pool) and fills ``stats`` as it goes, so a command can write or count a file far
    larger than memory; ``result()`` collects everything into a LoadResult. Each file's
    zone-less times are read in its node's zone (``zones``); ``progress`` hears of each file
    parsed (stage ``parsing``, in files).

    A node whose own CiscoSyslog is among the files states its zone (the two clocks of its
    records, see :mod:`logdoctor.ingest.clocks`): the heads of the files that may state one are read
    before anything is parsed and recorded in ``zones`` (``ZoneBook.record_from_log``, which
    outranks the deployment file and ``--tz``). A file states its node's zone when the folder
    that holds its ``syslog/`` folder is the node's (``<node>/syslog/CiscoSyslog``) or when its
    records name that node (a loose CiscoSyslog among other nodes' files does not).
    """

    files: list[LogFile]
    formats: list[Format]
    zones: ZoneBook
    jobs: int
    limits: Limits
    errors: list[InputError] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    stats: list[ParseStats] = field(default_factory=list)
    progress: Progress = field(default=NULL_PROGRESS, repr=False, compare=False)
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Declared names and their addresses (a deployment file's), for node identity."""
    forced: str | None = None
    """The ``--set-node`` name: every file's node, and always the canonical name."""
    resolve: bool = True
    """Rewrite node names to canonical ones (off: layout names, for a caller that joins the
    events of several loads and identifies the nodes of the whole itself)."""
    nodes: NodeTable = field(default_factory=NodeTable)
    """Node identity, complete once ``frames()`` is exhausted (or after ``identify_nodes``)."""
    cache: ParseCache | None = None
    """The parsed-file cache (:mod:`logdoctor.ingest.cache`); None: every file is parsed."""
    messages: MessageStore | None = None
    """The store of :meth:`result` (cached segments are read into it: see CachedRead)."""
    categorical: frozenset[str] = frozenset()
    """Columns :meth:`frames` may give as ``Categorical`` (as the cache stores them, not cast
    back: :mod:`~logdoctor.ingest.cachetable`); :meth:`result` sets its own."""
    _said: list[pl.DataFrame] = field(default_factory=list, repr=False)
    _known: NodeTable | None = field(default=None, repr=False)
    _early: NodeTable | None = field(default=None, repr=False)

    def _prepare(self) -> None:
        """Before the first file is parsed: the names known without reading a line (folders,
        file names, the deployment file's addresses), for the zones. When the deployment file
        gives a zone to a node that none of those names reaches while some folder is not
        placed, the lines' own names are learnt first (:meth:`identify_nodes`), so that no
        node's times are read in a zone that is not its own."""
        if self._known is not None or self._early is not None:
            return
        self._early = self._identify()
        self.zones.rename(self._early.resolve)
        declared = set(self.zones.declared_nodes())
        if not declared or not self.resolve:
            return
        placed = {self._early.resolve(lf.node) for lf in self.files}
        if declared - placed and placed - declared:
            self.identify_nodes()

    _stated: bool = field(default=False, repr=False, compare=False)

    def _canonical(self, name: str) -> str:
        """A layout node name as the node table known so far names it."""
        table = self._known if self._known is not None else self._early
        return name if table is None else table.resolve(name)

    def record_stated_zones(self) -> None:
        """Record in ``zones`` the zone each node's own CiscoSyslog states
        (:func:`~logdoctor.ingest.opening.stated_zones`); once per load, under the node's
        canonical name."""
        if self._stated:
            return
        self._stated = True
        for node, zone, display in stated_zones(
            self.files, self.formats, self.limits, self._canonical
        ):
            self.zones.record_from_log(node, zone, display)

    def _zone(self, lf: LogFile, fmt: Format) -> tuple[Zone, str | None]:
        """The zone a file's zone-less times are read in (its node's, by the node's canonical
        name: the deployment file names nodes by host, the folder may be an IP address), and
        the file that stated it (None when the zone comes from the deployment file, ``--tz``
        or the UTC default)."""
        self.record_stated_zones()
        node = self._canonical(lf.node)
        nz = self.zones.zone_of(node)
        if not fmt.zoneless:
            return nz.zone, None
        self.zones.note_read(node, lf.display)
        return nz.zone, (nz.where if nz.source == "log" else None)

    def _whole(self, lf: LogFile, lean: bool = False) -> tuple[Piece, ParseStats]:
        """A file read in one piece: its events (or, ``lean``, their node statements)."""
        if self.cache is not None:
            read = self._cached(lf, "whole", lean)
            parts = list(read.frames())
            assert read.stats is not None
            if not parts:
                return (empty_frame(), None), read.stats
            frames = [p[0] for p in parts if p[0].height] or [parts[0][0]]
            frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
            known = [p[2] for p in parts if p[2] is not None]
            said = pl.concat(known) if len(known) == len(parts) and not lean else None
            return (frame, said), read.stats
        opened = open_file(lf, self.limits)
        if isinstance(opened, ParseStats):
            return (empty_frame(), None), opened
        fmt = detect_format(self.formats, lf.name, lf.relpath, opened.head)
        zone, source = self._zone(lf, fmt)
        keep = family_literals(fmt.family) if lean else None  # only statements are read
        frame, st = parse_bytes(
            opened.data, fmt, file=lf.display, node=lf.node, zone=zone, workers=1, keep=keep
        )
        st.zone_from = source
        return (statement_frame(frame) if lean else frame, None), opened.account(st)

    def _streamed(self, lf: LogFile, lean: bool = False) -> Iterator[Piece]:
        """A big file chunk by chunk: its events (or, ``lean``, their node statements)."""
        if self.cache is not None:
            read = self._cached(lf, "streamed", lean)
            for frame, _, said in read.frames():
                if frame.height:
                    yield frame, None if lean else said
            assert read.stats is not None
            self.stats.append(read.stats)
            return
        opened = open_file(lf, self.limits)
        if isinstance(opened, ParseStats):
            self.stats.append(opened)
            return
        fmt = detect_format(self.formats, lf.name, lf.relpath, opened.head)
        zone, source = self._zone(lf, fmt)
        parts: list[ParseStats] = []
        keep = family_literals(fmt.family) if lean else None  # only statements are read
        for c in iter_chunks(
            opened.data, fmt, file=lf.display, node=lf.node, zone=zone, workers=self.jobs, keep=keep
        ):
            parts.append(c.stats)
            if c.frame.height:
                yield statement_frame(c.frame) if lean else c.frame, None
        st = opened.account(merge_stats(parts))
        st.zone_from = source
        self.stats.append(st)

    def _cached(self, lf: LogFile, mode: str, lean: bool) -> CachedRead:
        assert self.cache is not None
        read = CachedRead(self.cache, lf, mode, self.formats, self.limits, self.jobs, self._zone)
        read.lean, read.messages, read.categorical = lean, self.messages, self.categorical
        return read

    def frames(self) -> Iterator[pl.DataFrame]:
        """Event frames in input order; ``stats`` and ``nodes`` are complete once the iterator
        is exhausted. Node names are the layout's, unless :meth:`identify_nodes` ran first:
        then they are canonical from the first frame on."""
        self._prepare()
        self.record_stated_zones()
        for frame, said in self._parsed():
            frame = with_prt_identity(frame)  # a PRT's user and device, from its folder
            self._said.append(statement_frame(frame) if said is None else said)
            if self.forced is not None and frame.height:
                # --set-node wins over the node a line names (CiscoSyslog's NodeID).
                frame = frame.with_columns(pl.lit(self.forced).alias("node"))
            yield frame if self._known is None else self._known.apply(frame)

    def read_stats(self) -> None:
        """Fill ``stats`` and ``nodes`` as exhausting :meth:`frames` does, keeping no events: a
        file in the cache gives its stored statistics and node statements (its table is not
        read), any other is parsed chunk by chunk (and stored in the cache)."""
        self._said.extend(self._statements())

    def _statements(self) -> Iterator[pl.DataFrame]:
        """The node statements of the files' events (:meth:`frames`, lean)."""
        self._prepare()
        self.record_stated_zones()
        for said, _ in self._parsed(lean=True):
            yield said

    def stating(self) -> tuple[list[LogFile], bool]:
        """The files whose lines may state a node's name (they hold one of
        :func:`~logdoctor.ingest.nodestatements.identity_literals`; a cached file's entry says
        whether it does, without a scan), and whether one of them is unknown to the cache
        (:meth:`identify_nodes` then parses it)."""
        literals = identity_literals()
        stating, unknown = [], False
        for lf in self.files:
            cache = self.cache
            said = None if cache is None else cache.states_names(lf.display, lf.local, lf.node)
            if said is None:
                said = mentions(lf, literals, self.limits)
                unknown |= said
            if said:
                stating.append(lf)
        return stating, unknown

    def identify_nodes(self, stating: list[LogFile] | None = None) -> NodeTable:
        """Learn each node's names before streaming, so that every frame of :meth:`frames`
        carries canonical names: the files that may state a name (``stating``, else
        :meth:`stating`'s) are parsed once and only their statements kept (a cached file's
        are read from its entry); the others are not parsed twice."""
        if stating is None:
            stating = self.stating()[0]
        # Names only: the times of this pass are not kept, so no zone is noted for it.
        pre = Loader(stating, self.formats, ZoneBook(self.zones.default), self.jobs, self.limits)
        pre.cache = self.cache
        pre.resolve = False
        self._said.extend(pre._statements())
        self.nodes = self._identify()
        self._said.clear()
        if self.resolve:
            self._known = self.nodes
            self.zones.rename(self.nodes.resolve)  # zones go by canonical names from now on
        return self.nodes

    def _identify(self) -> NodeTable:
        layout = [lf.node for lf in self.files]
        said = statements(pl.concat(self._said)) if self._said else []
        said += file_statements((lf.node, lf.display) for lf in self.files)
        said += file_statements(named_files((i.path for i in self.ignored), layout))
        return identify(layout, said, declared=self.aliases, forced=self.forced)

    def _parsed(self, lean: bool = False) -> Iterator[Piece]:
        """Each file's events in input order (``lean``: their node statements), each with
        its node statements when the cache knows them."""
        self.progress.stage("parsing", len(self.files), "files")
        whole = partial(self._whole, lean=lean)
        i = 0
        while i < len(self.files):
            if is_big(self.files[i]):
                yield from self._streamed(self.files[i], lean)
                self.progress.advance(1, self.files[i].display)
                i += 1
                continue
            j = i
            while j < len(self.files) and not is_big(self.files[j]):
                j += 1
            batch = self.files[i:j]
            workers = max(1, min(self.jobs, len(batch)))
            if workers == 1:
                results: Iterable[tuple[Piece, ParseStats]] = map(whole, batch)
                for piece, st in results:
                    self.stats.append(st)
                    self.progress.advance(1, st.path)
                    if piece[0].height:
                        yield piece
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    for piece, st in pool.map(whole, batch):
                        self.stats.append(st)
                        self.progress.advance(1, st.path)
                        if piece[0].height:
                            yield piece
            i = j
        self._finish()

    def _finish(self) -> None:
        # No record: no header of any format fit a line (detection fell back on the most
        # tolerant format), so only a name can say the family; and no time was read.
        blank = {st.path for st in self.stats if st.records == 0 and st.error is None}
        unnamed = {
            lf.display
            for lf in self.files
            if lf.display in blank and not named_formats(self.formats, lf.name, lf.relpath)
        }
        for st in self.stats:
            if st.path in unnamed:
                st.family = None  # neither a line nor the name says which family it is
        self.zones.forget(blank)
        for st in self.stats:
            problem = st.error if st.error is not None else st.partial
            if problem is not None and not any(e.path == st.path for e in self.errors):
                self.errors.append(InputError(st.path, problem, partial=st.error is None))
        for err in self.errors:
            if not any(s.path == err.path for s in self.stats):
                self.stats.append(ParseStats(path=err.path, error=err.message))
        self.nodes = self._identify()
        if self.resolve:
            self.stats[:] = self.nodes.apply_stats(self.stats)
            self.zones.rename(self.nodes.resolve)

    def result(
        self, categorical: Collection[str] = (), messages: MessageStore | None = None
    ) -> LoadResult:
        """Parse everything and collect the events into one LoadResult.

        ``categorical``: columns cast to polars ``Categorical`` as each frame comes (``check``
        and ``report`` load a smaller table so; :func:`load` keeps the documented String).
        ``messages``: takes the text the frame leaves null (:meth:`MessageStore.take`)."""
        self.messages, self.categorical = messages, frozenset(categorical)
        take = (lambda f: f) if messages is None else messages.take
        frames = [_categorical(take(f), categorical) for f in self.frames()]
        frame = (
            pl.concat(frames, how="vertical")
            if frames
            else _categorical(empty_frame(), categorical)
        )
        if self.resolve and self._known is None:
            frame = self.nodes.apply(frame)
        return LoadResult(
            frame=frame,
            stats=self.stats,
            errors=self.errors,
            ignored=self.ignored,
            formats=self.formats,
            nodes=self.nodes,
            messages=messages,
        )


def _categorical(frame: pl.DataFrame, columns: Collection[str]) -> pl.DataFrame:
    """``frame`` with ``columns`` (those it has) cast to ``Categorical``."""
    cast = [pl.col(c).cast(pl.Categorical()) for c in columns if c in frame.columns]
    return frame.with_columns(cast) if cast else frame


class LoadOptions(TypedDict, total=False):
    """The keywords of :func:`load` and :func:`open_inputs` (each optional)."""

    formats_dir: Iterable[str | Path]
    """Folders of format files added to the built-in ones."""
    node: str | None
    """The node of every input (``--set-node``); None: from the layout and the lines."""
    tz: str | None
    """The zone timestamps without one were written in (default UTC)."""
    jobs: int | None
    """Parsing threads (default: one per core)."""
    limits: Limits | None
    """Caps on decompression (default :class:`~logdoctor.ingest.inputs.Limits`)."""
    zones: ZoneBook | None
    """Each node's zone (replaces ``tz``)."""
    progress: Progress | None
    """Hears of each file parsed."""
    aliases: Mapping[str, Sequence[str]] | None
    """More names of nodes and their addresses (a deployment file's)."""
    cache: bool | None
    """Keep and reuse parsed files; None: as the process says."""


def open_inputs(paths: str | Path | Iterable[str | Path], **options: Unpack[LoadOptions]) -> Loader:
    """Discover the inputs and return a Loader (nothing is parsed yet); see :func:`load`.

    ``cache``: keep and reuse parsed files (:mod:`logdoctor.ingest.cache`); None: as the
    process says (:func:`logdoctor.ingest.cacheswitch.set_enabled`; off unless the command line
    turned it on)."""
    unknown = sorted(set(options) - LoadOptions.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    path_list = [str(p) for p in paths]
    tz, node, zones = options.get("tz"), options.get("node"), options.get("zones")
    book = zones if zones is not None else ZoneBook(None if tz is None else resolve_zone(tz))
    formats = load_formats(options.get("formats_dir", ()))

    def sniff(head: bytes) -> bool:
        return looks_like_log(formats, head)

    lim = options.get("limits") or Limits()
    files, errors, ignored = discover(
        path_list, formats_match=formats_matcher(formats), sniff=sniff, node=node, limits=lim
    )
    return Loader(
        files,
        formats,
        book,
        options.get("jobs") or os.cpu_count() or 1,
        lim,
        errors,
        ignored,
        progress=options.get("progress") or NULL_PROGRESS,
        aliases=dict(options.get("aliases") or {}),
        forced=node,
        cache=default_cache(formats, options.get("cache")),
    )


def load(paths: str | Path | Iterable[str | Path], **options: Unpack[LoadOptions]) -> LoadResult:
    """Load UCM logs: files, folders, globs, .gz files, zip / tar bundles.

    Each node gets one canonical name (:mod:`logdoctor.ingest.nodes`): its host name where its files
    state it, else its folder's; ``aliases`` adds names and the addresses declared for them
    (a deployment file's), ``node`` names every input's node itself. ``tz`` is the zone that
    timestamps without one were written in (default UTC); ``zones`` (a
    :class:`~logdoctor.timestamps.ZoneBook`, which replaces ``tz``) gives each node, by its
    canonical name, its zone and records which nodes' times were read in an assumed UTC; a
    node whose own CiscoSyslog states its UTC offset is read in it.
    ``progress`` hears of each file parsed. Raises ``FormatError`` for a bad format folder and
    ``ValueError`` for a bad ``tz``; unreadable inputs are listed in ``errors`` (and in
    ``stats`` with their ``error``), never skipped silently; so are inputs only partly read
    (a truncated compressed file: its ``stats`` entry has the counts of what was read and
    ``partial`` says where reading stopped). ``cache=True`` keeps each file's parsed table
    and reuses it while the file is unchanged (:mod:`logdoctor.ingest.cache`).
    """
    return open_inputs(paths, **options).result()
