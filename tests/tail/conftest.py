from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from logdoctor.tail import Follower, FollowEvent, Line
from logdoctor.tail.tailer import Tailer


def texts(events: list[FollowEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, Line)]


def pump(
    f: Follower, pred: Callable[[list[FollowEvent]], bool], timeout: float = 5.0
) -> list[FollowEvent]:
    """Read until ``pred(events so far)`` holds; fail after ``timeout`` seconds."""
    out: list[FollowEvent] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out += f.read(0.05)
        if pred(out):
            return out
    raise AssertionError(f"condition not met within {timeout}s; lines: {texts(out)}")


def until_lines(n: int) -> Callable[[list[FollowEvent]], bool]:
    return lambda ev: len(texts(ev)) >= n


def ssoapp_match(name: str, rel: str) -> bool:
    return name.startswith("ssoApp")


@pytest.fixture
def follow(tmp_path: Path) -> Iterator[Callable[..., Follower]]:
    """Factory of started followers on tmp_path (stopped at the end of the test)."""
    made: list[Follower] = []

    def make(*paths: Path, **kw: object) -> Follower:
        kw.setdefault("match", ssoapp_match)
        kw.setdefault("rotate_grace", 0.1)
        kw.setdefault("poll_interval", 0.2)
        kw.setdefault("auto_ack", True)
        f = Follower(list(paths) or [tmp_path], **kw)  # type: ignore[arg-type]
        f.start()
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


@pytest.fixture
def tailers() -> Iterator[list[Tailer]]:
    """Tailers a test started (their followers are stopped at the end)."""
    made: list[Tailer] = []
    yield made
    for t in made:
        t.follower.stop()
