"""The Python API: ``logdoctor.load(paths)`` gives the event table and per-file statistics.

Files are parsed one per task on a thread pool (polars releases the GIL, so two cores parse two
files at once); results come back in input order, so a load is deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from logdoctor.detect import detect_format, is_binary, looks_like_log
from logdoctor.formats import Format, load_formats
from logdoctor.model import COLUMNS, DTYPES, ParseStats
from logdoctor.parse import empty_frame, parse_bytes
from logdoctor.sources import Ignored, InputError, Limits, LogFile, SourceError, discover
from logdoctor.timestamps import Zone, resolve_zone

if TYPE_CHECKING:  # pandas is imported when a caller asks for it (it costs 0.3 s to import)
    import pandas as pd

__all__ = ["LoadResult", "load", "load_files", "to_pandas"]


@dataclass
class LoadResult:
    """What a load produced: the events, per-file statistics, and what could not be read."""

    frame: pl.DataFrame
    """The event table as a polars DataFrame (the engine's own form)."""
    stats: list[ParseStats]
    errors: list[InputError] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    formats: list[Format] = field(default_factory=list)

    @cached_property
    def events(self) -> "pd.DataFrame":  # noqa: UP037
        """The event table as a pandas DataFrame with the documented dtypes."""
        return to_pandas(self.frame)


def to_pandas(frame: pl.DataFrame) -> "pd.DataFrame":  # noqa: UP037
    """Convert an engine frame to the pandas event table (columns and dtypes of model.DTYPES)."""
    df = frame.select(COLUMNS).to_pandas()
    return df.astype({c: DTYPES[c] for c in COLUMNS})


def _parse_one(
    lf: LogFile, formats: Sequence[Format], zone: Zone, limits: Limits
) -> tuple[pl.DataFrame, ParseStats]:
    data: bytes | Path
    try:
        if lf.local is not None and lf.local.stat().st_size <= limits.max_file_bytes:
            # A plain file: let the engine read it (no copy through Python).
            with lf.local.open("rb") as fh:
                head = fh.read(1 << 16)
            data = lf.local
        else:
            data = lf.read()
            head = data[: 1 << 16]
    except SourceError as exc:
        st = ParseStats(path=lf.display, node=lf.node)
        st.error = str(exc).split(": ", 1)[-1] if str(exc).startswith(lf.display) else str(exc)
        return empty_frame(), st
    except OSError as exc:
        st = ParseStats(path=lf.display, node=lf.node)
        st.error = f"cannot read ({exc.strerror or exc})"
        return empty_frame(), st
    if is_binary(head):
        st = ParseStats(path=lf.display, node=lf.node, bytes=len(head))
        st.error = "binary content (NUL or control bytes), not a text log"
        return empty_frame(), st
    fmt = detect_format(formats, lf.name, lf.relpath, head)
    return parse_bytes(data, fmt, file=lf.display, node=lf.node, zone=zone)


def load_files(
    files: Sequence[LogFile],
    formats: Sequence[Format],
    *,
    zone: Zone | None = None,
    jobs: int | None = None,
    limits: Limits | None = None,
) -> tuple[pl.DataFrame, list[ParseStats]]:
    """Parse already discovered files; frames are concatenated in input order."""
    zone = zone or resolve_zone(None)
    lim = limits or Limits()
    workers = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))
    if workers == 1:
        results = [_parse_one(f, formats, zone, lim) for f in files]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda f: _parse_one(f, formats, zone, lim), files))
    frames = [r[0] for r in results if r[0].height]
    frame = pl.concat(frames, how="vertical") if frames else empty_frame()
    return frame, [r[1] for r in results]


def load(
    paths: str | Path | Iterable[str | Path],
    *,
    formats_dir: Iterable[str | Path] = (),
    node: str | None = None,
    tz: str | None = None,
    jobs: int | None = None,
    limits: Limits | None = None,
) -> LoadResult:
    """Load UCM logs: files, folders, globs, .gz files, zip / tar bundles.

    ``node`` overrides the node name taken from the bundle layout; ``tz`` is the zone that
    timestamps without one were written in (default UTC). Raises ``FormatError`` for a bad
    format folder and ``ValueError`` for a bad ``tz``; unreadable inputs are listed in
    ``errors`` (and in ``stats`` with their ``error``), never skipped silently.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    path_list = [str(p) for p in paths]
    zone = resolve_zone(tz)
    formats = load_formats(formats_dir)

    def matches(name: str, rel: str) -> bool:
        return any(f.matches_name(name) or f.matches_path(rel) for f in formats)

    def sniff(head: bytes) -> bool:
        return looks_like_log(formats, head)

    files, errors, ignored = discover(
        path_list, formats_match=matches, sniff=sniff, node=node, limits=limits
    )
    frame, stats = load_files(files, formats, zone=zone, jobs=jobs, limits=limits)
    for st in stats:
        if st.error is not None:
            errors.append(InputError(st.path, st.error))
    for err in errors:
        if not any(s.path == err.path for s in stats):
            stats.append(ParseStats(path=err.path, error=err.message))
    return LoadResult(frame=frame, stats=stats, errors=errors, ignored=ignored, formats=formats)
