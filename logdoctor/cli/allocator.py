"""How the commands' polars allocator hands memory back: set before polars is loaded.

polars allocates with its own jemalloc, configured by ``_RJEM_MALLOC_CONF`` (polars puts its
own defaults first, ``dirty_decay_ms:500,muzzy_decay_ms:1000``, and the variable's options
after them, so ours win). With those, a freed page stays dirty for half a second, then lazily
freed (``MADV_FREE``: still resident until the kernel wants it) for another second, in one
arena per thread up to four per core: the table ``check`` reads and sorts column by column
and the frames its rules gather and drop stay resident on top of what is live (1 M events:
peaks of 750-960 MiB, for some 350-630 MiB live). So every command keeps one arena per core
and returns freed pages after :data:`DIRTY_DECAY_MS`, at once and for good (:func:`configure`,
when the CLI is imported).

A streamed ``parse`` is the opposite case (:func:`keep_freed_pages`): it frees and takes a
chunk's worth of memory per chunk and holds no more than one, so its freed pages are kept for
the next chunk instead of being faulted in fresh (a cached 1 M-line file: ~190 k faults ->
~85 k, about 0.5 s of system time).

A value the user set is never replaced. polars' own defaults are not the user's: a process
that imported polars (a script, a notebook, a fleet's parent) leaves them in its environment,
and a ``logdoctor`` it starts inherits them (:data:`POLARS_DEFAULTS`); they are replaced as if
the variable were unset, and what follows them (polars appends the value it found) is kept.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

__all__ = [
    "DIRTY_DECAY_MS",
    "POLARS_DEFAULTS",
    "VARIABLE",
    "configure",
    "keep_freed_pages",
    "settings",
    "users_value",
]

VARIABLE = "_RJEM_MALLOC_CONF"
"""The environment variable polars' jemalloc reads its options from when it starts."""

POLARS_DEFAULTS = (
    "dirty_decay_ms:500,muzzy_decay_ms:1000,thp:always,metadata_thp:always",
    "dirty_decay_ms:500,muzzy_decay_ms:1000",
)
"""What polars' ``__init__`` writes into the variable when it is imported (the first with
``POLARS_THP=1``), followed by ``,`` and the value it found there, if any."""

DIRTY_DECAY_MS = 200
"""Freed pages go back to the system after this long (jemalloc's default: 10 s)."""


def settings(cores: int | None, *, keep_freed: bool = False) -> str:
    """The jemalloc options for a machine with ``cores`` cores (None: unknown, taken as 1);
    ``keep_freed``: freed pages are kept for reuse (never handed back)."""
    decay = (
        "dirty_decay_ms:-1,muzzy_decay_ms:-1"
        if keep_freed
        else (f"dirty_decay_ms:{DIRTY_DECAY_MS},muzzy_decay_ms:0")
    )
    return f"narenas:{max(1, cores or 1)},{decay}"


def users_value(value: str | None) -> str | None:
    """What of :data:`VARIABLE`'s ``value`` someone set: ``value`` without polars' own
    defaults in front (None when nothing else is left)."""
    if not value:
        return None
    for own in POLARS_DEFAULTS:
        if value == own:
            return None
        if value.startswith(own + ","):
            return value[len(own) + 1 :] or None
    return value


def configure(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set :data:`VARIABLE` unless someone set it (effective only before polars is imported);
    polars' own defaults inherited from a parent that imported polars are not someone's."""
    users = users_value(environ.get(VARIABLE))
    environ[VARIABLE] = users if users is not None else settings(os.cpu_count())


def keep_freed_pages(environ: MutableMapping[str, str] = os.environ) -> None:
    """Switch :func:`configure`'s options to keeping freed pages (a streamed parse): only
    while polars is not loaded (later its allocator is set up) and only over our own value
    (a user's is kept)."""
    if "polars" in sys.modules:
        return
    if environ.get(VARIABLE, settings(os.cpu_count())) == settings(os.cpu_count()):
        environ[VARIABLE] = settings(os.cpu_count(), keep_freed=True)
