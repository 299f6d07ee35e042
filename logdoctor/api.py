"""The loader's public facade: ``logdoctor.api.load`` and its result types, kept for users
and documentation that import them from here; the loader itself is
:mod:`logdoctor.ingest.load`."""

from __future__ import annotations

from logdoctor.ingest.load import Loader, LoadResult, load, open_inputs

__all__ = ["LoadResult", "Loader", "load", "open_inputs"]
