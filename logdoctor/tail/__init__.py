"""Live tail: follow growing and rotating UCM logs, parse them as they grow, raise findings.

:class:`~logdoctor.tail.follow.Follower` reads whole lines from files that grow, rotate and
get truncated, with checkpoints for exact restarts (which file is which: :mod:`.identity`;
bytes into lines: :mod:`.lines`; file-system hints: :mod:`.watch`);
:class:`~logdoctor.tail.tailer.Tailer` turns them into events with the line engine and runs a
detector over a sliding window of recent events (:mod:`.window`, :mod:`.detector`). Neither
prints: ``logdoctor tail`` (in :mod:`logdoctor.cli`) renders, through a sink the tailer hands
each batch to before it saves the checkpoint that covers the batch.
"""

from __future__ import annotations

from logdoctor.tail.checkpoint import CheckpointError
from logdoctor.tail.follow import Follower
from logdoctor.tail.follow_events import (
    Closed,
    FileState,
    FollowError,
    FollowEvent,
    FollowStats,
    Line,
    Notice,
    Opened,
)

__all__ = [
    "CheckpointError",
    "Closed",
    "FileState",
    "FollowError",
    "FollowEvent",
    "FollowStats",
    "Follower",
    "Line",
    "Notice",
    "Opened",
]
