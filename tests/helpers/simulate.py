"""Helpers of the simulator tests: load a bundle, and the tell-tale checks of each scenario.

A check looks at the lines an engineer would look for (through ``logdoctor.load``, the same
parsers as everyone) and fails with a message saying what is missing. The checks name no user
or device of a particular seed: they find the scenario's subjects in ``expected.json`` or in
the logs, so the same check holds for every seed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import polars as pl

import logdoctor
from logdoctor.simulate.population import RTMT_CLIENT_ID
from logdoctor.table import ParseStats

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = ROOT / "sample_logs"
SAMPLE_GZIP_OVER: int | None = None
"""What `make samples` passes as --gzip-over (see the Makefile): nothing, no file is gzipped."""
WINDOW_START = datetime(2026, 11, 16, tzinfo=UTC)
"""The default start of the simulator's window (a Monday)."""


@dataclass
class Bundle:
    """A loaded simulation output."""

    root: Path
    frame: pl.DataFrame
    stats: list[ParseStats]
    expected: dict[str, Any]
    deployment: dict[str, Any]

    def of(self, *kinds: str) -> pl.DataFrame:
        """Events of the given kinds, in time order."""
        return self.frame.filter(pl.col("kind").is_in(list(kinds))).sort("time", "node", "line")

    def subjects(self, rule: str) -> list[str]:
        """The subjects ``expected.json`` gives for ``rule``."""
        return list(self.expected["subjects"].get(rule, []))

    @property
    def refusals(self) -> pl.DataFrame:
        """Grant refusals at the token endpoint."""
        return self.of("token.rejected").filter(pl.col("grant").is_not_null())

    @property
    def failures(self) -> pl.DataFrame:
        """Validation failures at a server."""
        return self.of("token.rejected").filter(pl.col("grant").is_null())


def load_bundle(root: Path) -> Bundle:
    """Parse every log of a simulation output and read its two documents."""
    res = logdoctor.load([root])
    assert not res.errors, res.errors
    return Bundle(
        root=root,
        frame=res.frame,
        stats=res.stats,
        expected=json.loads((root / "expected.json").read_text(encoding="utf-8")),
        deployment=tomllib.loads((root / "deployment.toml").read_text(encoding="utf-8")),
    )


def regen_time(b: Bundle) -> datetime:
    """When the signing key was regenerated (certMgmt)."""
    rows = b.of("key.regenerated").filter(
        (pl.col("family") == "certmgmt") & (pl.col("param") == "signing")
    )
    assert rows.height == 1, rows
    t: datetime = rows["time"][0]
    return t


def common(b: Bundle) -> None:
    """What every scenario's output must be: clean parse, documents that agree."""
    assert b.stats, "no log file"
    for st in b.stats:
        assert st.error is None, (st.path, st.error)
        assert st.unrecognized == 0, (st.path, st.unrecognized)
        assert st.malformed == 0, (st.path, st.malformed)
        assert st.decode_errors == 0 and st.bad_timestamps == 0, st.path
        assert st.lines == st.records, st.path  # one line per record: no stray continuation
    exp = b.expected
    assert set(exp) == {"scenario", "seed", "expect", "forbid", "subjects", "noise"}
    assert exp["noise"] is False
    assert not set(exp["expect"]) & set(exp["forbid"])
    assert set(exp["subjects"]) <= set(exp["expect"])
    cluster = b.deployment["cluster"][0]
    declared = {cluster["publisher"], *cluster.get("subscribers", []), *cluster.get("imp", [])}
    for extra in b.deployment["cluster"][1:]:
        declared |= {extra["publisher"], *extra.get("imp", [])}
    declared |= {e["name"] for e in b.deployment.get("expressway", [])}
    declared |= {u["name"] for u in b.deployment.get("unity", [])}
    servers = b.frame.filter(pl.col("family") != "jabber")
    nodes = set(servers["node"].unique().to_list())
    assert nodes <= declared, nodes - declared
    # each client's PRT (jabber-prt/<user>/<device>/): its device is its node, its user known
    prts = b.frame.filter(pl.col("family") == "jabber")
    assert prts.height and prts["user"].null_count() == 0
    assert (prts["node"] == prts["device"]).all()
    assert not set(prts["node"].to_list()) & declared
    ssosp = b.frame.filter(pl.col("family") == "ssosp")
    assert ssosp["time"].min() >= WINDOW_START - timedelta(minutes=2), "warm-up lines kept"


# -- the scenarios -------------------------------------------------------------------------------


def healthy(b: Bundle) -> None:
    """Refreshes on premises and over MRA, nothing refused, nothing at WARN."""
    assert b.of("token.rejected", "auth.failure", "authorize.rejected").height == 0
    assert b.frame.filter(pl.col("level").is_in(["WARN", "ERROR", "DEBUG"])).height == 0
    refreshed = b.of("token.refreshed")
    assert refreshed.filter(pl.col("server").is_null()).height > 50
    assert refreshed.filter(pl.col("server") == "expc1").height > 10
    assert b.deployment["cluster"][0]["parameters"]["refresh_login_flow"] == "on"


def expressway_refresh_ucm_off(b: Bundle) -> None:
    """MRA refresh grants through expc1 refused (refresh_disabled) hour after hour, followed
    by a new sign-in each time; none through expc2 or on premises."""
    refused = b.refusals.filter(pl.col("reason") == "refresh_disabled")
    assert set(refused["server"].unique().to_list()) == {"expc1"}
    assert refused["device"].n_unique() >= 3
    per_device = refused.group_by("device").len()
    assert per_device["len"].max() >= 3  # again and again, not once
    assert b.of("token.refresh.issued").height == 0  # UCM issues none
    # after each refusal the user signs in again through expc1 (code flow)
    again = b.of("authorize.request").filter(
        (pl.col("server") == "expc1") & (pl.col("grant") == "code")
    )
    assert set(refused["device"].to_list()) <= set(again["device"].to_list())
    # clients on premises and through expc2 sign in with the implicit grant
    implicit = b.of("token.access.issued").filter(pl.col("grant") == "implicit")
    assert implicit.filter(pl.col("server").is_null()).height > 0
    assert implicit.filter(pl.col("server") == "expc2").height > 0
    dep = b.deployment
    assert dep["cluster"][0]["parameters"]["refresh_login_flow"] == "off"
    assert {e["name"]: e["authorize_by_oauth_token_with_refresh"] for e in dep["expressway"]} == {
        "expc1": "on",
        "expc2": "off",
    }


def ucm_refresh_expressway_off(b: Bundle) -> None:
    """Through expc1 only implicit-grant sign-ins of Jabber >= 11.9; refresh everywhere else."""
    via1 = b.of("authorize.request").filter(pl.col("server") == "expc1")
    assert via1.height >= 2
    assert set(via1["grant"].to_list()) == {"token"}
    versions = {a.split("/")[1].split(" ")[0] for a in via1["agent"].to_list()}
    assert all(tuple(int(x) for x in v.split(".")[:2]) >= (11, 9) for v in versions), versions
    chains = b.of("token.refreshed", "token.refresh.issued")
    assert chains.filter(pl.col("server") == "expc1").height == 0
    assert chains.filter(pl.col("server") == "expc2").height > 0
    assert chains.filter(pl.col("server").is_null()).height > 0


def _stale_at(b: Bundle, servers: set[str]) -> pl.DataFrame:
    """Validation failures (signature) at ``servers`` of tokens made with the new key."""
    t = regen_time(b)
    new_kid = b.of("key.regenerated").filter(pl.col("param") == "signing")["key"][0]
    rows = b.failures.filter(pl.col("server").is_in(list(servers)))
    assert rows.filter(pl.col("time") < t).height == 0, "failures before the regeneration"
    rows = rows.filter(pl.col("reason") == "signature")
    assert rows.height >= 2, f"no signature failure at {servers}"
    assert all(str(k).endswith(new_kid) for k in rows["key"].to_list())
    return rows


def _restarted(b: Bundle, service: str) -> set[str]:
    rows = b.of("service.started").filter(pl.col("param") == service)
    return set(rows["node"].to_list())


def _synced(b: Bundle) -> set[str]:
    """Nodes and servers that hold the new keys: UCM and IM and Presence nodes by their key
    lines, an Expressway by its "Refresh servers" after the regeneration; Unity Connection's
    Sync Keys leaves no line, so by its declared keys (deployment.toml)."""
    t = regen_time(b)
    rows = b.of("key.loaded", "key.replicated").filter(pl.col("time") >= t)
    done = set(rows["node"].to_list())
    refresh = b.of("edge.config.changed").filter(
        (pl.col("time") >= t) & pl.col("reason").str.starts_with("Refresh servers")
    )
    done |= set(refresh["node"].to_list())
    signing = b.deployment["cluster"][0]["keys"]["signing"]["checksum"]
    done |= {u["name"] for u in b.deployment.get("unity", []) if u["keys"]["signing"] == signing}
    return done


def _edge_refused(b: Bundle, server: str) -> pl.DataFrame:
    """The UDS requests Expressway ``server`` answered 401 (request rows: time, user)."""
    req = b.of("edge.request").filter(
        (pl.col("node") == server) & pl.col("value").str.contains("/cucm-uds/")
    )
    resp = b.of("edge.response").filter((pl.col("node") == server) & (pl.col("reason") == "401"))
    return req.filter(pl.col("key").is_in(resp["key"].to_list()))


def _old_keys_at(b: Bundle, server: str) -> pl.DataFrame:
    """Expressway ``server`` raised alarm 40054 after the regeneration, then refused tokens."""
    t = regen_time(b)
    alarms = b.of("edge.alarm").filter((pl.col("node") == server) & (pl.col("key") == "40054"))
    assert alarms.height >= 1 and alarms["time"].min() > t, "no alarm 40054 after the regen"
    refused = _edge_refused(b, server).filter(pl.col("time") >= alarms["time"].min())
    assert refused.height >= 2, f"no 401 at {server} after alarm 40054"
    return refused


def _mass_relogin(b: Bundle) -> None:
    """Refresh tokens of the old key refused (UCM cannot read them: no user, no tid), each
    followed by a sign-in within two minutes."""
    t = regen_time(b)
    refused = b.refusals.filter(pl.col("reason") == "signature")
    assert refused.height >= 5, "old refresh tokens were not refused"
    assert refused["time"].min() > t and refused["user"].null_count() == refused.height
    logins = b.of("code.issued")["time"].to_list()
    for when in refused["time"].to_list():
        assert any(when < x <= when + timedelta(minutes=2) for x in logins), when


def unity_mismatch(b: Bundle) -> None:
    """After the regeneration Unity keeps its old keys: voicemail validations fail there."""
    _mass_relogin(b)
    # Unity Connection's own evidence is its syslog alarm (UCM does not log its checks).
    alarms = b.of("authz.keys.mismatch")
    assert set(alarms["node"].to_list()) == {"cuc1"}
    assert alarms["time"].min() > regen_time(b) and alarms["family"].to_list()[0] == "ciscosyslog"
    assert "cuc1" not in _synced(b) and "expc1" in _synced(b)
    assert _restarted(b, "Cisco CallManager") == {"ucm-pub", "ucm-sub1", "ucm-sub2"}
    assert (
        b.failures.filter(
            (pl.col("server") != "cuc1") & (pl.col("time") > regen_time(b) + timedelta(hours=1))
        )
        .filter(pl.col("key").str.ends_with(b.of("key.regenerated")["key"][0]))
        .height
        == 0
    )
    unity = b.deployment["unity"][0]
    assert unity["refresh_login_flow"] == "off"
    assert unity["keys"]["signing"] != b.deployment["cluster"][0]["keys"]["signing"]["checksum"]


def imp_central_keys(b: Bundle) -> None:
    """The central IM&P nodes refuse every new token; everything else was done."""
    _mass_relogin(b)
    rows = _stale_at(b, {"impc1", "impc2"})
    assert set(rows["server"].to_list()) == {"impc1", "impc2"}
    synced = _synced(b)
    assert "impc1" not in synced and "impc2" not in synced
    assert {"expc1", "cuc1"} <= synced
    central = b.deployment["cluster"][1]
    assert central["role"] == "imp_central"
    assert central["keys"]["signing"] != b.deployment["cluster"][0]["keys"]["signing"]


def callmanager_not_restarted(b: Bundle) -> None:
    """CallManager restarted on the publisher only: the subscribers refuse new tokens."""
    assert _restarted(b, "Cisco CallManager") == {"ucm-pub"}
    rows = _stale_at(b, {"ucm-pub", "ucm-sub1", "ucm-sub2"})
    assert set(rows["server"].to_list()) == {"ucm-sub1", "ucm-sub2"}


def xcp_not_restarted(b: Bundle) -> None:
    """The local IM&P nodes received the new keys but their XCP Authentication still has the
    old ones: chat and presence refuse new tokens."""
    assert _restarted(b, "Cisco XCP Authentication Service") == set()
    received = b.of("key.replicated").filter(pl.col("node").is_in(["imp1", "imp2"]))
    assert set(received["node"].to_list()) == {"imp1", "imp2"}
    rows = _stale_at(b, {"imp1", "imp2", "ucm-pub", "ucm-sub1", "ucm-sub2", "cuc1"})
    assert set(rows["server"].to_list()) == {"imp1", "imp2"}


def expressway_old_keys(b: Bundle) -> None:
    """Refresh servers not done: expc1 refuses every new token of remote users."""
    _old_keys_at(b, "expc1")
    assert b.failures.filter(pl.col("reason") == "signature").height == 0  # nowhere else
    assert "expc1" not in _synced(b) and "cuc1" in _synced(b)


def expressway_refreshed_late(b: Bundle) -> None:
    """Refresh servers done late: expc1 refuses new tokens, loads the new keys, then none."""
    rows = _old_keys_at(b, "expc1")
    assert b.failures.filter(pl.col("reason") == "signature").height == 0  # nowhere else
    refresh = b.of("edge.config.changed").filter(pl.col("node") == "expc1")
    assert refresh.height == 1 and str(refresh["reason"][0]).startswith("Refresh servers")
    assert rows["time"].max() < refresh["time"].min(), "failures after the key sync"
    accepted = b.of("edge.response").filter(
        (pl.col("node") == "expc1") & (pl.col("reason") == "200")
    )
    assert accepted.filter(pl.col("time") > refresh["time"].min()).height > 10


def key_regen_compromised(b: Bundle) -> None:
    """Every step done: a wave of refused refresh tokens and sign-ins, then no failure."""
    _mass_relogin(b)
    assert _restarted(b, "Cisco CallManager") == {"ucm-pub", "ucm-sub1", "ucm-sub2"}
    assert _restarted(b, "Cisco XCP Authentication Service") == {"imp1", "imp2"}
    assert {"expc1", "cuc1"} <= _synced(b)
    assert b.failures.height == 0
    assert b.of("key.regenerated").filter(pl.col("family") == "certmgmt").height == 2


def revoked_user(b: Bundle) -> None:
    """Two users revoked by the API; one keeps presenting the revoked token, one signs in."""
    (stubborn,) = b.subjects("LD301")
    revoked = set(b.subjects("LD302"))
    req = b.of("revoke.request")
    assert set(req["user"].to_list()) == revoked and set(req["reason"].to_list()) == {"success"}
    assert set(b.of("token.revoked")["reason"].to_list()) == {"revoke_api"}
    t = req["time"].min()
    again = b.refusals.filter(
        (pl.col("reason") == "revoked") & (pl.col("user") == stubborn) & (pl.col("time") > t)
    )
    assert again.height >= 3
    assert (
        b.of("code.issued").filter((pl.col("user") == stubborn) & (pl.col("time") > t)).is_empty()
    )
    (other,) = revoked - {stubborn}
    assert b.of("code.issued").filter((pl.col("user") == other) & (pl.col("time") > t)).height


def inactive_user(b: Bundle) -> None:
    """After the LDAP removal the user's grants and sign-ins are refused as inactive."""
    (user,) = b.subjects("LD303")
    mine = b.of("auth.failure", "token.rejected").filter(pl.col("user") == user)
    assert set(mine["reason"].to_list()) == {"inactive_user"}
    assert mine.filter(pl.col("kind") == "auth.failure").height >= 2
    assert mine.filter(pl.col("kind") == "token.rejected").height >= 1
    first = mine["time"].min()
    assert (
        b.of("token.access.issued")
        .filter((pl.col("user") == user) & (pl.col("time") > first))
        .is_empty()
    )


def no_access_user(b: Bundle) -> None:
    """Authenticated, then refused for lack of access, every time; never a token."""
    (user,) = b.subjects("LD304")
    ok = b.of("auth.success").filter(pl.col("user") == user)
    refused = b.of("authorize.rejected").filter(pl.col("user") == user)
    assert ok.height >= 2 and refused.height == ok.height
    assert set(refused["reason"].to_list()) == {"no_access"}
    assert b.of("token.access.issued").filter(pl.col("user") == user).is_empty()


def _old_devices(b: Bundle, rule: str) -> list[str]:
    return [s for s in b.subjects(rule) if not s.startswith("Jabber ")]


def old_jabber_implicit(b: Bundle) -> None:
    """Jabber 11.8 signs in by implicit grant hour after hour while refresh grants flow."""
    devices = _old_devices(b, "LD401")
    assert len(devices) >= 2
    req = b.of("authorize.request").filter(pl.col("device").is_in(devices))
    assert set(req["grant"].to_list()) == {"token"}
    assert all(a.startswith("Jabber/11.8.") for a in req["agent"].to_list())
    assert req.group_by("device").len()["len"].min() >= 4
    assert b.of("token.refreshed").height > 50


def refresh_off_clients_not_reset(b: Bundle) -> None:
    """After the change to off, refresh tokens issued earlier are still presented."""
    change = b.of("config.changed").filter(pl.col("param") == "refresh_login_flow")
    assert change["value"].to_list() == ["off"]
    t = change["time"][0]
    issued = set(b.of("token.refresh.issued").filter(pl.col("time") < t)["token_id"].to_list())
    late = b.refusals.filter(
        (pl.col("reason") == "refresh_disabled") & (pl.col("time") > t + timedelta(minutes=10))
    )
    assert late.height >= 5 and set(late["token_id"].to_list()) <= issued
    assert late["device"].n_unique() >= 3
    # the next morning clients fetch their configuration and use the implicit grant
    assert (
        b.of("token.access.issued")
        .filter((pl.col("grant") == "implicit") & (pl.col("time") > t + timedelta(hours=14)))
        .height
    )


def implicit_grant_disabled(b: Bundle) -> None:
    """Implicit grant off: Jabber 11.8 and RTMT refused, where the day before they signed in."""
    change = b.of("config.changed").filter(pl.col("param") == "implicit_grant")
    assert change["value"].to_list() == ["off"]
    t = change["time"][0]
    before = b.of("token.access.issued").filter(
        (pl.col("grant") == "implicit") & (pl.col("time") < t)
    )
    refused = b.of("authorize.rejected").filter(pl.col("reason") == "implicit_disabled")
    assert refused.height >= 3 and refused["time"].min() > t
    assert (
        b.of("token.access.issued")
        .filter((pl.col("grant") == "implicit") & (pl.col("time") > t))
        .is_empty()
    )
    assert set(_old_devices(b, "LD401")) <= set(before["device"].drop_nulls().to_list())
    # RTMT (its own client id, no device) was refused too
    rtmt = refused.filter(pl.col("client_id") == RTMT_CLIENT_ID)
    assert rtmt.height >= 1 and set(rtmt["user"].to_list()) == {"ucadmin"}


def access_timer_out_of_range(b: Bundle) -> None:
    """Two refused values, the timer stays at 60 minutes."""
    rej = b.of("config.rejected")
    assert rej["value"].to_list() == ["2000", "1500"]
    assert set(rej["reason"].to_list()) == {"out_of_range 1-1440"}
    assert set(b.of("token.access.issued")["value"].to_list()) == {"3600"}
    assert b.of("config.changed").is_empty()


def refresh_timer_short(b: Bundle) -> None:
    """Timer set to 1 day: every refresh token revoked, day-long tokens, expired next day."""
    change = b.of("config.changed").filter(pl.col("param") == "refresh_token_expiry_days")
    assert change["value"].to_list() == ["1"]
    t = change["time"][0]
    revoked = b.of("token.revoked")
    assert set(revoked["reason"].to_list()) == {"refresh_timer_changed"}
    installs = sum(g["count"] for g in b.deployment["jabber"])
    assert revoked.height >= 0.8 * installs and (revoked["time"] == t).all()
    issued = b.of("token.refresh.issued").filter(pl.col("time") > t)
    assert set(issued["value"].to_list()) == {"86400"}
    expired = b.refusals.filter(pl.col("reason") == "expired")
    assert expired.height >= 2 and expired["time"].min() > t + timedelta(days=1)


def ios_no_push(b: Bundle) -> None:
    """iPhones sign in declaring push=off."""
    devices = _old_devices(b, "LD402")
    req = b.of("authorize.request").filter(pl.col("device").is_in(devices))
    assert set(req["device"].to_list()) == set(devices)
    assert all("iPhone" in a and "push=off" in a for a in req["agent"].to_list())
    assert all(d.startswith("TCT") for d in devices)


def duplicate_device_mra(b: Bundle) -> None:
    """One device name, two refresh chains through expc1, alternating again and again."""
    (device,) = b.subjects("LD403")
    rows = b.of("token.refreshed").filter(pl.col("device") == device)
    assert set(rows["server"].to_list()) == {"expc1"}
    tids = rows["token_id"].to_list()
    assert len(set(tids)) == 2
    switches = sum(1 for a, c in pairwise(tids) if a != c)
    assert switches >= 4


def samltrace_debug(b: Bundle) -> None:
    """DEBUG set weeks before the window, DEBUG lines on those nodes all along."""
    marks = b.of("trace.level")
    nodes = set(b.subjects("LD904"))
    assert set(marks["node"].to_list()) == nodes and set(marks["value"].to_list()) == {"DEBUG"}
    assert marks["time"].max() < WINDOW_START - timedelta(days=14)
    debug = b.frame.filter(pl.col("level") == "DEBUG")
    assert set(debug["node"].unique().to_list()) == nodes
    for node in nodes:
        mine = debug.filter(pl.col("node") == node)
        assert {"sso.filter", "token.validated"} <= set(mine["kind"].to_list())
        assert mine["time"].max() - mine["time"].min() > timedelta(days=2)
        share = mine.height / b.frame.filter(pl.col("node") == node).height
        assert share > 0.3, (node, share)  # a good part of what the node writes


def clock_skew(b: Bundle) -> None:
    """Tokens of ucm-sub2 refused elsewhere as not yet valid, logged before their issue."""
    issued = b.of("token.access.issued").select(
        "token_id", pl.col("node").alias("issuer"), pl.col("time").alias("t_issue")
    )
    early = b.failures.filter(pl.col("reason") == "not_yet_valid").join(issued, on="token_id")
    assert early.height >= 5
    assert set(early["issuer"].to_list()) == {"ucm-sub2"}
    assert "ucm-pub" in set(early["server"].to_list())
    ahead = early.select((pl.col("t_issue") - pl.col("time")).dt.total_seconds()).to_series()
    assert ahead.max() > 60  # the refusal is logged a minute before the token's issue


def mra_expired_token_storm(b: Bundle) -> None:
    """Each storm user presents an expired token more than 5 times in 10 minutes."""
    for user in b.subjects("LD305"):
        # The Expressway's log: the UDS requests it answered 401 (its own checks).
        rows = _edge_refused(b, "expc1").filter(pl.col("user") == user).sort("time")
        assert b.of("edge.alarm").height == 0  # not a key problem
        times = rows["time"].to_list()
        assert any(times[i + 5] - times[i] <= timedelta(minutes=10) for i in range(len(times) - 5))


TELLTALE: dict[str, Callable[[Bundle], None]] = {
    "healthy": healthy,
    "expressway-refresh-ucm-off": expressway_refresh_ucm_off,
    "ucm-refresh-expressway-off": ucm_refresh_expressway_off,
    "unity-mismatch": unity_mismatch,
    "imp-central-keys": imp_central_keys,
    "callmanager-not-restarted": callmanager_not_restarted,
    "xcp-not-restarted": xcp_not_restarted,
    "expressway-old-keys": expressway_old_keys,
    "expressway-refreshed-late": expressway_refreshed_late,
    "key-regen-compromised": key_regen_compromised,
    "revoked-user": revoked_user,
    "inactive-user": inactive_user,
    "no-access-user": no_access_user,
    "old-jabber-implicit": old_jabber_implicit,
    "refresh-off-clients-not-reset": refresh_off_clients_not_reset,
    "implicit-grant-disabled": implicit_grant_disabled,
    "access-timer-out-of-range": access_timer_out_of_range,
    "refresh-timer-short": refresh_timer_short,
    "ios-no-push": ios_no_push,
    "duplicate-device-mra": duplicate_device_mra,
    "samltrace-debug": samltrace_debug,
    "clock-skew": clock_skew,
    "mra-expired-token-storm": mra_expired_token_storm,
}
"""The tell-tale check of every scenario."""
