"""How the commands' polars allocator hands memory back: set before polars is loaded.

polars allocates with its own jemalloc, configured by ``_RJEM_MALLOC_CONF`` (polars puts its
own defaults first, ``dirty_decay_ms:500,muzzy_decay_ms:1000``, and the variable's options
after them, so ours win). With those, a freed page stays dirty for half a second, then lazily
freed (``MADV_FREE``: still resident until the kernel wants it) for another second, in one
arena per thread up to four per core: the table ``check`` reads and sorts column by column
and the frames its rules gather and drop stay resident on top of what is live (1 M events:
peaks of 750-960 MiB, for some 350-630 MiB live). The commands keep one arena per core and
return freed pages after :data:`DIRTY_DECAY_MS`, at once and for good. A value the user set is
added after ours (so it wins too).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__all__ = ["DIRTY_DECAY_MS", "VARIABLE", "configure", "settings"]

VARIABLE = "_RJEM_MALLOC_CONF"
"""The environment variable polars' jemalloc reads its options from when it starts."""

DIRTY_DECAY_MS = 200
"""Freed pages go back to the system after this long (jemalloc's default: 10 s)."""


def settings(cores: int | None) -> str:
    """The jemalloc options for a machine with ``cores`` cores (None: unknown, taken as 1)."""
    return f"narenas:{max(1, cores or 1)},dirty_decay_ms:{DIRTY_DECAY_MS},muzzy_decay_ms:0"


def configure(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set :data:`VARIABLE` unless it is set (effective only before polars is imported)."""
    environ.setdefault(VARIABLE, settings(os.cpu_count()))
