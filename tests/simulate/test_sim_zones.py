"""A scenario with nodes in two zones (and on UCM 14): the zones are written, declared and read.

``expressway-refreshed-late`` runs its publisher and imp1 in America/New_York and the other
nodes in Europe/Berlin. Their ssosp, certMgmt and AuditApp files hold local time without a zone;
CiscoSyslog holds both clocks and the deployment file names each zone. Either source alone is
enough for the expected verdicts; with neither, the same bundle shows clocks hours apart (which
is what proves the sample exercises the zones).
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import polars as pl

from logdoctor.pipeline import check
from tests.helpers.simulate import SAMPLES, load_bundle, regen_time

NAME = "expressway-refreshed-late"
ZONES = {
    "ucm-pub": "America/New_York",
    "imp1": "America/New_York",
    "ucm-sub1": "Europe/Berlin",
    "ucm-sub2": "Europe/Berlin",
    "imp2": "Europe/Berlin",
}


def _rules(folder: Path, config: Path | None) -> set[str]:
    report = check([str(folder)], config=config)
    return {f.rule for f in report.findings}


def test_the_sample_declares_and_states_each_zone() -> None:
    root = SAMPLES / NAME
    deployment = tomllib.loads((root / "deployment.toml").read_text(encoding="utf-8"))
    assert deployment["cluster"][0]["node_timezones"] == ZONES
    b = load_bundle(root)
    stated = {st.node: st.utc_offset for st in b.stats if st.path.endswith("CiscoSyslog")}
    assert stated == {n: "-05:00" if "New_York" in z else "+01:00" for n, z in ZONES.items()}
    zone_from = {st.node: st.zone_from for st in b.stats if "ssosp-tomcat" in st.path}
    assert all(zone_from[n] and zone_from[n].endswith("CiscoSyslog") for n in ZONES)
    # the same moment on two nodes: the regeneration replicated from New York to Berlin
    first = (root / "ucm-sub1/tomcat/logs/ssosp-tomcat/log4j/ssosp00001.log").read_text()
    assert "2026-11-16 06:30:00,000 INFO  [main]  cpi.sso.oauth.AuthzKeyManager" in first
    regen = regen_time(b)  # certMgmt on ucm-pub, 00:30 in New York
    got = b.of("key.replicated").filter(
        (pl.col("node") == "ucm-sub1") & (pl.col("param") == "signing")
    )
    assert got["time"].to_list()[:1] == [regen.replace(microsecond=0)]


def test_either_zone_source_alone_gives_the_expected_verdicts(tmp_path: Path) -> None:
    expected = json.loads((SAMPLES / NAME / "expected.json").read_text(encoding="utf-8"))
    bundle = tmp_path / NAME
    shutil.copytree(SAMPLES / NAME, bundle)
    config = bundle / "deployment.toml"
    with_syslog = _rules(bundle, None)  # the two clocks of CiscoSyslog
    for f in bundle.rglob("CiscoSyslog"):
        f.unlink()
    declared = _rules(bundle, config)  # the deployment file's node_timezones
    unknown = _rules(bundle, None)  # neither: read as UTC
    for got in (with_syslog, declared):
        assert got & set(expected["forbid"]) == set()
        assert set(expected["expect"]) <= got
    assert "LD903" in unknown and "LD903" in expected["forbid"]
