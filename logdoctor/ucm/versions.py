"""UCM version profiles: what a 12.5 node and a 14/15 node write differently in their ssosp logs.

The facts, each with its basis (``published``: a verbatim public line or document states it;
``documented``: Cisco documents the behaviour, the exact form is modelled; ``modelled``:
logdoctor's own choice) and its source (the shared research notes,
``research/ucm_evidence.md``, collect them):

=====================  ==================================  ====================================
fact                   12.5 (log4j 1.x, Tomcat bio)        14 and 15 (log4j2, Tomcat nio)
=====================  ==================================  ====================================
request thread         ``http-bio-8443-exec-N``            ``http-nio-81-exec-N``
logger                 short ``oauth.TokenServlet``        long ``cpi.sso.oauth.TokenServlet``,
                                                           two spaces before it
ssosp folder           ``tomcat/logs/ssosp/log4j/``        ``tomcat/logs/ssosp-tomcat/log4j/``
SSOSP's service        ``Cisco Tomcat``                    ``Cisco SSOSP Tomcat`` (own container)
=====================  ==================================  ====================================

Bases: ``http-bio-443-exec-N`` with short loggers is published for 11.5-12.5 (TAC 217268,
200532); port 8443, where Jabber's OAuth requests arrive, is modelled. ``http-nio-81-exec-N``
with the long ``cpi.sso.saml.sp.security.authentication.SAMLAuthenticator`` after two spaces is
published for 15 (TAC 225746), and taken for 14 too (the container split came with 14: modelled).
The long forms of the other loggers are modelled (``cpi.sso.`` before the short name). The 14
release notes publish that SSOSP runs in its own Tomcat, "Cisco SSOSP Tomcat", with its logs
under ``tomcat/logs/ssosp-tomcat/``; the ``log4j/`` folder under it is modelled (the 15 alarm
catalog still names ``tomcat/logs/ssosp/log4j/*.log``, so both folders are read).

The default is :data:`DEFAULT_VERSION` (12.5, what logdoctor wrote before profiles existed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "DEFAULT_VERSION",
    "PROFILES",
    "VERSIONS",
    "Fact",
    "UcmProfile",
    "profile",
]

BASES = ("published", "documented", "modelled")
"""How well a fact is founded (the same words as an event kind's basis)."""


@dataclass(frozen=True)
class Fact:
    """How well one fact of a profile is founded, and where it is stated."""

    basis: str
    source: str


_PUBLISHED_LONG = {
    "authentication.SAMLAuthenticator": "cpi.sso.saml.sp.security.authentication.SAMLAuthenticator",
}
"""Long logger names published verbatim (TAC 225746, UCM 15)."""

_LONG_PREFIX = "cpi.sso."
"""Modelled package prefix of the other loggers' long names."""


@dataclass(frozen=True)
class UcmProfile:
    """What a node of one UCM version writes, where, and under which service name."""

    version: str
    """``12.5``, ``14`` or ``15``."""
    thread_prefix: str
    """Request threads: this plus a number (``http-bio-8443-exec-7``)."""
    long_loggers: bool
    """log4j2 layout: package-qualified loggers after two spaces."""
    ssosp_folder: tuple[str, ...]
    """Where the ssosp log4j files are, under the node's folder."""
    ssosp_service: str
    """The service that runs SSOSP, as Service Manager's alarms name it."""
    facts: Mapping[str, Fact] = field(default_factory=dict)
    """Basis and source of each fact above, by field name."""

    @property
    def containerized(self) -> bool:
        """SSOSP runs in its own Tomcat (14 and later)."""
        return self.ssosp_service != "Cisco Tomcat"

    def thread(self, n: int) -> str:
        """The name of request thread ``n``."""
        return f"{self.thread_prefix}{n}"

    def logger(self, short: str) -> str:
        """A logger as this version writes it: ``oauth.TokenServlet`` on 12.5,
        `` cpi.sso.oauth.TokenServlet`` on 14/15 (the leading space makes log4j2's two)."""
        if not self.long_loggers:
            return short
        return " " + _PUBLISHED_LONG.get(short, _LONG_PREFIX + short)

    def ssosp_dir(self, root: Path, node: str) -> Path:
        """The folder of ``node``'s ssosp files under a collection's ``root``."""
        return root.joinpath(node, *self.ssosp_folder)


_TAC_217268 = "TAC 217268 and 200532 (http-bio-443-exec-N, filter.SSOAuthAgentFilter)"
_TAC_225746 = "TAC 225746, UCM 15 (http-nio-81-exec-157, two spaces, cpi.sso.saml... logger)"
_RN_14 = "UCM 14 release notes: Cisco SSOSP Tomcat, file get activelog tomcat/logs/ssosp-tomcat/*"

_V125 = UcmProfile(
    version="12.5",
    thread_prefix="http-bio-8443-exec-",
    long_loggers=False,
    ssosp_folder=("tomcat", "logs", "ssosp", "log4j"),
    ssosp_service="Cisco Tomcat",
    facts=MappingProxyType(
        {
            "thread_prefix": Fact("documented", _TAC_217268 + "; port 8443 modelled"),
            "long_loggers": Fact("published", _TAC_217268),
            "ssosp_folder": Fact(
                "published", "TAC 212794, ccmalarms15: tomcat/logs/ssosp/log4j/ssosp00NNN.log"
            ),
            "ssosp_service": Fact("published", "TAC 212794: restart Cisco Tomcat"),
        }
    ),
)

_V15 = UcmProfile(
    version="15",
    thread_prefix="http-nio-81-exec-",
    long_loggers=True,
    ssosp_folder=("tomcat", "logs", "ssosp-tomcat", "log4j"),
    ssosp_service="Cisco SSOSP Tomcat",
    facts=MappingProxyType(
        {
            "thread_prefix": Fact("published", _TAC_225746),
            "long_loggers": Fact(
                "documented", _TAC_225746 + "; long names of other loggers modelled"
            ),
            "ssosp_folder": Fact("documented", _RN_14 + "; the log4j/ sub-folder modelled"),
            "ssosp_service": Fact("published", _RN_14),
        }
    ),
)

_V14 = UcmProfile(
    version="14",
    thread_prefix=_V15.thread_prefix,
    long_loggers=True,
    ssosp_folder=_V15.ssosp_folder,
    ssosp_service=_V15.ssosp_service,
    facts=MappingProxyType(
        {
            **_V15.facts,
            "thread_prefix": Fact("modelled", _TAC_225746 + " (seen on 15; assumed on 14)"),
            "long_loggers": Fact("modelled", _TAC_225746 + " (seen on 15; assumed on 14)"),
        }
    ),
)

PROFILES: Mapping[str, UcmProfile] = MappingProxyType({"12.5": _V125, "14": _V14, "15": _V15})
"""Every profile by version."""

VERSIONS: tuple[str, ...] = tuple(PROFILES)
"""The versions logdoctor emulates."""

DEFAULT_VERSION = "12.5"
"""The version of a token service or scenario that names none."""


def profile(version: str | None) -> UcmProfile:
    """The profile of ``version`` (None: :data:`DEFAULT_VERSION`); ValueError naming the known
    versions for any other."""
    p = PROFILES.get(DEFAULT_VERSION if version is None else str(version).strip())
    if p is None:
        raise ValueError(f"UCM version {version!r} unknown (known: {', '.join(VERSIONS)})")
    return p
