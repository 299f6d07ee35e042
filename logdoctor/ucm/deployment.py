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
:class:`DeploymentError` with a message that names the file, the line, the key and the
allowed values.

This module is the deployment file's public face: the values live in
:mod:`logdoctor.ucm.deploymodel`, the reading (TOML, key lines) in :mod:`logdoctor.ucm.deployread`
and the checks of each table in :mod:`logdoctor.ucm.deployvalidate`.
"""

from __future__ import annotations

from logdoctor.ucm.deploymodel import (
    Cluster,
    Deployment,
    DeploymentError,
    Expressway,
    JabberGroup,
    KeyInfo,
    Parameters,
    Unity,
)
from logdoctor.ucm.deployread import load_deployment, parse_deployment

__all__ = [
    "Cluster",
    "Deployment",
    "DeploymentError",
    "Expressway",
    "JabberGroup",
    "KeyInfo",
    "Parameters",
    "Unity",
    "load_deployment",
    "parse_deployment",
]
