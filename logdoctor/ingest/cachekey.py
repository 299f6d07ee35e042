"""The parsed-file cache's keys and entries (:mod:`logdoctor.ingest.cache`): where the cache
lives, an entry's segments and how their statistics are written, the file on disk that keys a
log file, and the zone as it enters a key."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logdoctor.table import ParseStats
from logdoctor.timestamps import Zone

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Entry", "Segment", "cache_dir", "container", "said_frame", "said_rows", "zone_key"]

_VERSION = 3
"""Bumped when the entry layout changes (2: each segment keeps its node statements; 3: the
tables keep the few-valued columns as ``Categorical``, :mod:`logdoctor.ingest.cachetable`)."""

_HEAD = 1 << 16
"""Bytes hashed at the start of a file and before its last chunk, to tell growth from
replacement."""


def cache_dir() -> Path:
    """Where entries are kept (see the module's docstring)."""
    explicit = os.environ.get("LOGDOCTOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "logdoctor" / "parsed"


@dataclass
class Segment:
    """One cached chunk: its byte span, physical lines, flags and partial statistics."""

    start: int
    end: int
    lines: int
    continues: bool
    rows: int
    stats: ParseStats
    name: str = ""
    """Its parquet file in the entry's folder."""
    said: list[list[Any]] = field(default_factory=list)
    """Its rows' node statements (:func:`logdoctor.ingest.nodes.statement_frame`'s rows), so
    that statistics and node names come from the entry without reading the table."""


@dataclass
class Entry:
    """A cache entry's key and its segments (in file order)."""

    key: dict[str, Any]
    segments: list[Segment] = field(default_factory=list)
    decode_errors: int = 0
    partial: str | None = None


def _stats_dict(st: ParseStats) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(ParseStats):
        v = getattr(st, f.name)
        out[f.name] = v.isoformat() if isinstance(v, datetime) else v
    return out


def _stats_from(d: dict[str, Any]) -> ParseStats:
    st = ParseStats(path=str(d["path"]))
    for f in fields(ParseStats):
        if f.name not in d:
            raise KeyError(f.name)
        v = d[f.name]
        if f.name in ("first_time", "last_time") and v is not None:
            v = datetime.fromisoformat(v)
        setattr(st, f.name, v)
    return st


def zone_key(zone: Zone) -> str:
    """A zone as text for a key."""
    return f"{zone.name}|{zone.polars_name}|{zone.offset}"


def container(display: str, local: Path | None) -> Path | None:
    """The file on disk that holds a log file: itself, the ``.gz`` file, or the outermost
    archive of ``archive.zip!member`` (None when there is none)."""
    if local is not None:
        return local
    candidate = Path(display)
    if candidate.is_file():
        return candidate
    parts = display.split("!")
    for i in range(1, len(parts)):
        candidate = Path("!".join(parts[:i]))
        if candidate.is_file():
            return candidate
    return None


def _digest(path: Path, start: int, size: int) -> str:
    with path.open("rb") as fh:
        fh.seek(start)
        return hashlib.sha256(fh.read(size)).hexdigest()


def said_frame(rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    """A segment's node statements as :func:`logdoctor.ingest.nodes.statement_frame` gives
    them (columns node, name, weight, count, source)."""
    import polars as pl  # here: cache_dir's users (the compiled formats) do not need it

    from logdoctor.ingest.nodestatements import _STATEMENT_SCHEMA

    return pl.DataFrame([list(r) for r in rows], schema=_STATEMENT_SCHEMA, orient="row")


def said_rows(raw: object) -> list[list[Any]]:
    """A segment's stored statements, checked (ValueError: not what :meth:`Writer.add`
    wrote)."""
    types = (str, str, int, int, str)
    if not isinstance(raw, list) or not all(
        isinstance(r, list)
        and len(r) == len(types)
        and all(isinstance(v, t) for v, t in zip(r, types, strict=True))
        for r in raw
    ):
        raise ValueError("node statements: not rows of (node, name, weight, count, source)")
    return raw
