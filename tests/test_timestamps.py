from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from logdoctor.timestamps import TimestampFormat, TimestampFormatError, resolve_zone


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        (
            "%Y-%m-%d %H:%M:%S,%3f",
            "2021-04-30 09:00:53,156",
            datetime(2021, 4, 30, 9, 0, 53, 156000),
        ),
        ("%Y-%m-%d %H:%M:%S%.f", "2021-04-30 09:00:53", datetime(2021, 4, 30, 9, 0, 53)),
        ("%Y-%m-%d %H:%M:%S%.f", "2021-04-30 09:00:53.5", datetime(2021, 4, 30, 9, 0, 53, 500000)),
        (
            "%Y-%m-%dT%H:%M:%S%.f%#z",
            "2026-01-29T14:01:16.974-05:00",
            datetime(2026, 1, 29, 19, 1, 16, 974000, tzinfo=UTC),
        ),
        (
            "%Y-%m-%dT%H:%M:%S%.f%#z",
            "2026-01-29T14:01:16Z",
            datetime(2026, 1, 29, 14, 1, 16, tzinfo=UTC),
        ),
        ("%Y-%m-%d %H:%M:%S,%3f", "2021-02-30 09:00:53,156", None),
        ("%Y-%m-%d %H:%M:%S,%3f", "2021-04-30 09:00:53", None),
    ],
)
def test_line_and_bulk_parsers_agree(fmt: str, text: str, expected: datetime | None) -> None:
    tf = TimestampFormat.compile(fmt)
    assert tf.parse(text) == expected
    bulk = pl.Series([text]).str.to_datetime(fmt, strict=False, time_unit="us")
    if tf.has_zone:
        bulk = bulk.dt.convert_time_zone("UTC")
    got = bulk[0]
    if expected is None:
        assert got is None
    else:
        assert got == expected


def test_unknown_directive_is_refused() -> None:
    with pytest.raises(TimestampFormatError, match="unsupported timestamp directive '%Q'"):
        TimestampFormat.compile("%Y %Q")


def test_zones() -> None:
    assert resolve_zone(None).name == "UTC"
    z = resolve_zone("-04:00")
    assert z.offset == timedelta(hours=-4) and z.polars_name is None
    ny = resolve_zone("America/New_York")
    local = datetime(2021, 4, 30, 9, 0, 53)
    assert ny.to_utc()(local) == datetime(2021, 4, 30, 13, 0, 53, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown time zone"):
        resolve_zone("Mars/Olympus")
    with pytest.raises(ValueError, match="out of range"):
        resolve_zone("+25:00")
