"""The report templates' compiled code kept between runs (a Jinja2 bytecode cache).

The first compile of the report's page template in a process costs some 40 ms of CPU (Jinja2
builds its lexer, then compiles the page and its includes), about what rendering the page
costs; a process that reads the compiled code instead skips both. An entry is one
template's code as Jinja2 compiles it, kept beside the parsed-file cache
(:func:`logdoctor.ingest.cachekey.cache_dir` with ``-templates`` appended to its name:
``~/.cache/logdoctor/parsed-templates``), private (:mod:`logdoctor.ingest.privatefiles`: an
entry owned by another user or writable by others is never read, since loading it runs it).

An entry is named by a hash of the template's name and file, Jinja2's version and what of
the environment shapes the compiled code (its whitespace options, autoescape, finalize and
the names of its filters and tests), and Jinja2 itself checks the template source's
checksum and the Python version it was compiled by: an edit of either is a miss. Anything
that goes wrong (an unwritable folder, a damaged entry) costs only the compile.
``LOGDOCTOR_NO_CACHE=1`` neither reads nor writes entries (``--no-cache`` does not change it,
as for the compiled formats).
"""

from __future__ import annotations

import contextlib
import hashlib
import types
from functools import cache
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from logdoctor.ingest.privatefiles import beside_cache, enabled, safe_entry, touch, write_entry

__all__ = ["KEEP", "TemplateCache", "template_cache", "templates_cache_dir"]

_LAYOUT = 1
"""Bumped when what an entry holds changes."""

KEEP = 32
"""Entries kept; older ones are removed when a new one is written."""


def templates_cache_dir() -> Path:
    """Where entries are kept (see the module's docstring)."""
    return beside_cache("-templates")


def _shape(env: jinja2.Environment) -> str:
    """What of ``env`` the compiled code depends on (besides the template's source)."""
    finalize = getattr(env.finalize, "__qualname__", repr(env.finalize))
    autoescape = getattr(env.autoescape, "__qualname__", repr(env.autoescape))
    return repr(
        (
            env.block_start_string,
            env.variable_start_string,
            env.comment_start_string,
            env.trim_blocks,
            env.lstrip_blocks,
            env.keep_trailing_newline,
            env.newline_sequence,
            autoescape,
            finalize,
            sorted(env.filters),
            sorted(env.tests),
            sorted(env.extensions),
        )
    )


class TemplateCache(jinja2.BytecodeCache):
    """Jinja2's bytecode cache kept in :func:`templates_cache_dir` (read when it is asked, so
    that ``LOGDOCTOR_CACHE_DIR`` set later is followed)."""

    def get_bucket(
        self,
        environment: jinja2.Environment,
        name: str,
        filename: str | None,
        source: str,
    ) -> Bucket:
        """The bucket of this template in this environment, loaded from its entry if any."""
        base = self.get_cache_key(name, filename)
        key = f"{_LAYOUT}|{jinja2.__version__}|{_shape(environment)}|{base}"
        bucket = Bucket(
            environment,
            hashlib.sha256(key.encode()).hexdigest(),
            self.get_source_checksum(source),
        )
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill ``bucket`` from its entry when one is safe and holds its source's code."""
        if not enabled():
            return
        entry = templates_cache_dir() / bucket.key
        if not safe_entry(entry):
            return
        try:
            bucket.bytecode_from_string(entry.read_bytes())
        except Exception:  # a damaged entry: compile again (and replace it)
            bucket.reset()
            with contextlib.suppress(OSError):
                entry.unlink()
            return
        if bucket.code is None:
            return  # another source or Python version: the compile's entry replaces it
        if not isinstance(bucket.code, types.CodeType):
            bucket.reset()
            return
        touch(entry)

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled into ``bucket`` (a failure only costs the next run)."""
        if not enabled() or bucket.code is None:
            return
        with contextlib.suppress(OSError):
            write_entry(templates_cache_dir(), bucket.key, bucket.bytecode_to_string(), KEEP)


@cache
def template_cache() -> TemplateCache:
    """The process's one :class:`TemplateCache`."""
    return TemplateCache()
