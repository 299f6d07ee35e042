"""Entries kept between runs in a private cache folder, for results that carry code: the
compiled formats (:mod:`logdoctor.ingest.formats.compiled`, pickled) and the report templates'
compiled code (:mod:`logdoctor.outputs.templatecache`, marshalled). Reading either runs what
it holds, so an entry is read only when it is a regular file of this user that nobody else
may write (:func:`safe_entry`), and written into a folder made private (0700) as a file only
its user may read (0600), under a temporary name then renamed (:func:`write_entry`): a reader
never sees half an entry. The least recently used entries past a count are removed. Each
kind lives in a folder beside the parsed-file cache's (:func:`beside_cache`), and
``LOGDOCTOR_NO_CACHE=1`` turns every kind off (:func:`enabled`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

__all__ = ["beside_cache", "enabled", "safe_entry", "touch", "write_entry"]


def beside_cache(suffix: str) -> Path:
    """The folder of a kind of entry: the parsed-file cache's folder
    (:func:`logdoctor.ingest.cachekey.cache_dir`) with ``suffix`` appended to its name."""
    from logdoctor.ingest.cachekey import cache_dir  # its ground modules load polars

    parsed = cache_dir()
    return parsed.with_name(parsed.name + suffix)


def enabled() -> bool:
    """False when ``LOGDOCTOR_NO_CACHE`` is set."""
    return not os.environ.get("LOGDOCTOR_NO_CACHE")


def safe_entry(entry: Path) -> bool:
    """True for a regular file of ours that nobody else may write."""
    try:
        st = entry.stat()
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return stat.S_ISREG(st.st_mode) and mine and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def touch(entry: Path) -> None:
    """Mark ``entry`` recently used (its modification time; nothing if that fails)."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def write_entry(folder: Path, name: str, data: bytes, keep: int) -> None:
    """Write ``data`` as the entry ``name`` of ``folder`` (created private), then remove all
    but the ``keep`` most recently used entries. Raises OSError when it cannot."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    entry = folder / name
    tmp = folder / f".{name}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, entry)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _prune(folder, keep)


def _prune(folder: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used entries (and stray temporary files)."""
    entries = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
