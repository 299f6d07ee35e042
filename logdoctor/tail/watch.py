"""File-system hints for the follower: a watchdog observer that only wakes it up.

inotify (or the platform's native observer, or a polling observer) coalesces and drops events,
so an event never says what changed: it sets ``wake`` (a pass reads every held file to its end)
and, when a file may have appeared, vanished or been renamed, ``want_scan`` (the pass also
scans the followed roots). A file the follower left for later until it changes (an empty file,
a copy being made) asks for a scan when it is modified. watchdog is imported here only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from logdoctor.tail.scan import Root

__all__ = ["make_observer"]


def make_observer(
    roots: Sequence[Root],
    *,
    poll: bool,
    poll_interval: float,
    wake: threading.Event,
    want_scan: threading.Event,
    waiting: Callable[[], frozenset[str]],
) -> Any:
    """A watchdog observer (not started) over the folders of ``roots``; ``poll`` makes it a
    polling one (every ``poll_interval`` seconds). ``waiting()`` gives the files whose change
    asks for a scan."""
    from watchdog.events import (
        DirCreatedEvent,
        DirDeletedEvent,
        DirMovedEvent,
        FileClosedEvent,
        FileCreatedEvent,
        FileDeletedEvent,
        FileModifiedEvent,
        FileMovedEvent,
        FileSystemEvent,
        FileSystemEventHandler,
    )

    class _Hints(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type not in ("modified", "closed") or (
                os.fsdecode(event.src_path) in waiting()
            ):
                want_scan.set()
            wake.set()

    if poll:
        from watchdog.observers.polling import PollingObserver

        observer: Any = PollingObserver(timeout=poll_interval)
    else:
        from watchdog.observers import Observer

        observer = Observer()
    handler = _Hints()
    filt: list[type[FileSystemEvent]] = [
        FileModifiedEvent,
        FileClosedEvent,
        FileCreatedEvent,
        FileDeletedEvent,
        FileMovedEvent,
        DirCreatedEvent,
        DirDeletedEvent,
        DirMovedEvent,
    ]
    watched: set[str] = set()
    for r in roots:
        folder = r.path if r.is_dir else os.path.dirname(r.path)
        if folder in watched:
            continue
        watched.add(folder)
        observer.schedule(handler, folder, recursive=r.is_dir, event_filter=filt)
    return observer
