"""When people use Jabber: one day's sessions per client, drawn from a seeded generator.

Computers run Jabber through the working day (with a lunch break for some), phones and tablets
come to the foreground a few times a day, an administrator opens RTMT now and then. Nobody is
active between :data:`QUIET_FROM` and :data:`QUIET_UNTIL` (administrators do their off-hours
work then). A session is ``(start, end, refetch)``: ``refetch`` says the client fetches its
configuration at the start (a fresh start rather than a resume from sleep), which is when
Jabber notices a change of the OAuth settings.
"""

from __future__ import annotations

import random

__all__ = ["QUIET_FROM", "QUIET_UNTIL", "Session", "desktop_day", "mobile_day", "rtmt_day"]

H = 3600.0
QUIET_FROM = 22.25 * H
"""Seconds after midnight from which no client is active..."""
QUIET_UNTIL = 6.75 * H
"""...until this time the next morning."""

Session = tuple[float, float, bool]
"""(start, end, refetch) in POSIX seconds."""


def _clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def desktop_day(
    rng: random.Random, day: float, weekday: int, *, forced: bool, attendance: float = 0.9
) -> list[Session]:
    """A computer's sessions on the day starting at ``day`` (midnight, POSIX seconds)."""
    if weekday >= 5:
        if forced or rng.random() >= 0.06:
            return []
        s = day + rng.uniform(10 * H, 16 * H)
        return [(s, s + rng.uniform(0.75 * H, 2.5 * H), True)]
    if not forced and rng.random() >= attendance:
        return []
    start = day + _clip(rng.gauss(8.5 * H, 0.6 * H), 6.9 * H, 10.5 * H)
    end = day + _clip(rng.gauss(17.25 * H, 0.75 * H), 15.0 * H, 20.5 * H)
    if rng.random() < 0.35:
        brk = day + rng.uniform(11.75 * H, 13.0 * H)
        back = brk + rng.uniform(25 * 60, 70 * 60)
        if start < brk and back < end:
            return [(start, brk, True), (back, end, False)]
    return [(start, end, True)]


def mobile_day(rng: random.Random, day: float, weekday: int, *, forced: bool) -> list[Session]:
    """A phone's or tablet's foreground sessions on the day starting at ``day``."""
    if weekday >= 5:
        count = rng.randint(1, 4)
        lo, hi = 9.0 * H, 22.0 * H
    else:
        count = rng.randint(3, 7) + (2 if forced else 0)
        lo, hi = 7.0 * H, 22.0 * H
    starts = sorted(day + rng.uniform(lo, hi) for _ in range(count))
    out: list[Session] = []
    for s in starts:
        e = s + rng.uniform(2 * 60, 12 * 60)
        if out and s <= out[-1][1] + 60:
            prev = out[-1]
            out[-1] = (prev[0], max(prev[1], e), prev[2])
        else:
            out.append((s, e, not out))
    return out


def rtmt_day(rng: random.Random, day: float, weekday: int) -> list[Session]:
    """An administrator's RTMT session (on some working days)."""
    if weekday >= 5 or rng.random() >= 0.35:
        return []
    s = day + rng.uniform(9.5 * H, 16 * H)
    return [(s, s + rng.uniform(20 * 60, 75 * 60), True)]
