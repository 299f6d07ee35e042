"""One hash of the code that a cached result depends on: logdoctor's, polars' and Python's
versions and the source of the modules that read logs (the formats, the parse engines, the
parsed-file cache, how it stores and reads back a table, and node names, and the ground
modules under them). The compiled formats
(:mod:`logdoctor.ingest.formats.compiled`) and the parsed-file cache
(:mod:`logdoctor.ingest.cache`) key their entries with it, so that an edit of any of these
modules is a miss for both."""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

__all__ = ["SOURCES", "code_hash"]

SOURCES = (
    "ingest/formats/spec.py",
    "ingest/formats/types.py",
    "ingest/formats/catalog.py",
    "ingest/formats/templates.py",
    "ingest/formats/regex_tokens.py",
    "ingest/formats/check.py",
    "ingest/formats/templatecheck.py",
    "ingest/formats/compiled.py",
    "ingest/regexes.py",
    "ingest/clocks.py",
    "ingest/decoding.py",
    "ingest/parse/__init__.py",
    "ingest/parse/blocks.py",
    "ingest/parse/bulk.py",
    "ingest/parse/classify.py",
    "ingest/parse/common.py",
    "ingest/parse/header.py",
    "ingest/parse/line.py",
    "ingest/parse/pieces.py",
    "ingest/parse/span.py",
    "ingest/parse/window.py",
    "ingest/cache.py",
    "ingest/cachekey.py",
    "ingest/cachetable.py",
    "ingest/cacheseam.py",
    "ingest/nodestatements.py",
    "ingest/nodenames.py",
    "model.py",
    "table.py",
    "timestamps.py",
)
"""The modules (relative to the package) whose code a compiled format or a cached table
depends on."""


@cache
def code_hash() -> bytes:
    """The versions and the source of :data:`SOURCES`, hashed once per process (a missing
    module hashes as missing)."""
    from logdoctor import __version__

    h = hashlib.sha256(f"{__version__}|{_polars_version()}|{sys.version}".encode())
    package = Path(__file__).resolve().parents[1]
    for name in SOURCES:
        try:
            h.update((package / name).read_bytes())
        except OSError:
            h.update(f"missing {name}".encode())
    return h.digest()


def _polars_version() -> str:
    """polars' version, read from its installed metadata (importing polars costs a command
    that does not use it, such as ``kinds`` with the compiled formats cached, ~0.08 CPU-s)."""
    try:
        return metadata.version("polars")
    except metadata.PackageNotFoundError:  # not installed as a distribution: ask polars
        import polars as pl

        return pl.__version__
