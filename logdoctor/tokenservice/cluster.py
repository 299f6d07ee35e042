"""The deployment the service emulates: clusters, nodes and what each role does with keys.

One UCM cluster issues tokens (its publisher holds the authz keys). Its subscribers and its
local IM&P nodes receive every regenerated key from the publisher at once; the services that
validate tokens in memory (Cisco CallManager on UCM nodes, the Cisco XCP Authentication Service
on IM&P nodes) keep using the keys they loaded until they are restarted. Everything outside the
cluster holds its own copy, refreshed only by its own action: an IM&P central cluster (key sync
on its publisher), Expressway-C ("Refresh servers"), Unity Connection ("Sync Keys").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from logdoctor.ucm.topology import SERVICES, Role, ServiceSpec

__all__ = [
    "SERVICES",
    "Node",
    "Role",
    "RoleSpec",
    "ServiceSpec",
    "check_name",
    "role_spec",
]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def check_name(kind: str, name: str) -> str:
    """Validate a node or cluster name (it becomes a folder name in the log tree)."""
    if not NAME_RE.match(name):
        raise ValueError(
            f"{kind} name {name!r}: use letters, digits, '.', '_' or '-' (1-63, not starting "
            "with a punctuation mark)"
        )
    return name


@dataclass(frozen=True)
class RoleSpec:
    """How a role holds and uses keys."""

    replicated: bool
    """Receives regenerated keys from the publisher at once (same cluster)."""
    validator: str
    """Label of what validates tokens there (written as ``server=`` of key.loaded lines)."""
    restart_service: str | None
    """Service whose restart loads the node's stored keys into the validator (None: at once)."""
    sync_action: str | None
    """The node's own action that fetches the publisher's keys (None: replicated)."""
    issues: bool
    """Serves the OAuth endpoints (a UCM node)."""


_ROLES: dict[Role, RoleSpec] = {
    Role.PUBLISHER: RoleSpec(True, "Cisco CallManager", "callmanager", None, True),
    Role.SUBSCRIBER: RoleSpec(True, "Cisco CallManager", "callmanager", None, True),
    Role.IMP: RoleSpec(True, "Cisco XCP Authentication Service", "xcp-auth", None, False),
    Role.IMP_CENTRAL: RoleSpec(
        False, "Cisco XCP Authentication Service", "xcp-auth", "key sync (IM&P central)", False
    ),
    Role.EXPRESSWAY: RoleSpec(False, "Expressway-C", None, "Refresh servers", False),
    Role.UNITY: RoleSpec(False, "Cisco Unity Connection", None, "Sync Keys", False),
}


def role_spec(role: Role) -> RoleSpec:
    """The key behaviour of ``role``."""
    return _ROLES[role]


@dataclass(frozen=True)
class Node:
    """A node or server of the deployment."""

    name: str
    role: Role
    cluster: str
    clock_offset: float = 0.0
    """Seconds this node's clock is ahead (+) or behind (-) of true time (logs, validation)."""
    trace_level: str = "info"
    """samltrace level: info or debug (debug adds DEBUG lines to its ssosp log)."""

    @property
    def spec(self) -> RoleSpec:
        """Key behaviour of its role."""
        return _ROLES[self.role]
