"""Live tail: follow growing and rotating UCM logs, parse them as they grow, raise findings.

:class:`~logdoctor.tail.follow.Follower` reads whole lines from files that grow, rotate and
get truncated, with checkpoints for exact restarts; :class:`~logdoctor.tail.tailer.Tailer`
turns them into events with the line engine and runs a detector over a sliding window of
recent events. Neither prints: ``logdoctor tail`` (in :mod:`logdoctor.cli`) renders, through
a sink the tailer hands each batch to before it saves the checkpoint that covers the batch.
"""

from __future__ import annotations

from logdoctor.tail.checkpoint import CheckpointError
from logdoctor.tail.events import (
    Closed,
    FileState,
    FollowError,
    FollowEvent,
    Line,
    Notice,
    Opened,
)
from logdoctor.tail.follow import Follower

__all__ = [
    "CheckpointError",
    "Closed",
    "FileState",
    "FollowError",
    "FollowEvent",
    "Follower",
    "Line",
    "Notice",
    "Opened",
]
