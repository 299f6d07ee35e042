"""Timestamp formats shared by the bulk engine (polars / chrono) and the line engine (Python).

A format file writes timestamp formats in chrono's strftime dialect, restricted to the
directives listed in ``DIRECTIVES``; polars parses them natively and this module compiles the
same format into a regex plus a builder for the line engine. Timestamps without a zone are
local time of the node; :func:`resolve_zone` turns ``--tz`` into a zone (UTC by default), and a
:class:`ZoneBook` says which zone each node's times are read in and where that was learned
(a zone a node's log states, a deployment file's ``timezone``, ``--tz``, else UTC assumed).
:func:`display_zone` resolves ``--display-tz`` (``utc``, ``local`` or a zone).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DIRECTIVES",
    "UTC_ZONE",
    "NodeZone",
    "TimestampFormat",
    "TimestampFormatError",
    "Zone",
    "ZoneBook",
    "display_zone",
    "local_zone",
    "offset_text",
    "resolve_zone",
    "zone_book",
]

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
    """One timestamp format: the chrono string for polars and a compiled parser for Python.

    ``regex`` is compiled on first use and is not pickled (a format read back from the
    compiled-formats cache compiles only the parsers a run uses).
    """

    chrono: str
    has_zone: bool

    @classmethod
    def compile(cls, chrono: str) -> TimestampFormat:
        """Compile a chrono format string; raises TimestampFormatError on an unknown directive."""
        rx = _timestamp_regex(chrono)
        tf = cls(chrono=chrono, has_zone="z" in rx.groupindex)
        tf.__dict__["regex"] = rx  # compiled already
        return tf

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The compiled parser (the whole text must match)."""
        return _timestamp_regex(self.chrono)

    def __getstate__(self) -> dict[str, object]:
        """The fields only: the parser is compiled again on first use."""
        return {k: v for k, v in self.__dict__.items() if k != "regex"}

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


def _timestamp_regex(chrono: str) -> re.Pattern[str]:
    """The parser of a chrono format string; TimestampFormatError on an unknown directive."""
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
        return re.compile(source + r"\Z", re.ASCII)
    except re.error as exc:  # e.g. the same field twice
        raise TimestampFormatError(f"timestamp format {chrono!r}: {exc}") from None


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


UTC_ZONE = Zone("UTC", UTC, "UTC", timedelta(0))
"""Coordinated Universal Time."""


def resolve_zone(spec: str | None, option: str = "--tz") -> Zone:
    """Resolve ``--tz``: an IANA name (Europe/Paris), UTC, or a fixed offset (+02:00, -0400).

    Raises ValueError naming ``option`` and the value when it is none of these.
    """
    if spec is None or spec.strip().upper() in ("", "UTC", "Z", "GMT"):
        return UTC_ZONE
    spec = spec.strip()
    m = _FIXED.match(spec)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        hours = int(m.group(2))
        minutes = int(m.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"{option} {spec!r}: offset out of range")
        off = sign * timedelta(hours=hours, minutes=minutes)
        return Zone(spec, timezone(off), None, off)
    try:
        zi = ZoneInfo(spec)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{option} {spec!r}: unknown time zone (use an IANA name such as America/New_York, "
            "UTC, or an offset such as -04:00)"
        ) from None
    return Zone(spec, zi, spec, None)


def local_zone() -> Zone:
    """This machine's zone: ``TZ`` when set, else ``/etc/localtime``, else its current offset."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return resolve_zone(name)
        except ValueError:
            pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return resolve_zone(link.split("zoneinfo/", 1)[1])
    except (OSError, ValueError):
        pass
    off = datetime.now().astimezone().utcoffset() or timedelta(0)
    if not off:
        return UTC_ZONE
    return Zone(offset_text(off), timezone(off), None, off)


def offset_text(off: timedelta | None) -> str:
    """``-05:00`` (``+00:00`` for UTC or None)."""
    minutes = int(off.total_seconds()) // 60 if off is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def display_zone(spec: str | None, logs: Zone | None = None) -> Zone:
    """Resolve ``--display-tz``: ``utc``, ``local`` (this machine's zone) or a zone; without
    one, the logs' zone ``logs`` when known, else UTC."""
    if spec is None:
        return logs or UTC_ZONE
    if spec.strip().lower() == "local":
        return local_zone()
    return resolve_zone(spec, "--display-tz")


# -- which zone each node's times are in --------------------------------------------------------


@dataclass(frozen=True)
class NodeZone:
    """The zone a node's zone-less timestamps are read in, and where it was learned."""

    zone: Zone
    source: str
    """``log`` (the node's own log states it), ``deployment``, ``option`` (``--tz``) or
    ``assumed`` (nothing said: UTC)."""
    where: str = ""
    """The file (and line) that said so: ``deployment.toml:7``, a log file; empty for the
    option and the assumption."""


_RANK = {"log": 3, "deployment": 2, "option": 1, "assumed": 0}


class ZoneBook:
    """Which zone each node's zone-less timestamps are read in.

    Precedence: a zone the node's own log states (:meth:`record_from_log`), then the
    deployment file's ``timezone`` (``declared``), then ``--tz`` (``default``), else UTC is
    assumed. The loader asks :meth:`zone_of` for each file and reports with :meth:`note_read`
    the files whose zone-less times it read, so that a caller can warn about the assumption
    (:meth:`assumed`) and show times in the logs' zone (:meth:`logs_zone`). Thread-safe: files
    are parsed on a thread pool.
    """

    def __init__(
        self,
        default: Zone | None = None,
        declared: Mapping[str, tuple[Zone, str]] | None = None,
    ) -> None:
        self.default = default
        """``--tz``; None when not given."""
        self._nodes: dict[str, NodeZone] = {
            node: NodeZone(zone, "deployment", where)
            for node, (zone, where) in (declared or {}).items()
        }
        self._read: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def zone_of(self, node: str) -> NodeZone:
        """The zone of ``node``'s zone-less times and where it comes from."""
        with self._lock:
            known = self._nodes.get(node)
        if known is not None:
            return known
        if self.default is not None:
            return NodeZone(self.default, "option")
        return NodeZone(UTC_ZONE, "assumed")

    def record_from_log(self, node: str, zone: Zone, where: str) -> None:
        """Record a zone that a node's log states (the hook for formats that carry it, such as
        CiscoSyslog's two clocks, a local and a UTC one). It outranks the deployment file and
        ``--tz`` for the node's files parsed after this call; a zone from a log already
        recorded for the node is kept (the first statement wins)."""
        with self._lock:
            old = self._nodes.get(node)
            if old is None or _RANK[old.source] < _RANK["log"]:
                self._nodes[node] = NodeZone(zone, "log", where)

    def declared_nodes(self) -> list[str]:
        """The nodes whose zone is known before anything is read (the deployment file's)."""
        with self._lock:
            return sorted(n for n, nz in self._nodes.items() if nz.source == "deployment")

    def rename(self, resolve: Callable[[str], str]) -> None:
        """Key every node by the name ``resolve`` gives it (its canonical name once node
        identity is known, :mod:`logdoctor.ingest.nodes`). Where two names become one node, the
        zone of the stronger source is kept and the files read are joined."""
        with self._lock:
            nodes: dict[str, NodeZone] = {}
            for name, nz in self._nodes.items():
                new = resolve(name)
                old = nodes.get(new)
                if old is None or _RANK[nz.source] > _RANK[old.source]:
                    nodes[new] = nz
            read: dict[str, list[str]] = {}
            for name, files in self._read.items():
                read.setdefault(resolve(name), []).extend(files)
            self._nodes, self._read = nodes, read

    def note_read(self, node: str, file: str) -> None:
        """The loader read zone-less times of ``node`` from ``file``."""
        with self._lock:
            self._read.setdefault(node, []).append(file)

    def forget(self, files: Collection[str]) -> None:
        """Take back :meth:`note_read` for ``files``: no time was read from them (no record)."""
        with self._lock:
            for node in list(self._read):
                kept = [f for f in self._read[node] if f not in files]
                if kept:
                    self._read[node] = kept
                else:
                    del self._read[node]

    def conflicts(self) -> list[tuple[str, NodeZone]]:
        """Nodes read whose zone (from the deployment file or a log) overrode a different
        ``--tz``."""
        if self.default is None:
            return []
        out = []
        for node in sorted(self._read):
            nz = self.zone_of(node)
            # A log stating +00:00 agrees with --tz UTC: the same offset is no conflict.
            same = nz.zone.name == self.default.name or (
                nz.zone.offset is not None and nz.zone.offset == self.default.offset
            )
            if nz.source in ("deployment", "log") and not same:
                out.append((node, nz))
        return out

    def assumed(self) -> dict[str, list[str]]:
        """Node -> files whose zone-less times were read as UTC because nothing said a zone."""
        with self._lock:
            read = {n: list(f) for n, f in self._read.items()}
        return {n: f for n, f in sorted(read.items()) if self.zone_of(n).source == "assumed"}

    def expected_zone(self) -> Zone | None:
        """Before anything is read: the one zone ``--tz`` and the deployment file agree on
        (None when they name several, or none)."""
        with self._lock:
            zones = {nz.zone.name: nz.zone for nz in self._nodes.values()}
        if self.default is not None:
            zones.setdefault(self.default.name, self.default)
        return next(iter(zones.values())) if len(zones) == 1 else None

    def logs_zone(self, nodes: Iterable[str] | None = None) -> Zone | None:
        """The one known zone of the nodes read (or of ``nodes``): None when a node's zone was
        assumed or when the nodes' zones differ."""
        names = sorted(self._read) if nodes is None else sorted(set(nodes))
        zones = {self.zone_of(n) for n in names}
        if not zones and self.default is not None:
            return self.default
        if len({z.zone.name for z in zones}) != 1 or any(z.source == "assumed" for z in zones):
            return None
        return next(iter(zones)).zone


def zone_book(tz: str | None, declared: Mapping[str, tuple[str, str]] | None = None) -> ZoneBook:
    """A ZoneBook from ``--tz`` and the deployment file's node -> (zone, where) map."""
    return ZoneBook(
        None if tz is None else resolve_zone(tz),
        {
            node: (resolve_zone(spec, f"{where}: timezone"), where)
            for node, (spec, where) in (declared or {}).items()
        },
    )
