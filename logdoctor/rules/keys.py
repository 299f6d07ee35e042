"""2xx: authz keys (regeneration, replication, restarts, servers holding old keys). SAML
single sign-on failures are in :mod:`.saml`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import polars as pl

from logdoctor.analysis.keys import KEY_FAILURE_MARKS
from logdoctor.model import Severity
from logdoctor.rules.configuration import relayed
from logdoctor.rules.context import Context, Hit, when
from logdoctor.rules.declared import key_mismatches
from logdoctor.rules.registry import INFERRED, Needs, rule
from logdoctor.ucm.topology import KEY_USES, SERVICE_NOISE

ALARM_TOKEN_DECRYPTION = "40054"
"""Expressway alarm 40054 "Token decryption failure" (administrator guide, alarm table)."""
RESTART_GRACE = timedelta(minutes=30)
"""A missing restart is judged only when the logs go on this long after the regeneration."""


def _service(pattern: str) -> pl.Expr:
    """Events whose service (``param``) names ``pattern`` (see :func:`service_key`)."""
    name = pl.col("param").cast(pl.String).str.to_lowercase().str.replace_all(SERVICE_NOISE, "")
    return name.str.contains(pattern)


def _last_regen(ctx: Context) -> pl.DataFrame:
    regen = ctx.regenerations
    return regen.tail(1)


def _restart_rule(ctx: Context, nodes: list[str], service: str, label: str) -> Iterator[Hit]:
    regen = ctx.regenerations
    if regen.height == 0 or not nodes:
        return
    t = when(regen["time"].max())
    end = when(ctx.events.end)
    if t is None or end is None or end < t + RESTART_GRACE:
        return
    restarts = ctx.events.restarts.filter(_service(service) & (pl.col("time") > t))
    done = set(restarts.select(pl.coalesce("server", "node")).to_series().to_list())
    fails = ctx.key_failures.filter(pl.col("_stale") & (pl.col("time") > t))
    for node in nodes:
        if node in done:
            continue
        mine = fails.filter(pl.col("server") == node).drop(KEY_FAILURE_MARKS)
        tail = (
            f"; {mine.height} token(s) made with the new keys were rejected there since"
            if mine.height
            else ""
        )
        yield Hit(
            subjects=(node,),
            message=(
                f"The authz keys were regenerated at {t:%Y-%m-%d %H:%M:%S} UTC, but {label} was"
                f" not restarted on {node} afterwards{tail}."
            ),
            rows=pl.concat([_last_regen(ctx), mine], how="vertical"),
        )


@rule(
    "LD201",
    Severity.ERROR,
    "IM and Presence central cluster not given the regenerated keys",
    needs=Needs(kinds=INFERRED, roles=("imp_central",), config="or"),
)
def imp_central_keys(ctx: Context) -> Iterator[Hit]:
    """What:
    The authz keys were regenerated on the telephony cluster, but the IM and Presence central
    cluster (a separate cluster) still validates tokens with the old keys.

    Why:
    The publisher replicates new keys only to its own cluster's nodes, including local IM and
    Presence nodes. A centralized IM and Presence deployment runs on another cluster, which
    needs the same procedure on its own publisher; until then Jabber chat and presence fail
    for every user while calls work.

    Detection:
    Validation failures with check ``signature`` or ``decrypt`` for current tokens (see
    LD103) at a server of an ``imp_central`` cluster (declared, or named "central"), at least
    2, with no current token accepted there afterwards. With a deployment file: an
    ``imp_central`` cluster whose ``keys`` differ from those of the cluster it ``serves``.
    Subject: the central cluster (declared) or the server.

    Example:
        2026-11-20 08:10:00,000 WARN  [http-bio-8443-exec-9] oauth.TokenValidator - Token validation failed: server=imp-central1 check=signature user=- client_id=- jti=- kid=8d0d5324-f4f0-4b0b-811e-4a59fdb6b722:c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b

    Fix:
    1. Log in to the command line interface of the UCM publisher of the IM and Presence
       central cluster.
    2. Run `set key regen authz encryption` and enter `yes`; run `set key regen authz
       signing` and enter `yes` (as on the telephony cluster).
    3. Restart the Cisco XCP Authentication Service on all IM and Presence nodes of the
       central cluster, and Cisco CallManager on its UCM nodes.
    4. Check with `show key authz signing` and `show key authz encryption` that every node
       prints the expected checksum.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    - Cisco Unified CM Security Guide 15, Identity management (XCP Authentication Service)
    """  # noqa: E501
    d = ctx.declared
    for server, rows in ctx.stale_servers("imp_central"):
        cluster = d.cluster_of(server) if d is not None else None
        subject = cluster.name if cluster is not None else server
        yield Hit(
            subjects=(subject,),
            message=(
                f"{server} (IM and Presence central cluster) rejected {rows.height} token(s)"
                " made with the telephony cluster's current keys: the central cluster was not"
                " given the regenerated keys."
            ),
            rows=rows,
        )
    if d is not None:
        central = [c for c in d.clusters if c.role == "imp_central"]
        yield from key_mismatches(d, central, "imp_central")


def _cluster_nodes(ctx: Context, role: str) -> list[str]:
    """UCM (role ucm) or local IM and Presence (role imp) nodes of the logs' cluster."""
    if ctx.cluster is not None:
        return list(ctx.cluster.ucm_nodes if role == "ucm" else ctx.cluster.imp)
    seen = set(ctx.raw.frame["node"].unique().to_list())
    seen |= set(ctx.events.of("key.replicated")["node"].to_list())
    if role == "imp":
        seen |= set(
            ctx.events.narrow(["token.validated", "token.rejected"], ["server"])["server"]
            .drop_nulls()
            .unique()
            .to_list()
        )
    if ctx.inferred.publisher:
        seen.add(ctx.inferred.publisher)
    return sorted(n for n in seen if ctx.role(n) == role)


@rule(
    "LD202",
    Severity.ERROR,
    "Keys regenerated but Cisco CallManager not restarted",
    needs=Needs(kinds=INFERRED, roles=("ucm",)),
)
def callmanager_not_restarted(ctx: Context) -> Iterator[Hit]:
    """What:
    The authz signing or encryption key was regenerated, but the Cisco CallManager service was
    not restarted on a UCM node afterwards.

    Why:
    The procedure ends with restarting Cisco CallManager on all nodes of the cluster once the
    keys are reassigned; a node that was not restarted keeps working with the old keys and
    refuses the tokens made with the new ones.

    Detection:
    The last key regeneration, then no restart of Cisco CallManager (``service.started`` in
    CiscoSyslog, ``audit.service`` in AuditApp) on a UCM node (declared publisher and
    subscribers, or the UCM nodes the logs show) while the logs go on for at least 30
    minutes. Failures of new tokens at that node are added as evidence. Subject: the node.

    Example:
        2026-11-20 06:00:00,000 INFO  [main] oauth.AuthzKeyManager - Authz key regenerated: use=signing checksum=c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b version=2

    Fix:
    1. On every UCM node of the cluster, restart the Cisco CallManager service (Cisco Unified
       Serviceability > Tools > Control Center - Feature Services), during off-hours. This is
       the restart the OAuth refresh-login document asks for; TN-212794 (Jabber OAuth
       troubleshooting) also restarts Cisco Tomcat on each node, and the IM and Presence
       Security Guide asks for Cisco XCP Authentication there (rule LD203).
    2. Check with `show key authz signing` and `show key authz encryption` that every node
       prints the same checksum.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/jabber/212794-cisco-collaboration-solutions-12-0-oaut.html
    """  # noqa: E501
    yield from _restart_rule(ctx, _cluster_nodes(ctx, "ucm"), "callmanager", "Cisco CallManager")


@rule(
    "LD203",
    Severity.ERROR,
    "Keys regenerated but Cisco XCP Authentication not restarted",
    needs=Needs(kinds=INFERRED, roles=("imp",)),
)
def xcp_not_restarted(ctx: Context) -> Iterator[Hit]:
    """What:
    The authz keys were regenerated, but the Cisco XCP Authentication Service was not
    restarted on an IM and Presence node of the cluster afterwards.

    Why:
    The local IM and Presence nodes receive the new keys from the publisher, but their XCP
    Authentication Service keeps the old ones until it restarts: Jabber's chat and presence
    sign-in fails with OAuth while calls work.

    Detection:
    The last key regeneration, then no restart of the Cisco XCP Authentication Service
    (``service.started`` in CiscoSyslog, ``audit.service`` in AuditApp) on an IM and
    Presence node of the cluster (declared ``imp``, or IM and Presence nodes the logs show)
    while the logs go on for at least 30 minutes.
    Failures of new tokens at that node are added as evidence. Subject: the node.

    Example:
        2026-11-20 06:00:01,000 INFO  [main] oauth.AuthzKeyManager - Authz key received from publisher: use=encryption checksum=e0fdfcc3e454155ab4236a67e180f26ecb0c2172240fe13af263147cde30f07b version=2 publisher=ucm-pub

    Fix:
    1. On every IM and Presence node, restart the Cisco XCP Authentication Service (Cisco
       Unified IM and Presence Serviceability > Tools > Control Center - Feature Services).
    2. Check with `show key authz signing` and `show key authz encryption` that the IM and
       Presence nodes print the same checksums as the UCM nodes.

    References:
    - Cisco Unified CM Security Guide 15, Identity management (restart the Cisco XCP
      Authentication Service after regenerating the keys)
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/jabber/212794-cisco-collaboration-solutions-12-0-oaut.html
    """  # noqa: E501
    yield from _restart_rule(
        ctx, _cluster_nodes(ctx, "imp"), "xcp", "the Cisco XCP Authentication Service"
    )


@rule(
    "LD204",
    Severity.INFO,
    "Authz key regenerated: every user signs in again",
    needs=Needs(kinds=INFERRED, roles=("ucm",)),
)
def key_regenerated(ctx: Context) -> Iterator[Hit]:
    """What:
    An authz key (signing or encryption) was regenerated. Every access and refresh token made
    with the old key became invalid, so every Jabber user signs in again.

    Why:
    Regenerating the keys is the response to a compromised key; the wave of sign-ins and of
    signature or decryption failures of old tokens that follows is expected, not a fault.

    Detection:
    ``key.regenerated`` lines (ssosp or certMgmt), one finding per key use; the users who
    logged in again within 24 hours are counted. Subject: the cluster and the key use.

    Example:
        2026-11-20 06:00:00,000 INFO  [main] oauth.AuthzKeyManager - Authz key regenerated: use=encryption checksum=e0fdfcc3e454155ab4236a67e180f26ecb0c2172240fe13af263147cde30f07b version=2

    Fix:
    1. Make sure the rest of the procedure was done: the same on an IM and Presence central
       cluster, Refresh servers on Expressway-C, Sync Keys on Unity Connection, and restarts
       of Cisco CallManager (UCM nodes) and the Cisco XCP Authentication Service (IM and
       Presence nodes); LD201 to LD205 say which step is missing.
    2. Tell users to expect one more sign-in.

    References:
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    regen = ctx.regenerations
    logins = ctx.events.where(
        ["authorize.request", "token.access.issued"],
        (pl.col("kind") == "authorize.request")
        | pl.col("grant").is_in(["authorization_code", "implicit"]),
    )
    for use in sorted(regen["param"].drop_nulls().unique().to_list()):
        rows = regen.filter(pl.col("param") == use)
        t = when(rows["time"].min())
        if t is None:
            continue
        again = (
            logins.filter((pl.col("time") >= t) & (pl.col("time") <= t + timedelta(hours=24)))[
                "user"
            ]
            .drop_nulls()
            .n_unique()
        )
        last = rows.tail(1)
        yield Hit(
            subjects=(ctx.cluster_name, use),
            message=(
                f"The {use} key was regenerated {rows.height} time(s), last at"
                f" {last['time'][0]:%Y-%m-%d %H:%M:%S} UTC (version {last['value'][0]},"
                f" checksum {str(last['key'][0])[:12]}…): tokens made with the old key are"
                f" invalid; {again} user(s) signed in again within 24 hours."
            ),
            rows=rows,
        )


@rule(
    "LD205",
    Severity.ERROR,
    "Expressway still validates with the old keys",
    needs=Needs(
        kinds=("edge.alarm", "edge.request", "edge.response"),
        roles=("expressway",),
        families=("expressway",),
        config="or",
    ),
)
def expressway_old_keys(ctx: Context) -> Iterator[Hit]:
    """What:
    An Expressway-C cannot decrypt the tokens UCM issues now because it holds UCM's old keys:
    "Refresh servers" was not done after the keys changed.

    Why:
    Expressway-C validates self-describing tokens with keys fetched from UCM when its Unified
    CM servers are refreshed. After a key regeneration every remote (MRA) Jabber user fails
    until that is done, while users on premises are fine.

    Detection:
    In the Expressway's diagnostic log (``loggingsnapshot_<host>_<date>.txt``): alarm 40054
    "Token decryption failure" (``edge.alarm``; the administrator guide's alarm table names
    it and its fix, "Refresh the Cisco Unified Communications Manager configuration"), then
    at least 2 UDS requests (``/cucm-uds/``) it answered 401 (traffic_server ``Receive
    Request`` / ``Receive Response``, joined by Txn-id), and no UDS request answered 200
    after the last 401 (once it accepts tokens again, Refresh servers was done). UCM does
    not log the Expressway's validations, so no ssosp line is read. With a deployment file:
    an ``[[expressway]]`` whose ``keys`` differ from its cluster's. Subject: the Expressway.

    Example:
        2026-11-20T09:30:00.100-05:00 expc1 alarm: Level="WARN" Event="Alarm Raised" Id="40054" UUID="5b0c3f0e-8d0a-4a59-9f6c-0a1b2c3d4e5f" Severity="warning" Detail="Token decryption failure: The Expressway-C failed to decrypt or decode an OAuth token issued by Unified CM." UTCTime="2026-11-20 14:30:00,100"

    Fix:
    1. On the Expressway-C choose Configuration > Unified Communications > Unified CM servers
       and click Refresh servers (and the same for IM and Presence and Unity Connection
       servers), so that it fetches the new keys.
    2. Check that MRA sign-in works again; the Expressway-E may still block clients that
       failed repeatedly for a few minutes (System > Protection > Automated detection).

    References:
    - Cisco Expressway MRA Deployment Guide X12.6, MRA Access Control (Refresh servers
      fetches the keys needed to decrypt the tokens)
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    ev = ctx.events
    alarms = ev.of("edge.alarm").filter(pl.col("key") == ALARM_TOKEN_DECRYPTION)
    for server in sorted(alarms["node"].drop_nulls().unique().to_list()):
        raised = alarms.filter(pl.col("node") == server)
        uds = relayed(ctx, server, "/cucm-uds/").filter(pl.col("kind") == "edge.response")
        uds = uds.filter(pl.col("time") >= raised["time"].min())
        refused = uds.filter(pl.col("reason") == "401")
        if refused.height < 2:
            continue
        if uds.filter(
            (pl.col("reason") == "200") & (pl.col("time") > refused["time"].max())
        ).height:
            continue  # it accepts tokens again (Refresh servers done)
        yield Hit(
            subjects=(server,),
            message=(
                f'{server} (Expressway-C) raised alarm 40054 "Token decryption failure" at'
                f" {raised['time'][0]:%Y-%m-%d %H:%M:%S} UTC and answered {refused.height}"
                " MRA request(s) with 401 since, none accepted after: it still holds UCM's"
                " old keys (Refresh servers not done)."
            ),
            rows=pl.concat([raised, refused.head(20)], how="vertical"),
        )
    d = ctx.declared
    if d is not None:
        yield from key_mismatches(d, d.expressways, "expressway")


@rule(
    "LD206",
    Severity.ERROR,
    "Nodes of one cluster hold different key checksums",
    needs=Needs(kinds=INFERRED, roles=("ucm", "imp"), nodes=2),
)
def key_checksums_differ(ctx: Context) -> Iterator[Hit]:
    """What:
    The nodes of one cluster do not hold the same authz key: `show key authz signing` (or
    `encryption`) would print different checksums on them.

    Why:
    Every node must validate every token of the cluster; a node with another key refuses
    tokens the others issued (after an upgrade, a restore or a failed replication). Jabber then
    logs "Failed to get valid access token from refresh token, maybe server issue".

    Detection:
    The last key event (loaded, received from the publisher, regenerated) of each node of a
    cluster, per key use, at least 5 minutes before the logs end; the nodes whose checksum
    differs from the most common one (or the publisher's) are named. Clusters are the declared
    ones, or else all UCM and local IM and Presence nodes seen. Subject: the cluster and the
    key use.

    Example:
        2026-11-20 06:00:00,000 INFO  [main] oauth.AuthzKeyManager - Authz key loaded: use=signing checksum=c2770c97bda9d34fd05a7ea1aed3e54ca80bdd7ee35d9703b60b54910bd4484b version=1 server=Cisco%20Tomcat

    Fix:
    1. On the UCM publisher run `set key regen authz signing` (and `set key regen authz
       encryption`) and enter `yes`, so that the publisher replicates one key to every node.
    2. Restart Cisco Tomcat on the nodes whose keys differed, Cisco CallManager on all UCM
       nodes and the Cisco XCP Authentication Service on all IM and Presence nodes.
    3. Check that `show key authz signing` and `show key authz encryption` print the same
       checksums on every node.

    References:
    - https://www.cisco.com/c/en/us/support/docs/unified-communications/jabber/212794-cisco-collaboration-solutions-12-0-oaut.html
    - https://www.cisco.com/c/en/us/td/docs/voice_ip_comm/cucm/admin/12_5_1/systemConfig/cucm_b_system-configuration-guide-1251/cucm_b_system-configuration-guide-1251_chapter_0111000.html
    """  # noqa: E501
    node_keys = ctx.inferred.node_keys
    if not node_keys:
        return
    rows = ctx.events.of("key.regenerated", "key.replicated", "key.loaded").filter(
        pl.col("param").is_in(list(KEY_USES)) & pl.col("key").is_not_null()
    )
    end = when(ctx.events.end)
    groups: list[tuple[str, list[str], str | None]]
    if ctx.declared is not None:
        groups = [(c.name, list(c.nodes), c.publisher) for c in ctx.declared.clusters]
    else:
        nodes = sorted({n for n, _u in node_keys if ctx.role(n) in ("ucm", "imp")})
        groups = [(ctx.cluster_name, nodes, ctx.inferred.publisher)]
    for name, nodes, publisher in groups:
        for use in KEY_USES:
            held = {n: node_keys[(n, use)].checksum for n in nodes if (n, use) in node_keys}
            if len(set(held.values())) < 2:
                continue
            last = rows.filter(pl.col("node").is_in(list(held)) & (pl.col("param") == use))
            latest = when(last["time"].max())
            if end is not None and latest is not None and latest > end - timedelta(minutes=5):
                continue
            if publisher is not None and publisher in held:
                ref = held[publisher]
            else:
                ref = Counter(held.values()).most_common(1)[0][0]
            odd = sorted(n for n, c in held.items() if c != ref)
            per_node = last.group_by("node", maintain_order=True).agg(pl.all().last())
            yield Hit(
                subjects=(name, use),
                message=(
                    f"Nodes of {name} hold different {use} keys: {', '.join(odd)}"
                    f" {'holds' if len(odd) == 1 else 'hold'} another checksum than"
                    f" {str(ref)[:12]}… ({len(held) - len(odd)} of {len(held)} node(s))."
                ),
                rows=per_node.select(rows.columns),
            )
