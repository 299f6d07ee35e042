"""Clocks: the service asks a clock for the time, so a simulation can run days in seconds.

Times are POSIX seconds (float, UTC). :class:`SystemClock` reads the real time;
:class:`VirtualClock` only moves when told to.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock", "VirtualClock", "from_iso", "to_datetime"]


class Clock(Protocol):
    """Anything with ``time()`` returning POSIX seconds (UTC)."""

    def time(self) -> float:
        """The current time in POSIX seconds."""
        ...


class SystemClock:
    """The real time."""

    def time(self) -> float:
        """The current wall-clock time."""
        return time.time()


class VirtualClock:
    """A clock that stands still until :meth:`advance` or :meth:`set` moves it (never back)."""

    def __init__(self, start: float | datetime) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)

    def time(self) -> float:
        """The virtual time."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a virtual clock cannot go back ({seconds} s)")
        self._now += seconds
        return self._now

    def set(self, when: float | datetime) -> float:
        """Move forward to ``when`` (not earlier than now) and return it."""
        t = when.timestamp() if isinstance(when, datetime) else float(when)
        if t < self._now:
            raise ValueError("a virtual clock cannot go back")
        self._now = t
        return t


def to_datetime(t: float) -> datetime:
    """POSIX seconds to an aware UTC datetime."""
    return datetime.fromtimestamp(t, UTC)


def from_iso(text: str) -> float:
    """An ISO 8601 time (no zone means UTC) to POSIX seconds."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
