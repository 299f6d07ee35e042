"""Whether this process reuses parsed files (:mod:`logdoctor.ingest.cache`).

Off for the library unless asked; the command line turns it on, and ``--no-cache`` (or
``LOGDOCTOR_NO_CACHE=1``) off. Kept apart from the cache itself so that setting it imports
nothing heavy.
"""

from __future__ import annotations

import os

__all__ = ["enabled", "set_enabled"]

_on = False


def set_enabled(on: bool) -> None:
    """Turn the cache on or off for this process."""
    global _on
    _on = on


def enabled() -> bool:
    """True when the cache is on (``LOGDOCTOR_NO_CACHE`` always turns it off)."""
    return _on and not os.environ.get("LOGDOCTOR_NO_CACHE")
