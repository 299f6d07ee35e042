"""Progress on stderr with rich, for a person at a terminal: the one place that draws it.

:class:`TermProgress` is a :class:`logdoctor.progress.Progress` (parsing, correlating,
rules, rendering, simulating...) and :class:`FleetProgress` a fleet
:class:`~logdoctor.fleet.runner.Observer`. Both draw only when stderr is a terminal (nothing
at all in a pipe, a file or a CI log), appear after a short delay (a quick command does not
flicker) and clear their lines when done (``transient``), so that the command's own output is
all that stays.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich is imported when progress is first drawn, not with the CLI
    from rich.progress import Progress, TaskID

    from logdoctor.fleet import BundleResult

__all__ = ["DELAY", "FleetProgress", "TermProgress", "stderr_is_terminal"]

DELAY = 0.3
"""Seconds before progress appears (``LOGDOCTOR_PROGRESS_DELAY`` overrides it)."""


def stderr_is_terminal() -> bool:
    """True when stderr is a terminal (FORCE_COLOR does not make it one)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _columns(layout: tuple[str, ...], bar_width: int) -> list[Any]:
    """rich columns for a layout: ``@spinner``, ``@bar``, ``@count`` (done / total),
    ``@elapsed``, else a text column (rich markup, task fields)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    named: dict[str, Callable[[], Any]] = {
        "@spinner": SpinnerColumn,
        "@bar": lambda: BarColumn(bar_width=bar_width),
        "@count": MofNCompleteColumn,
        "@elapsed": TimeElapsedColumn,
    }
    return [named[c]() if c in named else TextColumn(c, markup=True) for c in layout]


class _Delayed:
    """A rich Progress on stderr that starts drawing after DELAY seconds, if still running;
    ``layout`` names its columns (rich is imported when :attr:`progress` is first used)."""

    def __init__(
        self, layout: tuple[str, ...], *, bar_width: int = 40, enabled: bool | None
    ) -> None:
        self._layout = layout
        self._bar_width = bar_width
        self.enabled = stderr_is_terminal() if enabled is None else enabled
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._timer: threading.Timer | None = None

    @cached_property
    def progress(self) -> Progress:
        """The rich Progress (disabled when stderr is not a terminal)."""
        from rich.console import Console
        from rich.progress import Progress

        on = self.enabled
        console = Console(stderr=True, force_terminal=on, highlight=False, markup=False)
        columns = _columns(self._layout, self._bar_width)
        return Progress(*columns, console=console, transient=True, disable=not on)

    def __enter__(self) -> _Delayed:
        if self.enabled:
            delay = float(os.environ.get("LOGDOCTOR_PROGRESS_DELAY", DELAY))
            self._timer = threading.Timer(delay, self._start)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _start(self) -> None:
        with self._lock:
            if not self._closed:
                self.progress.start()
                self._started = True

    def close(self) -> None:
        """Stop drawing and clear the lines (again: nothing)."""
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._started and not self._closed:
                self.progress.stop()
            self._closed = True

    def __exit__(self, *exc: object) -> None:
        self.close()


class TermProgress(_Delayed):
    """Stages of a long command, one line each: spinner, stage, bar, done / total, elapsed
    time, the last file or rule. Off a terminal it does nothing (rich is not imported)."""

    def __init__(self, enabled: bool | None = None) -> None:
        layout = ("{task.description:<12}", "@bar", "@count", "{task.fields[unit]}", "@elapsed")
        super().__init__(
            ("@spinner", *layout, "[dim]{task.fields[detail]}"), bar_width=30, enabled=enabled
        )
        self._task: TaskID | None = None

    def __enter__(self) -> TermProgress:
        super().__enter__()
        return self

    def _close_stage(self) -> None:
        if self._task is not None:
            task = next(t for t in self.progress.tasks if t.id == self._task)
            total = task.total if task.total is not None else task.completed
            self.progress.update(self._task, total=total, completed=total, detail="")
            self.progress.stop_task(self._task)

    def stage(self, name: str, total: float | None = None, unit: str = "") -> None:
        """Start a stage (the previous one is shown as done)."""
        if not self.enabled:
            return
        self._close_stage()
        self._task = self.progress.add_task(name, total=total, unit=unit, detail="")

    def advance(self, amount: float = 1, detail: str = "") -> None:
        """Advance the current stage; ``detail`` is shown (escaped) after it."""
        if not self.enabled:
            return
        if self._task is None:
            self.stage("working")
        assert self._task is not None
        from rich.markup import escape

        from logdoctor.outputs.terminal import clean

        self.progress.update(
            self._task, advance=amount, detail=escape(clean(detail[-60:])) if detail else ""
        )

    def close(self) -> None:
        """Mark the last stage done, stop drawing (idempotent)."""
        if not self._closed:
            self._close_stage()
        super().close()


class FleetProgress(_Delayed):
    """A fleet run: start-up of the workers, then bundles done / failed / running."""

    def __init__(self, enabled: bool | None = None) -> None:
        counts = ("done", "[red]{task.fields[failed]} failed", "{task.fields[running]} running")
        super().__init__(
            ("@spinner", "{task.description}", "@bar", "@count", *counts, "@elapsed"),
            enabled=enabled,
        )
        self.task: TaskID | None = None
        self.startup: TaskID | None = None
        self.active: set[str] = set()
        self.failed = 0

    def __enter__(self) -> FleetProgress:
        super().__enter__()
        return self

    def starting(self, what: str) -> None:
        """Workers are being started (or the scheduler reached): a spinner until ``begin``."""
        self.startup = self.progress.add_task(what, total=None, failed=0, running=0)

    def begin(self, total: int, where: str) -> None:
        """The bundles are sent to ``where``."""
        if self.startup is not None:
            self.progress.update(self.startup, visible=False)
            self.progress.stop_task(self.startup)
        self.task = self.progress.add_task("checking", total=total, failed=0, running=0)

    def running(self, cluster: str) -> None:
        """A bundle started."""
        self.active.add(cluster)
        if self.task is not None:
            self.progress.update(self.task, running=len(self.active))

    def done(self, result: BundleResult) -> None:
        """A bundle is finished (checked or failed)."""
        self.active.discard(result.cluster)
        self.failed += 0 if result.ok else 1
        if self.task is not None:
            self.progress.update(self.task, advance=1, running=len(self.active), failed=self.failed)
