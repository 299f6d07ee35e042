"""Every verbatim line Cisco has published for these logs parses, with nothing unrecognized.

Each file under tests/assets/verbatim/ holds lines exactly as a Cisco document prints them
(README there); what a source cut is expected here, file by file: a record a web page split
at its second clock leaves its first half malformed, lines whose date the source cut off have
no time.
"""

from __future__ import annotations

import pytest

import logdoctor
from tests.helpers.paths import ASSETS

FILES = sorted(p for p in (ASSETS / "verbatim").iterdir() if p.suffix in (".log", ".txt"))

# name -> (family, malformed lines, records without a time, kinds)
EXPECT: dict[str, tuple[str, int, int, dict[str, int]]] = {
    "ssosp-ucm125.log": ("ssosp", 0, 0, {}),
    "ssosp-errors.log": ("ssosp", 0, 0, {}),
    "ssosp-ucm15.log": ("ssosp", 0, 0, {}),
    "ssosp-push.log": ("ssosp", 0, 0, {}),
    "certMgmt00001.log": ("certmgmt", 0, 0, {}),
    "certCN00001.log": ("certmgmt", 0, 0, {}),
    "ciscosyslog-214607.log": (
        "ciscosyslog",
        1,
        0,
        {"service.failed": 2, "service.started": 2},
    ),
    "ciscosyslog-200410-cli.log": ("ciscosyslog", 0, 0, {"alarm": 2}),
    "jabber-212794-215572.log": (
        "jabber",
        0,
        0,
        {"client.trace": 1, "client.refresh.failed": 1},
    ),
    "jabber-221845.log": (
        "jabber",
        0,
        4,
        {"client.http": 1, "client.trace": 1, "client.auth.failed": 2},
    ),
    "jabber-223101-ios.log": ("jabber", 0, 0, {"client.sso": 1, "client.trace": 1}),
    "loggingsnapshot_vcsc_218018.txt": (
        "expressway",
        0,
        0,
        {"edge.request": 1, "edge.access": 1, "edge.response": 1},
    ),
    "loggingsnapshot_expc01_217230.txt": ("expressway", 0, 0, {"edge.alarm": 1}),
    "loggingsnapshot_exp-c_225746.txt": ("expressway", 0, 0, {"edge.trace": 1}),
    "loggingsnapshot_rtp_211304.txt": ("expressway", 0, 0, {"edge.trace": 1}),
    "AuditApp-adminguide15.log": ("auditapp", 0, 1, {"audit.service": 1}),
}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_verbatim_file(path) -> None:
    family, malformed, timeless, kinds = EXPECT[path.name]
    r = logdoctor.load(path)
    (st,) = r.stats
    assert st.error is None
    assert st.family == family
    assert st.malformed == malformed and st.unrecognized == 0
    assert st.bad_timestamps == timeless
    assert st.lines == len(path.read_bytes().splitlines())
    if kinds:
        assert st.kinds == kinds
    # Every published line is recognized by a pattern that says it is published.
    assert set(r.frame["basis"].to_list()) == {"published"}


def test_all_verbatim_files_are_covered() -> None:
    assert {p.name for p in FILES} == set(EXPECT)
