"""Timestamp formats shared by the bulk engine (polars / chrono) and the line engine (Python).

A format file writes timestamp formats in chrono's strftime dialect, restricted to the
directives listed in ``DIRECTIVES``; polars parses them natively and this module compiles the
same format into a regex plus a builder for the line engine. Timestamps without a zone are
local time of the node; :func:`resolve_zone` turns ``--tz`` into a zone (UTC by default).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DIRECTIVES", "TimestampFormat", "TimestampFormatError", "resolve_zone"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

DIRECTIVES: dict[str, str] = {
    "%Y": r"(?P<Y>\d{4})",
    "%m": r"(?P<m>\d{2})",
    "%d": r"(?P<d>\d{2})",
    "%e": r"(?P<d> ?\d{1,2})",
    "%H": r"(?P<H>\d{2})",
    "%M": r"(?P<M>\d{2})",
    "%S": r"(?P<S>\d{2})",
    "%y": r"(?P<y>\d{2})",
    "%b": r"(?P<b>[A-Za-z]{3})",
    "%3f": r"(?P<f>\d{3})",
    "%6f": r"(?P<f>\d{6})",
    "%9f": r"(?P<f>\d{9})",
    "%.f": r"(?:\.(?P<f>\d{1,9}))?",
    "%.3f": r"\.(?P<f>\d{3})",
    "%.6f": r"\.(?P<f>\d{6})",
    "%z": r"(?P<z>[+-]\d{2}:?\d{2})",
    "%:z": r"(?P<z>[+-]\d{2}:\d{2})",
    "%#z": r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)",
    "%T": r"(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})",
    "%F": r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})",
    "%%": "%",
}
"""The chrono directives a format file may use, with the regex the line engine uses for each."""

_DIRECTIVE_RE = re.compile(r"%(?:[.:#]?[0-9]?[A-Za-z%])")


class TimestampFormatError(ValueError):
    """A timestamp format uses a directive logdoctor does not support."""


@dataclass(frozen=True)
class TimestampFormat:
    """One timestamp format: the chrono string for polars and a compiled parser for Python."""

    chrono: str
    regex: re.Pattern[str]
    has_zone: bool

    @classmethod
    def compile(cls, chrono: str) -> TimestampFormat:
        """Compile a chrono format string; raises TimestampFormatError on an unknown directive."""
        parts: list[str] = []
        pos = 0
        for m in _DIRECTIVE_RE.finditer(chrono):
            parts.append(re.escape(chrono[pos : m.start()]))
            d = m.group(0)
            if d not in DIRECTIVES:
                raise TimestampFormatError(
                    f"unsupported timestamp directive {d!r} (supported: "
                    + " ".join(sorted(DIRECTIVES))
                    + ")"
                )
            parts.append(DIRECTIVES[d])
            pos = m.end()
        parts.append(re.escape(chrono[pos:]))
        source = "".join(parts)
        try:
            rx = re.compile(source + r"\Z", re.ASCII)
        except re.error as exc:  # e.g. the same field twice
            raise TimestampFormatError(f"timestamp format {chrono!r}: {exc}") from None
        return cls(chrono=chrono, regex=rx, has_zone="z" in rx.groupindex)

    def parse(self, text: str) -> datetime | None:
        """Parse ``text``: aware (UTC) if the format has a zone, else naive; None if no match."""
        m = self.regex.match(text)
        if m is None:
            return None
        g = m.groupdict()
        try:
            if g.get("Y") is not None:
                year = int(g["Y"])
            elif g.get("y") is not None:
                year = 2000 + int(g["y"]) if int(g["y"]) < 70 else 1900 + int(g["y"])
            else:
                return None
            b = g.get("b")
            month = _MONTHS.index(b.lower()) + 1 if b is not None else int(g["m"])
            frac = g.get("f")
            micro = int((frac + "000000")[:6]) if frac else 0
            dt = datetime(
                year,
                month,
                int(g["d"]),
                int(g.get("H") or 0),
                int(g.get("M") or 0),
                int(g.get("S") or 0),
                micro,
            )
        except (ValueError, KeyError):
            return None
        z = g.get("z")
        if z is not None:
            dt = dt.replace(tzinfo=_offset(z)).astimezone(UTC)
        return dt


def _offset(z: str) -> tzinfo:
    if z == "Z":
        return UTC
    sign = -1 if z[0] == "-" else 1
    digits = z[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) >= 4 else 0
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


_FIXED = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")


@dataclass(frozen=True)
class Zone:
    """The zone naive timestamps are read in: an IANA name or a fixed offset."""

    name: str
    tz: tzinfo
    polars_name: str | None
    """IANA name for polars ``replace_time_zone``; None for a fixed offset."""
    offset: timedelta | None
    """Fixed offset from UTC, when the zone is one."""

    def to_utc(self) -> Callable[[datetime], datetime]:
        """A function turning a naive local datetime into an aware UTC one."""
        tz = self.tz

        def convert(dt: datetime) -> datetime:
            return dt.replace(tzinfo=tz).astimezone(UTC)

        return convert


def resolve_zone(spec: str | None) -> Zone:
    """Resolve ``--tz``: an IANA name (Europe/Paris), UTC, or a fixed offset (+02:00, -0400).

    Raises ValueError naming the value when it is none of these.
    """
    if spec is None or spec.strip().upper() in ("", "UTC", "Z", "GMT"):
        return Zone("UTC", UTC, "UTC", timedelta(0))
    spec = spec.strip()
    m = _FIXED.match(spec)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        hours = int(m.group(2))
        minutes = int(m.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"--tz {spec!r}: offset out of range")
        off = sign * timedelta(hours=hours, minutes=minutes)
        return Zone(spec, timezone(off), None, off)
    try:
        zi = ZoneInfo(spec)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"--tz {spec!r}: unknown time zone (use an IANA name such as America/New_York, "
            "UTC, or an offset such as -04:00)"
        ) from None
    return Zone(spec, zi, spec, None)
