"""Where the tests' files are: the repository root and checked paths under tests/assets/."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ASSETS", "ROOT", "asset"]

ROOT = Path(__file__).resolve().parent.parent.parent
ASSETS = ROOT / "tests" / "assets"


def asset(name: str) -> Path:
    """A checked path under tests/assets/."""
    p = ASSETS / name
    assert p.exists(), f"missing test asset {p}"
    return p
