"""Shared fixtures: asset paths, a formats list checked once per session, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from logdoctor.ingest import cacheswitch
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.formats.types import Format

# Always check format samples in tests (never trust a cache marker).
os.environ["LOGDOCTOR_NO_CACHE"] = "1"


@pytest.fixture(scope="session")
def formats() -> dict[str, Format]:
    return {f.name: f for f in load_formats()}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write("a/b.log", text_or_bytes) -> path under tmp_path."""

    def _write(rel: str, content: str | bytes) -> Path:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_text(content, encoding="utf-8", newline="")
        else:
            p.write_bytes(content)
        return p

    return _write


@pytest.fixture
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private parsed-file cache folder, the cache allowed (the suite turns it off by
    default: ``LOGDOCTOR_NO_CACHE``); the process's cache switch is off again after."""
    monkeypatch.delenv("LOGDOCTOR_NO_CACHE", raising=False)
    root = tmp_path / "cache"
    monkeypatch.setenv("LOGDOCTOR_CACHE_DIR", str(root))
    yield root
    cacheswitch.set_enabled(False)
