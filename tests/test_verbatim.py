"""Every verbatim line Cisco has published for these logs parses, with nothing unrecognized."""

from __future__ import annotations

import pytest

import logdoctor
from tests.conftest import ASSETS

FILES = sorted(p for p in (ASSETS / "verbatim").iterdir() if p.suffix == ".log")


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_verbatim_file(path) -> None:
    r = logdoctor.load(path)
    (st,) = r.stats
    assert st.error is None
    assert st.malformed == 0 and st.unrecognized == 0 and st.bad_timestamps == 0
    assert st.lines == len(path.read_bytes().splitlines())
    expected_family = "certmgmt" if path.name.startswith("cert") else "ssosp"
    assert st.family == expected_family


def test_all_verbatim_files_are_covered() -> None:
    assert {p.name for p in FILES} == {
        "ssosp-ucm125.log",
        "ssosp-errors.log",
        "ssosp-ucm15.log",
        "ssosp-push.log",
        "certMgmt00001.log",
        "certCN00001.log",
    }
