"""The line encoders of the built-in families, for writers that need no format catalog.

``family("ssosp")`` loads ``parsers/ssosp.toml`` once (without the sample check that
:func:`logdoctor.ingest.formats.catalog.load_formats` runs) and returns its
:class:`~logdoctor.ingest.formats.templates.LineEncoder`: the token service, the simulator,
the test bundle builders and the benchmarks
all write their lines through it, so a line's wording lives only in the format file.
"""

from __future__ import annotations

from functools import cache

from logdoctor.ingest.formats.catalog import builtin_formats_dir
from logdoctor.ingest.formats.spec import load_format
from logdoctor.ingest.formats.templates import LineEncoder, encoder
from logdoctor.ingest.formats.types import Format

__all__ = ["family", "family_format"]


@cache
def family_format(name: str) -> Format:
    """The built-in format file ``parsers/<name>.toml``."""
    return load_format(builtin_formats_dir() / f"{name}.toml", builtin=True)


def family(name: str) -> LineEncoder:
    """The line encoder of built-in family ``name``."""
    return encoder(family_format(name))
