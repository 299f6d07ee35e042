"""One hash of the code that a cached result depends on: logdoctor's, polars' and Python's
versions and the source of the modules that read logs (the formats, the parse engines, the
parsed-file cache and node names, and the ground modules under them). The compiled formats
(:mod:`logdoctor.ingest.formats.compiled`) and the parsed-file cache
(:mod:`logdoctor.ingest.cache`) key their entries with it, so that an edit of any of these
modules is a miss for both."""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from pathlib import Path

import polars as pl

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
    "ingest/cache.py",
    "ingest/cachekey.py",
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

    h = hashlib.sha256(f"{__version__}|{pl.__version__}|{sys.version}".encode())
    package = Path(__file__).resolve().parents[1]
    for name in SOURCES:
        try:
            h.update((package / name).read_bytes())
        except OSError:
            h.update(f"missing {name}".encode())
    return h.digest()
