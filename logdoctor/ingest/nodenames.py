"""Node names from the bundle's layout: what a download-time folder, an IP address, an FQDN and
a host name look like, and which folder of a file's path names its node (the layout anchors).

Part of node identity (:mod:`logdoctor.ingest.nodes`, step 1 of its docstring).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from logdoctor.ucm.prt import prt_identity

__all__ = [
    "archive_stem",
    "default_node",
    "host_of",
    "is_download_time",
    "is_fqdn",
    "is_ip",
    "node_from_path",
]

# -- names ---------------------------------------------------------------------------------------

_DOWNLOAD_TIME = re.compile(
    r"""^(?:
        \d{4}[-_.]?\d{2}[-_.]?\d{2}                                  # a date
        (?:[ _T.-]?\d{2}[-_.:h]?\d{2}(?:[-_.:m]?\d{2}(?:[.,]\d{1,9})?s?)?)?  # a time of day
        (?:Z|[+-]\d{2}:?\d{2})?                                      # a zone
      | \d{9,13}                                                      # epoch s / ms
      )$""",
    re.VERBOSE,
)
_FQDN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


def is_download_time(name: str) -> bool:
    """True for a folder named after a time (``2024-05-01_10-12-33``, ``20240501103000``,
    ``1714558353``): RTMT and ``file get`` put one under each node, it never names a node."""
    return bool(_DOWNLOAD_TIME.match(name))


def is_ip(name: str) -> bool:
    """True for an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def is_fqdn(name: str) -> bool:
    """True for a dotted host name (``ucm-pub.example.com``), not an IP address."""
    if is_ip(name) or not _FQDN.match(name):
        return False
    return not name.rsplit(".", 1)[-1].isdigit()


def host_of(name: str) -> str:
    """The host name of an FQDN (its first label); any other name as it is."""
    if is_fqdn(name):
        label = name.split(".", 1)[0]
        if not label.isdigit():
            return label
    return name


# -- layout --------------------------------------------------------------------------------------

_ANCHORS = frozenset(
    {
        "platform",
        "tomcat",
        "activelog",
        "active",
        "var",
        "usr",
        "log",
        "syslog",
        "cm",
        "audit",
        "epas",
        "thirdparty",
        "jakarta-tomcat",
    }
)
"""Path components that start the activelog tree of an RTMT / CLI collection (``var/log/
active``, ``usr/local/thirdparty``...); the folder before the first of them names the node."""


_LEAF_FILES = re.compile(r"(?i)^loggingsnapshot_")
"""File names kept in the node's own folder, with no activelog tree above them (an
Expressway's diagnostic log, ``loggingsnapshot_<host>_<date>.txt``)."""


def _parts(rel: str) -> list[str]:
    """The folders and name of a path; a member of an archive (``node.zip!syslog/x``) is
    inside a folder named after the archive (``node``)."""
    path = rel.replace("\\", "/").replace("!", "/")
    parts = [p for p in PurePosixPath(path).parts if p not in ("", "/", ".")]
    return [archive_stem(p) for p in parts[:-1]] + parts[-1:]


def _is_anchor(folders: Sequence[str], i: int) -> bool:
    part = folders[i].lower()
    if part in _ANCHORS:
        return True
    # RTMT writes /usr/local/thirdparty/... with its first 9 characters cut: ``l/thirdparty``.
    return part == "l" and i + 1 < len(folders) and folders[i + 1].lower() == "thirdparty"


def node_from_path(rel: str, default: str, *, anchors_only: bool = False) -> str:
    """The node a file belongs to, from its path inside a bundle.

    ``cucm-pub/platform/log/ssoApp.log`` and ``cucm-pub/2024-05-01_10-12-33/tomcat/...`` give
    ``cucm-pub``; ``RTMT_out/10.1.1.2/l/thirdparty/jakarta-tomcat/logs/...`` gives
    ``10.1.1.2``; ``RTMT_out/expc1/loggingsnapshot_expc1_2026-11-16.txt`` gives ``expc1`` (the
    folder that holds a file kept in its node's folder). With no layout anchor, the first
    folder that is not a download time (unless ``anchors_only``); otherwise ``default``. A
    Jabber problem report filed as ``jabber-prt/<user>/<device>/jabber.log`` gives its device:
    a client, not a server node (:mod:`logdoctor.ucm.prt`).
    """
    prt = prt_identity(rel)
    if prt is not None:
        return prt[1]
    parts = _parts(rel)
    folders = parts[:-1]
    if parts and _LEAF_FILES.match(parts[-1]):
        # A file that sits in its node's own folder: the nearest folder above it.
        for part in reversed(folders):
            if not is_download_time(part):
                return part
        return default
    for i in range(len(folders)):
        if _is_anchor(folders, i):
            for j in range(i - 1, -1, -1):
                if not is_download_time(folders[j]):
                    return folders[j]
            return default
    if not anchors_only:
        for part in folders:
            if not is_download_time(part):
                return part
    return default


_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz", ".zip", ".tar")


def archive_stem(name: str) -> str:
    """An archive's name without its suffix (``10.1.1.10.tar.gz`` -> ``10.1.1.10``)."""
    low = name.lower()
    for suffix in _ARCHIVE_SUFFIXES:
        if low.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def default_node(path: str) -> str:
    """The node name a folder or archive stands for when its files name none: its own name,
    or its parent's when it is a download-time folder (``cucmpub/2024-05-01_10-12-33``)."""
    parts = _parts(path)
    for part in reversed(parts):
        if not is_download_time(part) and part not in ("..",):
            return part
    return "unknown"
