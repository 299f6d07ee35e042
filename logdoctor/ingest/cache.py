"""The parsed-bundle cache: each file's event table kept as parquet, reused while the file is
unchanged.

An entry is one file of a bundle (a plain file, or a member of an archive or a ``.gz`` file:
then keyed by the file on disk that holds it). Its key is the path on disk, the name shown
(``display``) and node of the file, the size, modification time, inode and device of the file
on disk, a hash of the formats (their files, logdoctor's and polars' versions and the parse
engine's source: it names the entry's folder too, so versions sharing a cache keep one each),
the zone its zone-less times were read in, and how it was read (whole or streamed). Any
difference is a miss. A plain file that only grew (same inode and device, the bytes before its
last record unchanged: lines were appended) is re-parsed from the start of its last cached
chunk only, its last record being a chunk of its own (``iter_chunks``' ``split_tail``).

The cache lives in ``$LOGDOCTOR_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/logdoctor/parsed``
(``~/.cache/logdoctor/parsed``), folders created private (0700). An entry that cannot be read
back (a damaged or half-written file) is removed and the file parsed again: a cache never
changes a result. When the folder grows past :data:`MAX_BYTES` (``LOGDOCTOR_CACHE_MAX_MB``), the
least recently used entries are removed. ``LOGDOCTOR_NO_CACHE=1`` turns the cache off, as the
command line's ``--no-cache`` does; the library's :func:`logdoctor.load` uses it only when asked
(``cache=True``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from logdoctor.ingest import cacheswitch
from logdoctor.ingest.cachekey import (
    _HEAD,
    _VERSION,
    Entry,
    Segment,
    _digest,
    _stats_dict,
    _stats_from,
    cache_dir,
    container,
    said_frame,
    said_rows,
    zone_key,
)
from logdoctor.ingest.cachetable import read_back, stored
from logdoctor.ingest.codehash import code_hash
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.messages import MessageStore, read_segment
from logdoctor.ingest.nodestatements import statement_frame
from logdoctor.ingest.parse.bulk import Chunk
from logdoctor.table import ParseStats
from logdoctor.timestamps import Zone

__all__ = [
    "MAX_BYTES",
    "CacheCounts",
    "Entry",
    "ParseCache",
    "Segment",
    "cache_dir",
    "default_cache",
]


MAX_BYTES = 4 << 30
"""The cache folder is pruned (least recently used entries first) past this many bytes."""

SPLIT_TAIL = 256 << 10
"""Files at least this big keep their last record as a chunk of its own (see the module)."""


def default_cache(formats: Sequence[Format], enabled: bool | None = None) -> ParseCache | None:
    """The process's cache for these formats, or None when it is off (``enabled`` None: as
    :mod:`logdoctor.ingest.cacheswitch` says; ``LOGDOCTOR_NO_CACHE`` always turns it off)."""
    on = cacheswitch.enabled() if enabled is None else enabled
    if not on or os.environ.get("LOGDOCTOR_NO_CACHE"):
        return None
    return ParseCache(cache_dir(), formats)


@dataclass
class CacheCounts:
    """What the cache did during a load (for tests and ``--verbose`` callers)."""

    hits: int = 0
    misses: int = 0
    grown: int = 0
    """Files that grew, re-parsed from their last chunk only."""
    bad: int = 0
    """Entries that could not be read back (removed; the file was parsed again)."""
    stored: int = 0
    tail_bytes: int = 0
    """Bytes re-parsed for grown files."""


def formats_hash(formats: Sequence[Format]) -> str:
    """A hash of everything a parse depends on besides the file: each format file's bytes
    (and its order), and :func:`~logdoctor.ingest.codehash.code_hash`."""
    h = hashlib.sha256(f"{_VERSION}|".encode() + code_hash())
    for f in formats:
        h.update(f"|{f.name}|{f.path}|{f.builtin}|".encode())
        try:
            h.update(Path(f.path).read_bytes())
        except OSError:
            h.update(repr(f).encode())
    return h.hexdigest()


class ParseCache:
    """Cached event tables for files parsed with ``formats`` (see the module's docstring)."""

    def __init__(self, root: Path, formats: Sequence[Format], max_bytes: int | None = None):
        self.root = root
        self.formats = list(formats)
        self.formats_hash = formats_hash(formats)
        limit = os.environ.get("LOGDOCTOR_CACHE_MAX_MB")
        self.max_bytes = (
            max_bytes if max_bytes is not None else int(limit) << 20 if limit else MAX_BYTES
        )
        self.counts = CacheCounts()

    # -- keys -------------------------------------------------------------------------------

    def _folder(self, path: Path, display: str, node: str) -> Path:
        ident = "\0".join((self.formats_hash, str(path.resolve()), display, node))
        return self.root / hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()[:40]

    def key(
        self, display: str, local: Path | None, node: str, fmt: Format, zone: Zone, mode: str
    ) -> dict[str, Any] | None:
        """The key of a file as it is now (None: it has no file on disk to key it by)."""
        path = container(display, local)
        if path is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        return {
            "version": _VERSION,
            "path": str(path.resolve()),
            "plain": local is not None,
            "display": display,
            "node": node,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "inode": st.st_ino,
            "dev": st.st_dev,
            "formats": self.formats_hash,
            "format": fmt.name,
            "zone": zone_key(zone),
            "mode": mode,
        }

    # -- reading -----------------------------------------------------------------------------

    def _read_entry(self, folder: Path) -> Entry | None:
        try:
            raw = json.loads((folder / "key.json").read_text(encoding="utf-8"))
            if raw["key"]["version"] != _VERSION:
                return None  # an older layout: a miss, replaced when the file is stored
            segs = [
                Segment(
                    int(s["start"]),
                    int(s["end"]),
                    int(s["lines"]),
                    bool(s["continues"]),
                    int(s["rows"]),
                    _stats_from(s["stats"]),
                    str(s["name"]),
                    said_rows(s["said"]),
                )
                for s in raw["segments"]
            ]
            return Entry(dict(raw["key"]), segs, int(raw["decode_errors"]), raw["partial"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            self._drop(folder)
            self.counts.bad += 1
            return None

    def lookup(
        self,
        display: str,
        local: Path | None,
        node: str,
        zone_of: Callable[[Format], Zone],
        mode: str,
    ) -> Lookup | None:
        """What the cache holds for a file: all of it (``Lookup.rest`` None), the part before
        its last chunk when the file grew, or None (a miss). ``zone_of``: the zone a file of
        a format is read in (asked for the format the entry was parsed with)."""
        path = container(display, local)
        if path is None:
            return None
        folder = self._folder(path, display, node)
        entry = self._read_entry(folder)
        fmt = None if entry is None else self._format(entry.key.get("format"))
        if entry is None or fmt is None:
            self.counts.misses += 1
            return None
        key = self.key(display, local, node, fmt, zone_of(fmt), mode)
        if key is None:
            return None
        if all(entry.key.get(k) == v for k, v in key.items()):
            self.counts.hits += 1
            return Lookup(self, folder, entry, key, fmt, entry.segments, None)
        grown = self._grown(entry.key, key, entry, fmt)
        if grown is None:
            self.counts.misses += 1
            return None
        self.counts.grown += 1
        self.counts.tail_bytes += key["size"] - grown
        return Lookup(self, folder, entry, key, fmt, entry.segments[:-1], grown)

    def states_names(self, display: str, local: Path | None, node: str) -> bool | None:
        """Whether a line of the file states a node's name, as its entry recorded it (an
        entry stored since the file last changed, in whatever zone or mode); None when there
        is no such entry. Cheaper than scanning the file for
        :func:`~logdoctor.ingest.nodes.identity_literals`."""
        path = container(display, local)
        if path is None:
            return None
        entry = self._read_entry(self._folder(path, display, node))
        try:
            st = path.stat()
        except OSError:
            return None
        if entry is None or entry.key.get("formats") != self.formats_hash:
            return None
        now = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        if now != tuple(entry.key.get(k) for k in ("size", "mtime_ns", "inode", "dev")):
            return None
        return any(seg.said for seg in entry.segments)

    def _format(self, name: object) -> Format | None:
        return next((f for f in self.formats if f.name == name), None)

    def _grown(
        self, old: dict[str, Any], new: dict[str, Any], entry: Entry, fmt: Format
    ) -> int | None:
        """The offset to re-parse from when the file only grew since ``old`` (else None)."""
        same = [
            "version",
            "path",
            "plain",
            "display",
            "node",
            "inode",
            "dev",
            "formats",
            "format",
            "zone",
            "mode",
        ]
        if not new["plain"] or any(old[k] != new[k] for k in same):
            return None
        if new["size"] <= old["size"] or len(entry.segments) < 2 or entry.partial is not None:
            return None
        if fmt.links:
            return None  # a link may fill earlier rows from a later one
        tail = entry.segments[-1]
        if tail.continues or tail.stats.nul_bytes:
            return None
        path = Path(new["path"])
        try:
            head = _digest(path, 0, min(_HEAD, tail.start))
            before = _digest(path, max(0, tail.start - _HEAD), min(_HEAD, tail.start))
        except OSError:
            return None
        if head != old.get("head") or before != old.get("before"):
            return None
        return tail.start

    # -- writing -----------------------------------------------------------------------------

    def store(
        self,
        folder: Path,
        key: dict[str, Any],
        segments: Sequence[Segment],
        decode_errors: int,
        partial: str | None,
    ) -> None:
        """Write an entry (its segments' tables are in ``folder`` already); errors only cost
        the cache."""
        try:
            gen = secrets.token_hex(6)
            out = [
                {
                    "start": seg.start,
                    "end": seg.end,
                    "lines": seg.lines,
                    "continues": seg.continues,
                    "rows": seg.rows,
                    "stats": _stats_dict(seg.stats),
                    "name": seg.name,
                    "said": seg.said,
                }
                for seg in segments
            ]
            key = dict(key)
            if key["plain"] and len(segments) > 1:
                path = Path(key["path"])
                tail = segments[-1].start
                key["head"] = _digest(path, 0, min(_HEAD, tail))
                key["before"] = _digest(path, max(0, tail - _HEAD), min(_HEAD, tail))
            doc = {"key": key, "segments": out, "decode_errors": decode_errors, "partial": partial}
            tmp = folder / f"key.json.{gen}"
            tmp.write_text(json.dumps(doc), encoding="utf-8")
            os.replace(tmp, folder / "key.json")
            keep = {s["name"] for s in out} | {"key.json"}
            for p in folder.iterdir():
                if p.name not in keep and not p.name.startswith("key.json."):
                    p.unlink(missing_ok=True)
            self.counts.stored += 1
        except (OSError, pl.exceptions.PolarsError):
            self._drop(folder)
            return
        self._prune(keep=folder)

    def _write_frame(self, folder: Path, name: str, frame: pl.DataFrame) -> pl.DataFrame:
        """One segment's table, in the entry's folder (created private); the table as
        stored (:func:`~logdoctor.ingest.cachetable.stored`)."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        table = stored(frame)
        table.write_parquet(folder / name, compression="lz4", statistics=False)
        return table

    def _drop(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        """Remove the least recently used entries (never ``keep``, the one just written)
        while the folder is over its limit."""
        try:
            entries = []
            total = 0
            for d in self.root.iterdir():
                if d == keep:
                    continue
                size = sum(p.stat().st_size for p in d.iterdir())
                key = d / "key.json"
                used = key.stat().st_mtime if key.exists() else 0.0
                entries.append((used, size, d))
                total += size
        except OSError:
            return
        for _, size, d in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            self._drop(d)
            total -= size

    def writer(
        self,
        display: str,
        local: Path | None,
        node: str,
        fmt: Format,
        zone: Zone,
        mode: str,
    ) -> Writer | None:
        """Collects a file's chunks as it is parsed; None when the file cannot be keyed."""
        key = self.key(display, local, node, fmt, zone, mode)
        if key is None:
            return None
        return Writer(self, self._folder(Path(key["path"]), display, node), key, [])


@dataclass
class Writer:
    """The chunks of a file being parsed: each chunk's table is written to the entry's folder
    as it comes (nothing is held for the cache), the entry's key by :meth:`finish` (kept
    segments first)."""

    cache: ParseCache
    folder: Path
    key: dict[str, Any]
    segments: list[Segment]
    gen: str = field(default_factory=lambda: secrets.token_hex(6))
    """This writer's prefix of the tables it writes."""
    failed: bool = False
    """A table could not be written: nothing is stored."""

    def add(self, chunk: Chunk) -> tuple[Segment, pl.DataFrame]:
        """One more chunk, in file order; its segment (with its node statements) and its table
        as stored (the chunk's own when it could not be written)."""
        seg = Segment(
            chunk.start, chunk.end, chunk.lines, chunk.continues, chunk.frame.height, chunk.stats
        )
        # The stats object is the caller's: keep a copy of it as it is now.
        seg.stats = _stats_from(_stats_dict(chunk.stats))
        seg.said = [list(r) for r in statement_frame(chunk.frame).rows()]
        seg.name = f"{self.gen}-{len(self.segments)}.parquet"
        table = chunk.frame
        if not self.failed:
            try:
                table = self.cache._write_frame(self.folder, seg.name, chunk.frame)
            except (OSError, pl.exceptions.PolarsError):
                self.failed = True
        self.segments.append(seg)
        return seg, table

    def finish(self, decode_errors: int, partial: str | None) -> None:
        """Store the entry, unless a table could not be written or the file changed while it
        was read (then the tables written are removed)."""
        try:
            st = Path(self.key["path"]).stat()
            same = (st.st_size, st.st_mtime_ns, st.st_ino) == (
                self.key["size"],
                self.key["mtime_ns"],
                self.key["inode"],
            )
        except OSError:
            same = False
        if self.failed or not same:
            for p in self.folder.glob(f"{self.gen}-*.parquet"):
                p.unlink(missing_ok=True)
            return
        self.cache.store(self.folder, self.key, self.segments, decode_errors, partial)


@dataclass
class Lookup:
    """A hit (``rest`` None: every segment) or a grown file (``rest``: the offset to re-parse
    from; ``segments`` are those before it)."""

    cache: ParseCache
    folder: Path
    entry: Entry
    key: dict[str, Any]
    fmt: Format
    segments: list[Segment]
    rest: int | None

    @property
    def decode_errors(self) -> int:
        """Decode errors counted while reading the file (a ``.gz`` member's), not parsing."""
        return self.entry.decode_errors

    @property
    def partial(self) -> str | None:
        """Why only part of the file could be read, as when it was parsed."""
        return self.entry.partial

    @property
    def first_line(self) -> int:
        """Lines before ``rest``."""
        return sum(s.lines for s in self.segments)

    def frames(
        self, messages: MessageStore | None = None, keep: Collection[str] = ()
    ) -> Iterator[tuple[pl.DataFrame, ParseStats, pl.DataFrame]]:
        """The cached segments' frames, statistics and node statements
        (:func:`~logdoctor.ingest.cachekey.said_frame`), in order; raises on a damaged entry
        (then parsed again: :meth:`ParseCache.forget`); ``messages``: see its ``read_segment``;
        ``keep``: columns left ``Categorical`` (:func:`~logdoctor.ingest.cachetable.read_back`)."""
        for seg in self.segments:
            frame = read_back(
                read_segment(self.folder / seg.name, messages), seg.name, seg.rows, keep
            )
            yield frame, seg.stats, said_frame(seg.said)

    def statements(self) -> Iterator[tuple[pl.DataFrame, ParseStats, pl.DataFrame]]:
        """As :meth:`frames`, each segment's node statements in place of its frame: read
        from the entry's key alone (its tables are not opened)."""
        for seg in self.segments:
            said = said_frame(seg.said)
            yield said, seg.stats, said

    def writer(self) -> Writer:
        """A writer that keeps this lookup's segments and adds the re-parsed ones."""
        return Writer(self.cache, self.folder, self.key, list(self.segments))

    def touch(self) -> None:
        """Mark the entry used (for pruning)."""
        with contextlib.suppress(OSError):
            os.utime(self.folder / "key.json")

    def forget(self) -> None:
        """Remove a damaged entry (counted as bad, not as a hit)."""
        self.cache._drop(self.folder)
        counts = self.cache.counts
        counts.bad += 1
        if self.rest is None:
            counts.hits -= 1
        else:
            counts.grown -= 1
            counts.tail_bytes -= self.key["size"] - self.rest
