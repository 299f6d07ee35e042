"""The rules that read what Expressway-C and Unity Connection write (their own logs, not UCM's
ssosp): the node is known for what its log is, whatever its name, and each rule fires on
that source alone and stays quiet when the source shows recovery."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from logdoctor.analysis.inference import infer
from logdoctor.ingest.load import load
from logdoctor.pipeline import check
from tests.helpers.bundle import Bundle
from tests.helpers.lines import PATHS
from tests.helpers.traffic import START

EXP = "gw7"
"""An Expressway whose host name says nothing of its role."""


def _findings(root: Path, rule: str) -> list[tuple[str, ...]]:
    report = check([str(root)])
    return [tuple(f.subjects) for f in report.findings if f.rule == rule]


def _old_keys(b: Bundle, refused: int, *, recovered: bool) -> None:
    t = START
    b.exp_alarm(EXP, t, "40054", "Token decryption failure")
    for i in range(refused):
        b.uds(EXP, t + timedelta(minutes=3 * i, seconds=1), f"user{i}", 401)
    if recovered:
        b.uds(EXP, t + timedelta(hours=1), "user0", 200)


def test_ld205_fires_on_the_expressway_log_alone(tmp_path: Path) -> None:
    b = Bundle()
    _old_keys(b, 4, recovered=False)
    b.write(tmp_path)
    assert _findings(tmp_path, "LD205") == [(EXP,)]
    # Its 401s are LD205's, not an expired-token storm.
    assert _findings(tmp_path, "LD305") == []


def test_ld205_is_quiet_once_the_expressway_accepts_tokens_again(tmp_path: Path) -> None:
    b = Bundle()
    _old_keys(b, 4, recovered=True)
    b.write(tmp_path)
    assert _findings(tmp_path, "LD205") == []


def test_ld205_needs_more_than_one_refusal(tmp_path: Path) -> None:
    b = Bundle()
    _old_keys(b, 1, recovered=False)
    b.write(tmp_path)
    assert _findings(tmp_path, "LD205") == []


def test_ld305_reads_an_expired_token_storm_in_the_expressway_log(tmp_path: Path) -> None:
    b = Bundle()
    for i in range(7):
        b.uds(EXP, START + timedelta(seconds=5 * i), "erin", 401)
    b.uds(EXP, START + timedelta(hours=2), "frank", 401)
    b.write(tmp_path)
    assert _findings(tmp_path, "LD305") == [("erin",)]


def test_ld103_fires_on_unity_connections_alarm(tmp_path: Path) -> None:
    b = Bundle()
    b.unity_alarm("vm1", START)
    b.write(tmp_path)
    assert _findings(tmp_path, "LD103") == [("vm1",)]


def test_a_node_is_known_by_the_log_it_writes(tmp_path: Path) -> None:
    """An Expressway or Unity Connection host named without a hint is given its role by what
    it writes, so the rules that need its logs count as checked."""
    b = Bundle()
    b.uds(EXP, START, "erin", 200)
    b.unity_alarm("vm1", START)
    b.write(tmp_path)
    roles = infer(load([tmp_path]).frame).roles
    assert (roles[EXP], roles["vm1"]) == ("expressway", "unity")


def test_ld101_adds_the_expressways_side_of_the_refused_refresh_grants(tmp_path: Path) -> None:
    """UCM refuses refresh grants through the Expressway (its ssosp); the Expressway's log
    shows the token requests it relayed answered 400: both are the finding's evidence."""
    b = Bundle()
    token = "/ZXhhbXBsZS5jb20vaHR0cHMvdWNtLXB1Yi5leGFtcGxlLmNvbS84NDQz/ssosp/oauth/token"
    for i, user in enumerate(("dave", "erin", "fred")):
        t = START + timedelta(minutes=10 * i)
        b.relay("expc1", t, "POST", token, 400)
        b.refused("ucm-pub", t, "refresh_token", "refresh_disabled", user, None, None, "expc1")
    b.write(tmp_path)
    (f,) = [f for f in check([str(tmp_path)]).findings if f.rule == "LD101"]
    assert f.subjects == ("expc1",)
    kinds = [e.kind for e in f.evidence]
    assert kinds.count("token.rejected") == 3
    assert kinds.count("edge.request") == 3 and kinds.count("edge.response") == 3
    assert "3 token request(s) it relayed answered 400" in f.message


def test_ld303_reads_ucm_s_authldapinactive_alarm(tmp_path: Path) -> None:
    # CiscoSyslog's published form (ccmalarms15: UC_IMS-4-authLdapInactive), UserID named.
    b = Bundle()
    for i, user in enumerate(("bob", "bob", "carol")):
        t = START + timedelta(minutes=i)
        line = (
            f"{t:%b %d %H:%M:%S} ucm-pub local7 4 : {90 + i}: ucm-pub.example.com: "
            f"{t:%b %d %Y %H:%M:%S}.000 UTC : %UC_IMS-4-authLdapInactive: %[UserID={user}]"
            "[AppID=Cisco Tomcat][ClusterID=StandAloneCluster][NodeID=ucm-pub]: Authentication"
            " failed due to the user existing in the local database, but system is configured"
            " for LDAP authentication.."
        )
        b.raw("ucm-pub", PATHS["syslog"], t, line)
    b.write(tmp_path)
    assert sorted(_findings(tmp_path, "LD303")) == [("bob",), ("carol",)]
