"""The tail's findings: a sliding window of recent events, and a detector run over it.

A *detector* is any ``Callable[[polars.DataFrame], list[Finding]]``
(:func:`logdoctor.tail.detector.rules_detector` runs the rules of ``check``). The window keeps at
most ``size`` events, and none older than ``span`` before the newest event's time; the detector
runs at most every ``interval`` seconds, and only when new events arrived. A finding is reported
once per (rule, title, subjects); a detector that raises gives a notice, and the tail goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

import polars as pl

from logdoctor.ingest.parse import Record
from logdoctor.model import Finding
from logdoctor.table import POLARS_SCHEMA
from logdoctor.tail.follow_events import Notice

__all__ = ["Detector", "DetectorWindow", "finding_key"]

Detector = Callable[[pl.DataFrame], list[Finding]]
"""A rule runner: findings over a frame of recent events (columns of the event table)."""


def finding_key(f: Finding) -> tuple[str, str, tuple[str, ...]]:
    """What makes two findings the same finding for the tailer (reported once)."""
    return (str(f.rule), f.title, f.subjects)


class DetectorWindow:
    """Recent events, and the findings a detector raised over them (see the module doc)."""

    def __init__(
        self, detector: Detector | None, *, size: int, span: float | None, interval: float
    ) -> None:
        self.detector = detector
        self._rows: deque[dict[str, object]] = deque(maxlen=max(1, size))
        self._span = timedelta(seconds=span) if span is not None else None
        self._interval = max(0.0, interval)
        self._pending = False
        self._next = 0.0
        self._seen: set[tuple[str, str, tuple[str, ...]]] = set()
        self.findings: list[Finding] = []
        """Every finding raised so far, once each, in order."""
        self.errors = 0
        """Runs of the detector that raised."""

    def add(self, records: list[Record]) -> None:
        """New events (a run becomes due)."""
        if self.detector is None or not records:
            return
        self._rows.extend(r.as_row() for r in records)
        self._pending = True

    def due(self) -> float | None:
        """When the detector runs next (None: no new events, or no detector)."""
        return self._next if self._pending and self.detector is not None else None

    def frame(self) -> pl.DataFrame:
        """The window as a frame (event table columns)."""
        rows = list(self._rows)
        if self._span is not None:
            times = [t for r in rows if isinstance(t := r["time"], datetime)]
            if times:
                cut = max(times) - self._span
                rows = [r for r in rows if not isinstance(t := r["time"], datetime) or t >= cut]
        if not rows:
            return pl.DataFrame(schema=POLARS_SCHEMA)
        return pl.DataFrame(rows, schema=POLARS_SCHEMA)

    def run(self, now: float, *, force: bool) -> tuple[list[Finding], list[Notice]]:
        """Run the detector if due (or ``force``d and events arrived): the findings not raised
        before, and a notice if it failed."""
        if self.detector is None or not self._pending:
            return [], []
        if not force and now < self._next:
            return [], []
        self._pending = False
        self._next = now + self._interval
        try:
            found = self.detector(self.frame())
        except Exception as exc:  # a rule's bug must not stop the tail
            self.errors += 1
            why = f"the detector failed: {type(exc).__name__}: {exc}"
            return [], [Notice("detector", "detector", why)]
        new: list[Finding] = []
        for f in found:
            key = finding_key(f)
            if key not in self._seen:
                self._seen.add(key)
                new.append(f)
        self.findings.extend(new)
        return new, []
