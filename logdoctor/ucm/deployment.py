"""The declared deployment: a TOML file that says what the UC deployment is meant to be.

``logdoctor check --config deployment.toml`` compares it with what the logs show, and some
rules (a UCM / Expressway refresh mismatch, Jabber releases that cannot do refresh logins...)
can judge it alone. The schema (every key optional unless marked)::

    [[cluster]]                          # one per UCM cluster
    name = "ucm"                         # required, unique
    role = "telephony"                   # telephony (default) | imp_central
    publisher = "ucm-pub"                # required: the UCM publisher node
    subscribers = ["ucm-sub1"]           # UCM subscriber nodes
    imp = ["imp1"]                       # IM and Presence nodes of this cluster
    uuid = "8d0d5324-..."                # the cluster id (the prefix of token kids)
    serves = "ucm"                       # imp_central: the telephony cluster it serves
    timezone = "America/New_York"        # zone of the nodes' log times (IANA name or -05:00)
    node_timezones = { "ucm-sub2" = "Europe/London" }   # a node in another zone

    [cluster.parameters]                 # enterprise parameters
    refresh_login_flow = "on"            # on | off           (UCM default: off)
    access_token_expiry_minutes = 60     # 1-1440             (default 60)
    refresh_token_expiry_days = 60       # 1-365              (default 60)
    implicit_grant = "on"                # on | off           (default on)

    [cluster.keys]                       # what `show key authz signing|encryption` prints
    signing = { version = 2, checksum = "c2770c97..." }
    encryption = { version = 1, checksum = "e0fdfcc3..." }

    [cluster.addresses]                  # other names of the cluster's nodes
    ucm-pub = ["10.48.36.11", "ucm-pub.example.com"]   # IP addresses, FQDNs

    [[expressway]]
    name = "expc1"                       # required: the name it has in the logs (via=)
    cluster = "ucm"                      # default: the first telephony cluster
    authorize_by_oauth_token_with_refresh = "on"   # on | off (Expressway default: on)
    keys = { signing = "c2770c97..." }   # checksums it holds (after "Refresh servers")
    addresses = ["10.48.36.20"]          # its other names (IP addresses, FQDNs)

    [[unity]]                            # Unity Connection
    name = "cuc1"                        # required
    cluster = "ucm"
    refresh_login_flow = "on"            # on | off (Unity default: off)
    keys = { signing = "...", encryption = "..." }   # after "Sync Keys"
    addresses = ["10.48.36.30"]

    [[jabber]]                           # the Jabber inventory, one entry per group
    platform = "iPhone"                  # Windows | Mac | iPhone | iPad | Android | VDI
    version = "14.1.0"                   # required
    count = 120                          # default 1
    mra = true                           # signs in over Mobile and Remote Access
    push = false                         # push notifications (iPhone / iPad)

Nodes may be named by host name, FQDN or IP address; ``addresses`` lists a node's other
names, so that a collection whose folders are named by IP address (RTMT with servers defined
by IP) and logs that name hosts all meet under one name (see :mod:`logdoctor.ingest.nodes`).
``on`` / ``off`` may also be written ``true`` / ``false``. A bad file raises
:class:`~logdoctor.ucm.deploymodel.DeploymentError` with a message that names the file, the
line, the key and the allowed values.

This module reads the file (the TOML text, the line of each key for messages) and validates it
table by table (:mod:`logdoctor.ucm.deployvalidate`) into a
:class:`~logdoctor.ucm.deploymodel.Deployment`; the values live in
:mod:`logdoctor.ucm.deploymodel`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from logdoctor.ucm.deploymodel import Deployment, DeploymentError
from logdoctor.ucm.deployvalidate import (
    Validator,
    check_addresses,
    read_cluster,
    read_expressway,
    read_jabber,
    read_unity,
)

__all__ = ["load_deployment", "parse_deployment"]

# -- loading -------------------------------------------------------------------------------------


def load_deployment(path: str | Path) -> Deployment:
    """Read and validate a deployment file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeploymentError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DeploymentError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    return parse_deployment(text, str(path))


def parse_deployment(text: str, path: str = "deployment.toml") -> Deployment:
    """Validate the TOML text of a deployment file (``path`` names it in messages)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeploymentError(f"{path}: not valid TOML: {exc}") from None
    lines = _locate(text)
    v = Validator(path, lines)
    v.keys(doc, "", {"version", "cluster", "expressway", "unity", "jabber"})
    if "version" in doc and doc["version"] != 1:
        v.fail("version", f"{doc['version']!r} is not a supported schema version (allowed: 1)")
    clusters = tuple(
        read_cluster(v, c, f"cluster[{i}]") for i, c in enumerate(v.array(doc, "cluster"))
    )
    names = [c.name for c in clusters]
    for i, n in enumerate(names):
        if names.index(n) != i:
            v.fail(f"cluster[{i}].name", f"{n!r} is used by another cluster (names are unique)")
    seen: dict[str, str] = {}
    for i, c in enumerate(clusters):
        for n in c.nodes:
            if n in seen:
                v.fail(f"cluster[{i}]", f"node {n!r} is already a node of cluster {seen[n]!r}")
            seen[n] = c.name
        if c.serves is not None and c.serves not in names:
            v.fail(f"cluster[{i}].serves", f"{c.serves!r} is not a cluster (allowed: {names})")
    default = next((c.name for c in clusters if c.role == "telephony"), None)
    expressways = tuple(
        read_expressway(v, e, f"expressway[{i}]", names, default)
        for i, e in enumerate(v.array(doc, "expressway"))
    )
    unity = tuple(
        read_unity(v, u, f"unity[{i}]", names, default) for i, u in enumerate(v.array(doc, "unity"))
    )
    jabber = tuple(read_jabber(v, j, f"jabber[{i}]") for i, j in enumerate(v.array(doc, "jabber")))
    check_addresses(v, clusters, expressways, unity)
    return Deployment(
        path=path,
        clusters=clusters,
        expressways=expressways,
        unity=unity,
        jabber=jabber,
        lines=lines,
        text_lines=tuple(text.splitlines()),
    )


# -- key paths -> line numbers -------------------------------------------------------------------

_ARRAY_HDR = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE_HDR = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_-]+)\s*=")


def _locate(text: str) -> dict[str, int]:
    """Map key paths to the line they are written on (a small scan, enough for this schema:
    arrays of tables, sub-tables, keys and one level of inline tables)."""
    out: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    for n, line in enumerate(text.splitlines(), start=1):
        if m := _ARRAY_HDR.match(line):
            name = m.group(1)
            counts[name] = counts.get(name, -1) + 1
            table = f"{name}[{counts[name]}]"
            out.setdefault(table, n)
            continue
        if m := _TABLE_HDR.match(line):
            first, _, rest = m.group(1).partition(".")
            base = f"{first}[{counts[first]}]" if first in counts else first
            table = f"{base}.{rest}" if rest else base
            out.setdefault(table, n)
            continue
        if m := _KEY.match(line):
            key = f"{table}.{m.group(1)}" if table else m.group(1)
            out.setdefault(key, n)
            brace = line.find("{", m.end())
            if brace != -1:
                for sub in _INLINE_KEY.finditer(line, brace):
                    out.setdefault(f"{key}.{sub.group(1)}", n)
    return out
