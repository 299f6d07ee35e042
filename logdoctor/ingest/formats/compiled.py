"""Compiled, checked formats kept between runs: each format file is compiled and its samples
checked once per version, not on every run.

An entry is one format file as :func:`logdoctor.ingest.formats.spec.load_format` compiles it,
after its sample check passed, stored with :mod:`pickle` next to its key (an entry whose key is
not its file name is never used). Its key hashes the file's bytes, its
path and whether it is built in, logdoctor's, polars' and Python's versions and the source of
the modules that compile and check formats (so an edit of either, or an upgrade, is a miss
and the file is compiled and checked again). Entries live beside the parsed-file cache
(:func:`logdoctor.ingest.cache.cache_dir` with ``-formats`` appended to its name:
``~/.cache/logdoctor/parsed-formats``), in a private folder (0700), files 0600; an entry owned
by another user or writable by others is never read. Anything that goes wrong (an unwritable
folder, a damaged or stale entry) costs only the compile and the check: the file is loaded as
if there were no cache. ``LOGDOCTOR_NO_CACHE=1`` neither reads nor writes entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path

from logdoctor.ingest.codehash import code_hash
from logdoctor.ingest.formats.types import Format
from logdoctor.ingest.privatefiles import beside_cache, enabled, safe_entry, touch, write_entry

__all__ = ["KEEP", "cached_format", "enabled", "formats_cache_dir", "lookup"]

_LAYOUT = 2
"""Bumped when what an entry holds changes."""

KEEP = 64
"""Entries kept; older ones are removed when a new one is written."""


def formats_cache_dir() -> Path:
    """Where entries are kept (see the module's docstring)."""
    return beside_cache("-formats")


def _code_hash() -> bytes:
    """This layout and :func:`~logdoctor.ingest.codehash.code_hash`."""
    return hashlib.sha256(f"{_LAYOUT}|".encode() + code_hash()).digest()


def _key(path: Path, content: bytes, builtin: bool) -> str:
    h = hashlib.sha256(_code_hash())
    h.update(f"|{path}|{builtin}|".encode())
    h.update(content)
    return h.hexdigest()


def lookup(path: Path, content: bytes, builtin: bool) -> Format | None:
    """The compiled, checked format of this file's ``content``, if an entry holds it."""
    key = _key(path, content, builtin)
    entry = formats_cache_dir() / key
    if not safe_entry(entry):
        return None
    try:
        held, f = pickle.loads(entry.read_bytes())
    except Exception:  # a damaged entry: compile again
        with contextlib.suppress(OSError):
            entry.unlink()
        return None
    if held != key or not isinstance(f, Format):
        return None  # an entry written for another key
    touch(entry)
    return f


def _store(f: Format, content: bytes) -> None:
    """Keep ``f`` (compiled and checked from ``content``); a failure only costs the next run."""
    key = _key(Path(f.path), content, f.builtin)
    try:
        data = pickle.dumps((key, f), protocol=pickle.HIGHEST_PROTOCOL)
        write_entry(formats_cache_dir(), key, data, KEEP)
    except (OSError, pickle.PicklingError):
        return


def cached_format(path: Path, builtin: bool, check: Callable[[Format], None]) -> Format:
    """The format file at ``path`` compiled and checked by ``check``: from an entry when one
    holds this content, else compiled, checked and kept (errors of either are raised as
    :class:`~logdoctor.ingest.formats.types.FormatError`, nothing is kept)."""
    content: bytes | None = None
    if enabled():
        with contextlib.suppress(OSError):
            content = path.read_bytes()
    if content is not None:
        hit = lookup(path, content, builtin)
        if hit is not None:
            return hit
    from logdoctor.ingest.formats.spec import load_format  # polars: only on a miss

    f = load_format(path, builtin=builtin)
    check(f)
    if content is not None and _unchanged(path, content):
        _store(f, content)
    return f


def _unchanged(path: Path, content: bytes) -> bool:
    """True when the file still holds ``content`` (it was not edited while being compiled)."""
    try:
        return path.read_bytes() == content
    except OSError:
        return False
