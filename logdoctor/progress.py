"""Progress of long operations, reported to an observer the caller passes in.

The library never prints: loading (:func:`logdoctor.ingest.load.load`), the rules
(:func:`logdoctor.pipeline.check`), the report, the simulator and the fleet accept a
:class:`Progress` and tell it which stage runs and how far it got. ``logdoctor``'s command
line renders it on stderr (``logdoctor.cli.progress``, a terminal only); a library caller may
log it, or pass nothing (:data:`NULL_PROGRESS`).

A run is a sequence of stages (``parsing``, ``correlating``, ``rules``, ``rendering``...);
starting a stage ends the one before. A stage has a total (files, rules, simulated days) or
none when its length is unknown.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["NULL_PROGRESS", "NullProgress", "Progress", "RecordingProgress"]


class Progress(Protocol):
    """Receives the progress of a run (from the thread that called the library)."""

    def stage(self, name: str, total: float | None = None, unit: str = "") -> None:
        """Stage ``name`` starts (the previous one is over): ``total`` steps of ``unit``
        (``files``, ``rules``, ``days``), or None when the length is unknown."""

    def advance(self, amount: float = 1, detail: str = "") -> None:
        """``amount`` more steps of the current stage are done; ``detail`` names the last
        one (a file, a rule id)."""


class NullProgress:
    """Ignores everything (the default)."""

    def stage(self, name: str, total: float | None = None, unit: str = "") -> None:
        """Ignore."""

    def advance(self, amount: float = 1, detail: str = "") -> None:
        """Ignore."""


NULL_PROGRESS: Progress = NullProgress()
"""The observer used when a caller passes none."""


class RecordingProgress:
    """Keeps what it is told: ``events`` holds ``("stage", name, total, unit)`` and
    ``("advance", stage, amount, detail)`` tuples (for tests and for logging)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, float | None, str]] = []
        self.current = ""

    def stage(self, name: str, total: float | None = None, unit: str = "") -> None:
        """Record the start of a stage."""
        self.current = name
        self.events.append(("stage", name, total, unit))

    def advance(self, amount: float = 1, detail: str = "") -> None:
        """Record steps done in the current stage."""
        self.events.append(("advance", self.current, amount, detail))

    def stages(self) -> list[str]:
        """The names of the stages, in order."""
        return [e[1] for e in self.events if e[0] == "stage"]

    def done(self, stage: str) -> float:
        """The steps recorded as done in ``stage``."""
        return sum(float(e[2] or 0) for e in self.events if e[0] == "advance" and e[1] == stage)
