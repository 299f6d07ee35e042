"""Silences that are gaps, and quiet hours that are not (nights, weekends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from logdoctor.analysis.coverage import _silences


def _stream(days: int, *, missing: tuple[datetime, datetime] | None = None) -> pl.DataFrame:
    """Two records a minute in office hours: 07-18 on weekdays, 09-13 on weekends."""
    times = []
    start = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
    for d in range(days):
        day = start + timedelta(days=d)
        lo, hi = (9, 13) if day.weekday() >= 5 else (7, 18)
        t = day + timedelta(hours=lo)
        while t < day + timedelta(hours=hi):
            if missing is None or not (missing[0] <= t < missing[1]):
                times += [t, t + timedelta(seconds=20)]
            t += timedelta(minutes=1)
    n = len(times)
    return pl.DataFrame(
        {
            "time": times,
            "node": ["n"] * n,
            "file": ["f"] * n,
            "line": list(range(1, n + 1)),
            "kind": ["token.validated"] * n,
            "message": ["m"] * n,
        }
    )


def test_quiet_nights_and_weekend_mornings_are_not_gaps() -> None:
    assert _silences("n", "ssosp", _stream(21)) == []


def test_a_weekday_silence_is_a_gap() -> None:
    lost = (datetime(2026, 11, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, 13, tzinfo=UTC))
    gaps = _silences("n", "ssosp", _stream(21, missing=lost))
    assert len(gaps) == 1
    assert gaps[0].start < lost[0] + timedelta(minutes=1) and gaps[0].end >= lost[1]


def test_records_without_a_time_are_left_out_of_silences() -> None:
    """A record whose time could not be read sorts first and is no time of the stream: the
    silence is found as without it (it raised on the null)."""
    lost = (datetime(2026, 11, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, 13, tzinfo=UTC))
    stream = _stream(21, missing=lost)
    timeless = stream.head(1).with_columns(pl.lit(None, dtype=stream["time"].dtype).alias("time"))
    gaps = _silences("n", "ssosp", pl.concat([timeless, stream]))
    assert [(g.start, g.end) for g in gaps] == [
        (g.start, g.end) for g in _silences("n", "ssosp", stream)
    ]
    assert len(gaps) == 1
