"""Roles, services and key uses: one vocabulary, with the explicit mappings between its views.

Three views of "what a node is" exist because they answer different questions:

- :class:`Role`: what a node *is* in a deployment the token service emulates (a publisher and
  its subscribers are told apart: only the publisher holds the authz keys);
- :data:`NODE_ROLES`: what the *logs* let the analysis tell apart (``ucm`` for every UCM node,
  ``unknown`` when nothing says); :data:`ROLE_IN_LOGS` maps the first onto the second;
- :data:`CLUSTER_ROLES`: what a *cluster* is in a deployment file (a telephony cluster, or an
  IM&P central cluster that holds no phones).

Key uses (:class:`KeyUse`, :data:`KEY_USES`) and the restartable services (:data:`SERVICES`,
with :func:`service_key`, the one normalisation of a service name as logs and commands write
it) live here too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CLUSTER_ROLES",
    "KEY_USES",
    "NODE_ROLES",
    "ROLE_IN_LOGS",
    "SERVICES",
    "SERVICE_NOISE",
    "KeyUse",
    "Role",
    "ServiceSpec",
    "service_key",
]


class Role(StrEnum):
    """What a node is."""

    PUBLISHER = "publisher"
    SUBSCRIBER = "subscriber"
    IMP = "imp"
    IMP_CENTRAL = "imp-central"
    EXPRESSWAY = "expressway"
    UNITY = "unity"


NODE_ROLES = ("ucm", "imp", "imp_central", "expressway", "unity", "unknown")
"""Roles a node or server name can have in the analysis of logs."""

ROLE_IN_LOGS: Mapping[Role, str] = {
    Role.PUBLISHER: "ucm",
    Role.SUBSCRIBER: "ucm",
    Role.IMP: "imp",
    Role.IMP_CENTRAL: "imp_central",
    Role.EXPRESSWAY: "expressway",
    Role.UNITY: "unity",
}
"""A node's :class:`Role` as the analysis of its logs names it (one of :data:`NODE_ROLES`)."""

CLUSTER_ROLES = ("telephony", "imp_central")
"""What a cluster of a deployment file is."""


class KeyUse(StrEnum):
    """What an authz key is for."""

    SIGNING = "signing"
    ENCRYPTION = "encryption"


KEY_USES: tuple[str, ...] = tuple(u.value for u in KeyUse)
"""The two authz keys: RSA signing and symmetric encryption."""


@dataclass(frozen=True)
class ServiceSpec:
    """A restartable service (``logdoctor service restart NAME``)."""

    name: str
    label: str
    roles: frozenset[Role]


SERVICES: dict[str, ServiceSpec] = {
    s.name: s
    for s in (
        ServiceSpec(
            "callmanager", "Cisco CallManager", frozenset({Role.PUBLISHER, Role.SUBSCRIBER})
        ),
        ServiceSpec(
            "xcp-auth", "Cisco XCP Authentication Service", frozenset({Role.IMP, Role.IMP_CENTRAL})
        ),
        ServiceSpec(
            "tomcat",
            "Cisco Tomcat",
            frozenset({Role.PUBLISHER, Role.SUBSCRIBER, Role.IMP, Role.IMP_CENTRAL, Role.UNITY}),
        ),
        # UCM 14 and later only (logdoctor.ucm.versions): SSOSP's own Tomcat container.
        ServiceSpec(
            "ssosp-tomcat", "Cisco SSOSP Tomcat", frozenset({Role.PUBLISHER, Role.SUBSCRIBER})
        ),
    )
}

SERVICE_NOISE = r"[\s_-]"
"""What :func:`service_key` drops (as a regex, for vectorized use on an event column)."""

_NOISE = re.compile(SERVICE_NOISE)


def service_key(name: str) -> str:
    """A service name as compared: lower case, without spaces, ``_`` or ``-``
    (``Cisco CallManager`` -> ``ciscocallmanager``, ``xcp-auth`` -> ``xcpauth``)."""
    return _NOISE.sub("", name.lower())
