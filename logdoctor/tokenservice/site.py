"""Where the emulated site stands: its UCM version and its nodes' time zones, kept in the data
dir (the ``meta`` table of ``state.db``) so that every process on it writes the same logs.

``ucm_version`` holds a version of :data:`logdoctor.ucm.versions.VERSIONS` (none: the default,
12.5); ``zone:<node>`` a node's IANA zone (none: UTC). :class:`~.logwriter.LogWriter` writes
through them (:func:`log_settings`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from logdoctor.tokenservice.store import Store
from logdoctor.ucm.versions import UcmProfile, profile

__all__ = ["check_zone", "log_settings", "node_zone", "set_node_zone", "set_version", "version"]

_VERSION = "ucm_version"
_ZONE = "zone:"


def version(store: Store) -> UcmProfile:
    """The site's UCM version."""
    return profile(store.meta(_VERSION))


def set_version(store: Store, value: str) -> UcmProfile:
    """Set the site's UCM version (ValueError naming the known ones for any other)."""
    p = profile(value)
    store.set_meta(_VERSION, p.version)
    return p


def check_zone(zone: str) -> str:
    """``zone`` when it is an IANA zone name (or UTC); ValueError otherwise."""
    if zone.strip().upper() == "UTC":
        return "UTC"
    try:
        ZoneInfo(zone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{zone!r} is not a time zone (an IANA name such as Europe/Berlin, or UTC)"
        ) from None
    return zone.strip()


def node_zone(store: Store, node: str) -> str:
    """The zone ``node``'s logs are written in (UTC unless set)."""
    return store.meta(_ZONE + node) or "UTC"


def set_node_zone(store: Store, node: str, zone: str) -> str:
    """Set the zone ``node`` writes its logs in; the zone as stored."""
    z = check_zone(zone)
    store.set_meta(_ZONE + node, z)
    return z


def log_settings(store: Store, nodes: list[str]) -> tuple[UcmProfile, dict[str, str]]:
    """The version and the zones of ``nodes`` (those not in UTC) the log writer needs."""
    zones = {n: z for n in nodes if (z := node_zone(store, n)) != "UTC"}
    return version(store), zones
