"""Who uses Jabber in a simulated deployment: users, their devices and Jabber releases.

Everything is drawn from one seeded :class:`random.Random`, so a seed gives the same people,
device names and releases every time, and another seed gives other ones. Device names follow
UCM's Jabber device types: ``CSF`` (Windows, Mac and the VDI softphone), ``TCT`` (iPhone),
``TAB`` (iPad and Android tablets), ``BOT`` (Android phone), then up to 12 letters or digits.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "DEVICE_PREFIX",
    "JABBER_CLIENT_ID",
    "RTMT_CLIENT_ID",
    "Device",
    "Mix",
    "Person",
    "Platform",
    "agent_text",
    "make_people",
]

JABBER_CLIENT_ID = "C" + hashlib.sha256(b"logdoctor simulated Cisco Jabber").hexdigest()
"""The OAuth client id every Jabber installation presents (one per product, as on UCM)."""
RTMT_CLIENT_ID = "C" + hashlib.sha256(b"logdoctor simulated Cisco RTMT").hexdigest()
"""The client id of the Real-Time Monitoring Tool (an implicit-grant client)."""


class Platform(StrEnum):
    """Jabber platforms, spelled as the ``agent`` field and the deployment file spell them."""

    WINDOWS = "Windows"
    MAC = "Mac"
    VDI = "VDI"
    IPHONE = "iPhone"
    IPAD = "iPad"
    ANDROID = "Android"

    @property
    def desktop(self) -> bool:
        """True for the computers (used in working hours, refreshing all session long)."""
        return self in (Platform.WINDOWS, Platform.MAC, Platform.VDI)

    @property
    def ios(self) -> bool:
        """True for iPhone and iPad (push notifications are mandatory there)."""
        return self in (Platform.IPHONE, Platform.IPAD)


DEVICE_PREFIX: dict[Platform, str] = {
    Platform.WINDOWS: "CSF",
    Platform.MAC: "CSF",
    Platform.VDI: "CSF",
    Platform.IPHONE: "TCT",
    Platform.IPAD: "TAB",
    Platform.ANDROID: "BOT",
}
"""UCM device-type prefix of each platform's Jabber device name."""

CURRENT_RELEASES: tuple[tuple[str, int], ...] = (
    ("12.9.5", 1),
    ("14.0.2", 2),
    ("14.1.3", 4),
    ("14.2.0", 3),
    ("14.3.1", 2),
)
"""Jabber releases that do refresh logins (>= 11.9), with their weights."""
OLD_RELEASES: tuple[str, ...] = ("11.8.3", "11.8.5")
"""Releases older than 11.9: they only know the implicit grant."""

_FIRST = [
    "adam",
    "alice",
    "amir",
    "anna",
    "ben",
    "carla",
    "chen",
    "david",
    "diana",
    "emma",
    "eric",
    "fatima",
    "felix",
    "grace",
    "hana",
    "hugo",
    "ines",
    "ivan",
    "jack",
    "jana",
    "julia",
    "karl",
    "kim",
    "lars",
    "laura",
    "leo",
    "lina",
    "lucas",
    "maria",
    "mark",
    "mei",
    "mia",
    "nadia",
    "noah",
    "olga",
    "omar",
    "paul",
    "priya",
    "quinn",
    "rafael",
    "rosa",
    "sam",
    "sara",
    "sofia",
    "tariq",
    "tom",
    "uma",
    "victor",
    "wei",
    "xavier",
    "yara",
    "yusuf",
    "zoe",
]
_LAST = [
    "abbott",
    "alvarez",
    "bauer",
    "bianchi",
    "brown",
    "carter",
    "chen",
    "costa",
    "dubois",
    "eriksen",
    "fischer",
    "garcia",
    "gupta",
    "hansen",
    "herrera",
    "ito",
    "jansen",
    "jones",
    "kaur",
    "keller",
    "kim",
    "kowalski",
    "larsen",
    "lee",
    "lopez",
    "martin",
    "meyer",
    "moreau",
    "murphy",
    "nakamura",
    "nguyen",
    "novak",
    "oconnor",
    "olsen",
    "park",
    "patel",
    "perez",
    "petrov",
    "quinn",
    "rossi",
    "santos",
    "schmidt",
    "silva",
    "singh",
    "smith",
    "sorensen",
    "suzuki",
    "tanaka",
    "taylor",
    "vogel",
    "wagner",
    "walsh",
    "weber",
    "wilson",
    "wong",
    "yilmaz",
    "zimmermann",
]


@dataclass(frozen=True)
class Mix:
    """Shares of the population (each a probability in 0..1)."""

    desktop: float = 0.78
    """Users whose main Jabber is on a computer (the others use a phone or tablet only)."""
    second_mobile: float = 0.30
    """Desktop users who also run Jabber on a phone."""
    mac: float = 0.15
    vdi: float = 0.06
    """Among computers: Mac and VDI softphone (the rest Windows)."""
    android: float = 0.30
    ipad: float = 0.08
    """Among phones and tablets: Android and iPad (the rest iPhone)."""
    desktop_mra: float = 0.20
    """Computers that sign in over Mobile and Remote Access (remote workers)."""
    mobile_mra: float = 0.65
    """Phones and tablets that sign in over Mobile and Remote Access."""
    push_off: float = 0.0
    """iPhones and iPads without push notifications."""
    old_jabber: float = 0.0
    """Computers still on a release older than 11.9."""


@dataclass
class Device:
    """One Jabber installation (or an RTMT install when ``product`` is RTMT)."""

    name: str
    platform: Platform
    version: str
    mra: bool
    push: bool | None = None
    product: str = "Jabber"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        """The release as numbers."""
        return tuple(int(p) for p in self.version.split("."))

    @property
    def refresh_capable(self) -> bool:
        """Jabber 11.9 and later can use refresh logins; RTMT never does."""
        return self.product == "Jabber" and self.version_tuple[:2] >= (11, 9)

    @property
    def agent(self) -> str:
        """The ``agent`` value this client declares (see logdoctor's jabber module)."""
        return agent_text(self.product, self.version, self.platform, self.push, self.mra)


@dataclass
class Person:
    """An end user and the devices they run Jabber on."""

    user: str
    password: str = field(repr=False)
    devices: list[Device] = field(default_factory=list)


def agent_text(
    product: str, version: str, platform: Platform | str, push: bool | None, mra: bool
) -> str:
    """``Jabber/14.1.3 (iPhone; push=on; mra)``: product/version (platform[; push][; mra])."""
    parts = [str(platform)]
    if push is not None:
        parts.append(f"push={'on' if push else 'off'}")
    if mra:
        parts.append("mra")
    return f"{product}/{version} ({'; '.join(parts)})"


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _user_ids(rng: random.Random, n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        base = f"{first[0]}{last}"
        uid = base
        k = 2
        while uid in seen:
            uid = f"{base}{k}"
            k += 1
        seen.add(uid)
        out.append(uid)
    return out


class _Names:
    """Unique device names (UCM device names are unique cluster-wide)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def make(self, platform: Platform, user: str) -> str:
        stem = "".join(c for c in user.upper() if c.isalnum())[:12]
        name = DEVICE_PREFIX[platform] + stem
        k = 2
        while name in self.seen:
            suffix = str(k)
            name = DEVICE_PREFIX[platform] + stem[: 12 - len(suffix)] + suffix
            k += 1
        self.seen.add(name)
        return name


def make_people(rng: random.Random, n: int, mix: Mix | None = None) -> list[Person]:
    """``n`` users with their Jabber devices, drawn from ``rng`` with the shares of ``mix``."""
    mix = mix or Mix()
    names = _Names()
    people = []
    for uid in _user_ids(rng, n):
        password = f"{rng.getrandbits(64):016x}"
        person = Person(uid, password)

        def mobile(person: Person = person) -> Device:
            r = rng.random()
            plat = (
                Platform.ANDROID
                if r < mix.android
                else Platform.IPAD
                if r < mix.android + mix.ipad
                else Platform.IPHONE
            )
            push = None if not plat.ios else rng.random() >= mix.push_off
            return Device(
                names.make(plat, person.user),
                plat,
                _pick(rng, CURRENT_RELEASES),
                rng.random() < mix.mobile_mra,
                push,
            )

        if rng.random() < mix.desktop:
            r = rng.random()
            plat = Platform.MAC if r < mix.mac else Platform.VDI if r < mix.mac + mix.vdi else None
            plat = plat or Platform.WINDOWS
            old = rng.random() < mix.old_jabber
            version = rng.choice(OLD_RELEASES) if old else _pick(rng, CURRENT_RELEASES)
            mra = plat is not Platform.VDI and rng.random() < mix.desktop_mra
            person.devices.append(Device(names.make(plat, uid), plat, version, mra))
            if rng.random() < mix.second_mobile:
                person.devices.append(mobile())
        else:
            person.devices.append(mobile())
        people.append(person)
    return people
