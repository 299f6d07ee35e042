"""Fixtures of the token-service tests: a service on a virtual clock."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from logdoctor.tokenservice.clock import VirtualClock
from logdoctor.tokenservice.service import Service
from tests.helpers.tokenservice import ADMIN, START


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


ServiceFactory = Callable[..., Service]


@pytest.fixture
def make_service(tmp_path: Path, clock: VirtualClock) -> Iterator[ServiceFactory]:
    made: list[Service] = []

    def make(data_dir: Path | None = None, **kw: object) -> Service:
        kw.setdefault("clock", clock)
        kw.setdefault("admin", ADMIN)
        kw.setdefault("password_cost", 1 << 10)
        svc = Service(data_dir or tmp_path / "data", **kw)  # type: ignore[arg-type]
        made.append(svc)
        return svc

    yield make
    for svc in made:
        with contextlib.suppress(Exception):
            svc.close()


@pytest.fixture
def svc(make_service: ServiceFactory) -> Service:
    """A cluster: publisher, subscriber, local IM&P, IM&P central, Expressway, Unity; users."""
    s = make_service(rng=random.Random(7))
    s.add_node("ucm-sub1", "subscriber")
    s.add_node("imp1", "imp")
    s.add_node("impc1", "imp-central")
    s.add_node("expc1", "expressway")
    s.add_node("cuc1", "unity")
    s.add_user("alice", "alice-pw")
    s.add_user("bob", "bob-pw")
    s.add_user("carol", "carol-pw", groups=(), roles=())
    return s
