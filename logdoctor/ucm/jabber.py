"""What a client says about itself: the ``agent`` field and the device name.

The ``agent`` column carries the client software as the client declared it. The one form
logdoctor's token service and simulator write, and the one :func:`parse_agent` reads, is::

    <product>/<version> (<platform>[; push=on|off][; mra])

    Jabber/11.8.5 (Windows)
    Jabber/14.1.0 (iPhone; push=off)
    Jabber/12.9.2 (Android; mra)
    RTMT/14.0.1 (Windows)

``product`` is a word (Jabber, Webex, RTMT...), ``version`` is dotted digits, ``platform`` one
of Windows, Mac, iPhone, iPad, Android, VDI (any case), and the optional flags say whether
push notifications are enabled (iPhone / iPad) and whether the client signs in over Mobile
and Remote Access. Anything else parses to what can be recognized (a bare ``Jabber 12.6``
gives product and version); nothing raises.

Jabber device names tell the platform too: ``CSF`` (Windows / Mac softphone), ``TCT``
(iPhone), ``TAB`` (iPad and Android tablets), ``BOT`` (Android phone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "PLATFORMS",
    "REFRESH_FLOW_VERSION",
    "Agent",
    "parse_agent",
    "platform_from_device",
    "version_text",
]

PLATFORMS: dict[str, str] = {
    "windows": "Windows",
    "win": "Windows",
    "mac": "Mac",
    "macos": "Mac",
    "iphone": "iPhone",
    "ios": "iPhone",
    "ipad": "iPad",
    "android": "Android",
    "vdi": "VDI",
}
"""Platform spellings accepted in an agent, mapped to their canonical names."""

REFRESH_FLOW_VERSION: tuple[int, int] = (11, 9)
"""The first Jabber release that uses the refresh login flow (older ones use the implicit
grant)."""

_AGENT = re.compile(
    r"^\s*(?P<product>[A-Za-z][A-Za-z0-9 _-]*?)\s*[/ ]\s*v?(?P<version>\d+(?:\.\d+)*)"
    r"\s*(?:\((?P<rest>[^)]*)\))?",
    re.ASCII,
)
_DEVICE_PLATFORM = {"CSF": "Desktop", "TCT": "iPhone", "TAB": "Tablet", "BOT": "Android"}


@dataclass(frozen=True)
class Agent:
    """A parsed ``agent`` value; fields the text does not give are None."""

    raw: str
    product: str | None = None
    version: tuple[int, ...] | None = None
    platform: str | None = None
    push: bool | None = None
    mra: bool | None = None

    @property
    def is_jabber(self) -> bool:
        """True for Cisco Jabber (product ``Jabber`` or ``Cisco Jabber``)."""
        return self.product is not None and self.product.lower().endswith("jabber")

    @property
    def refresh_capable(self) -> bool | None:
        """True for Jabber >= 11.9 (refresh login flow), False for older, None if unknown."""
        if not self.is_jabber or self.version is None:
            return None
        return self.version[:2] >= REFRESH_FLOW_VERSION

    @property
    def mobile_ios(self) -> bool:
        """True for Jabber on iPhone or iPad (push notifications are mandatory there)."""
        return self.platform in ("iPhone", "iPad")


@lru_cache(maxsize=4096)
def parse_agent(text: str | None) -> Agent:
    """Parse an ``agent`` value (see the module documentation for the form)."""
    raw = text or ""
    m = _AGENT.match(raw)
    if m is None:
        return Agent(raw=raw)
    product = " ".join(m.group("product").split())
    version = tuple(int(p) for p in m.group("version").split(".")[:4])
    platform: str | None = None
    push: bool | None = None
    mra: bool | None = None
    for part in (m.group("rest") or "").split(";"):
        token = part.strip().lower()
        if not token:
            continue
        if token in PLATFORMS:
            platform = PLATFORMS[token]
        elif token.replace(" ", "") in ("push=on", "push=true", "push=yes", "push"):
            push = True
        elif token.replace(" ", "") in ("push=off", "push=false", "push=no", "nopush"):
            push = False
        elif token in ("mra", "mra=on", "mra=true"):
            mra = True
        elif token in ("mra=off", "mra=false", "onprem", "on-prem"):
            mra = False
    return Agent(raw=raw, product=product, version=version, platform=platform, push=push, mra=mra)


def platform_from_device(device: str | None) -> str | None:
    """The platform a Jabber device name implies (CSF Desktop, TCT iPhone, TAB Tablet,
    BOT Android), or None."""
    if not device or len(device) < 4:
        return None
    return _DEVICE_PLATFORM.get(device[:3].upper())


def version_text(version: tuple[int, ...] | None) -> str:
    """``(11, 8, 5)`` -> ``"11.8.5"``; None -> ``"?"``."""
    return "?" if version is None else ".".join(str(v) for v in version)
