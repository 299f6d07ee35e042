"""The message text out of the rule context's working table, fetched back for the rows cited.

``message`` is the larger part of the event table (243 of 354 MB on a million events), yet
``check`` and ``report`` read it for a few rows each: the evidence of a finding or a fact, an
excerpt. :meth:`MessageStore.take` keeps a frame's ``message`` only where a reader reads the
whole column (unrecognized records, mined into shapes; the edge's records, searched for a
user's tracking id and device names: :data:`KEPT_FAMILIES`) and, for every other row, puts
the text in compact blocks (zstd-compressed Arrow IPC of ``line`` and ``message``, per file
and at most :data:`BLOCK_ROWS` rows) and leaves the column null there. :meth:`MessageStore.fill`
gives such a row its text back by its file and line (a record's file and first line name it
once), decompressing only the blocks that hold the rows asked for.

A file read from the parsed-file cache does not go through :meth:`~MessageStore.take`: its
segments are read without ``message`` (:meth:`MessageStore.read_segment`) and the store
fetches the text from the segment itself, through a file handle opened then (a cache entry
replaced or pruned by another run meanwhile is still read as it was).
"""

from __future__ import annotations

import io
import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import polars as pl

__all__ = ["BLOCK_ROWS", "KEPT_FAMILIES", "OPEN_SEGMENTS", "MessageStore", "fill", "read_segment"]

BLOCK_ROWS = 16_384
"""Rows per compressed block: a fetch decompresses whole blocks (~1 ms for one)."""

KEPT_FAMILIES: tuple[str, ...] = ("expressway",)
"""Log families whose rows keep their message in the working table (besides unrecognized
records): :func:`logdoctor.analysis.usertimeline.with_edge_users` reads every edge message."""

OPEN_SEGMENTS = 256
"""At most this many cache segments are held open for their messages; the messages of the
segments read after that are taken into the store (:meth:`MessageStore.take`)."""

_OPEN_BLOCKS = 4
"""Decompressed blocks kept for the next fetch (a finding's rows, then the next one's, are
often in the same block)."""

_KEEP = (pl.col("kind") == "unrecognized") | pl.col("family").is_in(KEPT_FAMILIES)
"""The rows whose ``message`` stays in the working table."""


@dataclass(frozen=True)
class _Block:
    file: str
    first: int
    """The first line of the block (lines ascend within a file's blocks)."""
    data: bytes | int
    """zstd-compressed Arrow IPC of ``line`` and ``message``, or the file descriptor of a
    cache segment (parquet)."""


class MessageStore:
    """The text of the ``message`` column of rows that :meth:`take` left null, by file and
    line."""

    def __init__(self) -> None:
        self._blocks: list[_Block] = []
        self._by_file: dict[str, list[int]] = {}
        self._open: OrderedDict[int, pl.DataFrame] = OrderedDict()
        self._fds: list[int] = []
        self._lock = threading.Lock()
        self._closer = weakref.finalize(self, _close, self._fds)

    @property
    def compressed_bytes(self) -> int:
        """Bytes the stored text takes in memory (not counting cache segments)."""
        return sum(len(b.data) for b in self._blocks if isinstance(b.data, bytes))

    def close(self) -> None:
        """Close the cache segments held open (done when the store is collected, too)."""
        self._closer()

    def read_segment(self, path: Path) -> pl.DataFrame | None:
        """A cached segment's event table with ``message`` null but where a reader reads the
        whole column (as :meth:`take` leaves it); the store fetches the rest from the segment
        when asked. None when :data:`OPEN_SEGMENTS` are open already (read it whole)."""
        if len(self._fds) >= OPEN_SEGMENTS:
            return None
        fd = os.open(path, os.O_RDONLY)
        try:
            data = _read_all(fd)
            names = pl.read_parquet_schema(io.BytesIO(data))
            frame = pl.read_parquet(data, columns=[c for c in names if c != "message"])
            kept = frame.select(_KEEP.fill_null(False)).to_series()
            text = (
                pl.read_parquet(data, columns=["message"]).to_series()
                if kept.any()
                else pl.Series("message", [None] * frame.height, dtype=pl.String)
            )
            del data
        except BaseException:
            os.close(fd)
            raise
        return self._hold(fd, frame.with_columns(text), kept)

    def written(self, path: Path, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (a parsed chunk, just written to the cache as ``path``) with ``message``
        null where :meth:`take` would leave it: the store fetches that text from ``path``
        instead of compressing it (as it is after :data:`OPEN_SEGMENTS`, or when ``path``
        cannot be opened: ``frame`` is then returned as it is, for :meth:`take`)."""
        if len(self._fds) >= OPEN_SEGMENTS or frame.height == 0:
            return frame
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return frame
        return self._hold(fd, frame, frame.select(_KEEP.fill_null(False)).to_series())

    def _hold(self, fd: int, frame: pl.DataFrame, kept: pl.Series) -> pl.DataFrame:
        """``frame`` with ``message`` null but on the ``kept`` rows, its text left in the
        segment open as ``fd`` (closed at once when every row is kept)."""
        if kept.all() or frame.height == 0:
            os.close(fd)
            return frame
        self._register(_Block(str(frame["file"][0]), int(frame["line"][0]), fd))
        return frame.with_columns(pl.when(kept).then(pl.col("message")).alias("message"))

    def take(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (a parsed file's rows, in line order) with ``message`` null on every
        row that does not keep it: their text goes into the store."""
        if frame.height == 0 or "message" not in frame.columns:
            return frame
        kept = frame.select(_KEEP.fill_null(False)).to_series()
        stored = frame.select("file", "line", "message").filter(
            ~kept & pl.col("message").is_not_null()  # null: in a cache segment, or no text
        )
        for (file,), part in stored.partition_by("file", as_dict=True, maintain_order=True).items():
            self._add(str(file), part.select("line", "message"))
        if kept.all():
            return frame
        message = (
            frame.select(pl.when(kept).then(pl.col("message")).otherwise(None))
            if kept.any()
            else pl.DataFrame({"message": pl.Series([None] * frame.height, dtype=pl.String)})
        ).to_series()
        return frame.with_columns(message.alias("message"))

    def _add(self, file: str, rows: pl.DataFrame) -> None:
        for start in range(0, rows.height, BLOCK_ROWS):
            part = rows.slice(start, BLOCK_ROWS)
            data = part.write_ipc(None, compression="zstd").getvalue()
            self._register(_Block(file, int(part["line"][0]), data))

    def _register(self, block: _Block) -> None:
        """Add ``block`` (files are read on several threads: one at a time here)."""
        with self._lock:
            self._by_file.setdefault(block.file, []).append(len(self._blocks))
            self._blocks.append(block)
            if not isinstance(block.data, bytes):
                self._fds.append(block.data)

    def _block(self, i: int) -> pl.DataFrame:
        found = self._open.get(i)
        if found is None:
            data = self._blocks[i].data
            if isinstance(data, bytes):
                found = pl.read_ipc(io.BytesIO(data))
            else:
                found = pl.read_parquet(_read_all(data), columns=["line", "message"])
            self._open[i] = found
            while len(self._open) > _OPEN_BLOCKS:
                self._open.popitem(last=False)
        else:
            self._open.move_to_end(i)
        return found

    def texts(self, files: pl.Series, lines: pl.Series) -> pl.Series:
        """The stored message of each (file, line), null where none is stored."""
        asked = pl.DataFrame(
            {"file": files.cast(pl.String), "line": lines.cast(pl.Int64)}
        ).with_row_index("_at")
        found: list[pl.DataFrame] = []
        for (file,), part in asked.partition_by("file", as_dict=True).items():
            blocks = self._by_file.get(str(file))
            if not blocks or file is None:
                continue
            firsts = pl.Series([self._blocks[i].first for i in blocks], dtype=pl.Int64)
            if not firsts.is_sorted():  # not one file read in line order: look in every block
                for i in blocks:
                    found.append(part.join(self._block(i), on="line").select("_at", "message"))
                continue
            where = firsts.search_sorted(part["line"], side="right").cast(pl.Int64) - 1
            part = part.with_columns(where.alias("_b"))
            for (b,), rows in part.partition_by("_b", as_dict=True).items():
                if b is None or int(b) < 0:
                    continue
                block = self._block(blocks[int(b)])
                found.append(rows.join(block, on="line", how="inner").select("_at", "message"))
        out = pl.Series("message", [None] * asked.height, dtype=pl.String)
        if found:
            hits = pl.concat(found)
            out = out.scatter(hits["_at"], hits["message"])
        return out

    def fill(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the stored message of each row whose ``message`` is null (or
        absent): rows of the working table, by their ``file`` and ``line``."""
        if frame.height == 0 or "file" not in frame.columns or "line" not in frame.columns:
            return frame
        if "message" not in frame.columns:
            return frame.with_columns(self.texts(frame["file"], frame["line"]))
        have = frame["message"]
        if not have.null_count():
            return frame
        at = have.is_null().arg_true()
        stored = self.texts(frame["file"].gather(at), frame["line"].gather(at))
        return frame.with_columns(have.scatter(at, stored).alias("message"))


def _read_all(fd: int) -> bytes:
    """The whole content of the file open as ``fd`` (from its start)."""
    size = os.fstat(fd).st_size
    data = os.pread(fd, size, 0)
    while len(data) < size:  # a short read: go on where it stopped
        more = os.pread(fd, size - len(data), len(data))
        if not more:
            raise OSError(f"a cache segment ended at {len(data)} of {size} bytes")
        data += more
    return data


def _close(fds: list[int]) -> None:
    """Close ``fds`` (and empty the list)."""
    while fds:
        os.close(fds.pop())


def read_segment(path: Path, store: MessageStore | None) -> pl.DataFrame:
    """A cache segment's event table: read by ``store`` (:meth:`MessageStore.read_segment`)
    when there is one and it takes it, else whole."""
    read = None if store is None else store.read_segment(path)
    return pl.read_parquet(path) if read is None else read


def fill(frame: pl.DataFrame, store: MessageStore | None) -> pl.DataFrame:
    """``store.fill(frame)``, or ``frame`` when there is no store (a table that kept every
    message: ``logdoctor.load``'s, the fleet's)."""
    return frame if store is None else store.fill(frame)
