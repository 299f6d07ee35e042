"""The simulator's machinery: determinism, the window, outputs, options, client behaviour."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tomllib
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

import logdoctor
from logdoctor.simulate import SimulationError, simulate
from logdoctor.simulate.clients import Mode, Profile
from logdoctor.simulate.engine import Sim
from logdoctor.simulate.output import OutputError, prepare_dir
from logdoctor.simulate.population import (
    DEVICE_PREFIX,
    JABBER_CLIENT_ID,
    Mix,
    Platform,
    agent_text,
    make_people,
)
from logdoctor.simulate.scenarios import ALL_RULES, SCENARIOS
from logdoctor.tokenservice.clock import from_iso
from tests.helpers.simulate import load_bundle


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small") / "healthy"
    simulate("healthy", out=out, seed=3, users=8, days=2)
    return out


# -- determinism ---------------------------------------------------------------------------------


def test_same_seed_same_bytes(small: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    simulate("healthy", out=again, bundle=tmp_path / "a.zip", seed=3, users=8, days=2)
    assert _hashes(again) == _hashes(small)
    simulate("healthy", bundle=tmp_path / "b.zip", seed=3, users=8, days=2)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_other_seed_other_people_times_and_devices(small: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    simulate("healthy", out=other, seed=4, users=8, days=2)
    a, b = load_bundle(small).frame, load_bundle(other).frame
    assert set(a["user"].drop_nulls().to_list()) != set(b["user"].drop_nulls().to_list())
    assert set(a["device"].drop_nulls().to_list()) != set(b["device"].drop_nulls().to_list())
    assert a["time"].sort().to_list()[:20] != b["time"].sort().to_list()[:20]
    ids_a, ids_b = a["token_id"].drop_nulls().to_list(), b["token_id"].drop_nulls().to_list()
    assert not set(ids_a) & set(ids_b)


@pytest.mark.slow
def test_bundle_zip_holds_the_folder(small: Path, tmp_path: Path) -> None:
    z = tmp_path / "b.zip"
    simulate("healthy", bundle=z, seed=3, users=8, days=2)
    with zipfile.ZipFile(z) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        for name in names:
            assert zf.read(name) == (small / name).read_bytes(), name
            assert zf.getinfo(name).date_time == (2026, 11, 18, 0, 0, 0)
    assert sorted(names) == sorted(_hashes(small))
    from_zip = logdoctor.load([z]).frame
    assert from_zip.height == load_bundle(small).frame.height
    servers = from_zip.filter(pl.col("family") != "jabber")
    # UCM's nodes and the Expressway-C that relays the remote clients (its loggingsnapshot)
    assert set(servers["node"].unique()) == {"ucm-pub", "ucm-sub1", "ucm-sub2", "expc1"}
    assert set(servers.filter(pl.col("node") == "expc1")["family"].unique()) == {"expressway"}
    # Each client's PRT (jabber-prt/<user>/<device>/jabber.log): the client, not a server node.
    prts = from_zip.filter(pl.col("family") == "jabber")
    assert prts.height and prts["user"].null_count() == 0
    assert (prts["node"] == prts["device"]).all()


@pytest.mark.slow
def test_big_files_are_gzipped_reproducibly(tmp_path: Path) -> None:
    out = tmp_path / "gz"
    simulate("healthy", out=out, seed=3, users=8, days=2, gzip_over=20_000)
    gz = sorted(out.rglob("*.gz"))
    plain = sorted(p for p in out.rglob("*.log"))
    assert gz, "nothing was gzipped"
    for p in gz:
        data = p.read_bytes()
        assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\0\0\0\0"  # no time in the header
        assert data[3] & 0x08 == 0  # no file name either
        assert len(gzip.decompress(data)) > 20_000
    assert all(p.stat().st_size <= 20_000 for p in plain)
    stats = logdoctor.load([out]).stats
    assert {Path(st.path).name for st in stats} >= {p.name for p in gz}
    assert all(st.unrecognized == 0 and st.malformed == 0 for st in stats)


# -- the window ----------------------------------------------------------------------------------


def test_window_starts_and_ends_where_asked(tmp_path: Path) -> None:
    out = tmp_path / "w"
    simulate("healthy", out=out, seed=2, users=8, days=2, start="2026-12-02T00:00:00")
    f = load_bundle(out).frame
    start, end = datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC)
    assert f["time"].min() >= start and f["time"].max() < end
    assert f.filter(pl.col("time").dt.day() == 3).height > 50  # the second day is there
    # clients signed in before the window: its first grants are refreshes, not sign-ins
    assert f.filter(pl.col("kind") == "token.refreshed").height > 50


def test_nightly_purge_runs_at_two(small: Path) -> None:
    purge = load_bundle(small).of("token.purged")
    assert purge["node"].unique().to_list() == ["ucm-pub"]
    assert [t.hour for t in purge["time"].to_list()] == [2, 2]


def test_window_too_short_for_the_fault_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match=r"needs 2 working day\(s\)"):
        simulate("revoked-user", out=tmp_path / "r", days=1)
    with pytest.raises(SimulationError, match="working day"):
        simulate("revoked-user", out=tmp_path / "r", days=2, start="2026-11-20")  # Fri, Sat


def test_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown scenario 'nope'.*healthy"):
        simulate("nope", out=tmp_path / "x")
    with pytest.raises(SimulationError, match="not an ISO 8601"):
        simulate("healthy", out=tmp_path / "x", start="next monday")
    with pytest.raises(SimulationError, match="at least 6 users"):
        simulate("revoked-user", out=tmp_path / "y", users=2)
    with pytest.raises(SimulationError, match="nothing to write"):
        simulate("healthy")


@pytest.mark.slow
def test_output_folder_is_never_clobbered(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not empty"):
        prepare_dir(mine, replace=False)
    with pytest.raises(OutputError, match="does not hold a simulation"):
        prepare_dir(mine, replace=True)
    assert (mine / "notes.txt").read_text() == "keep me"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        prepare_dir(a_file, replace=True)
    sim = tmp_path / "sim"
    simulate("healthy", out=sim, seed=3, users=8, days=1)
    (sim / "stale.txt").write_text("old")
    simulate("healthy", out=sim, seed=3, users=8, days=1, replace=True)
    assert not (sim / "stale.txt").exists() and (sim / "expected.json").is_file()


# -- documents -----------------------------------------------------------------------------------


def test_deployment_file_matches_what_the_logs_show(small: Path) -> None:
    dep = tomllib.loads((small / "deployment.toml").read_text())
    f = load_bundle(small).frame
    kids = set(f.filter(pl.col("kind") == "token.access.issued")["key"].to_list())
    cluster = dep["cluster"][0]
    assert kids == {f"{cluster['uuid']}:{cluster['keys']['signing']['checksum']}"}
    assert cluster["keys"]["signing"]["version"] == 1
    assert cluster["parameters"] == {
        "refresh_login_flow": "on",
        "access_token_expiry_minutes": 60,
        "refresh_token_expiry_days": 60,
        "implicit_grant": "on",
    }
    lifetimes = set(f.filter(pl.col("kind") == "token.access.issued")["value"].to_list())
    assert lifetimes == {"3600"}
    devices = set(f["device"].drop_nulls().to_list())
    assert sum(g["count"] for g in dep["jabber"]) >= len(devices)
    for g in dep["jabber"]:
        assert ("push" in g) == (g["platform"] in ("iPhone", "iPad"))
    for e in dep["expressway"]:
        assert e["keys"]["signing"] == cluster["keys"]["signing"]["checksum"]


def test_expected_json_forbids_every_other_rule(small: Path) -> None:
    exp = json.loads((small / "expected.json").read_text())
    assert exp == {
        "scenario": "healthy",
        "seed": 3,
        "expect": [],
        "forbid": list(ALL_RULES),
        "subjects": {},
        "noise": False,
    }


def test_rule_ids_are_well_formed() -> None:
    assert len(ALL_RULES) == len(set(ALL_RULES)) == 33
    assert all(re.fullmatch(r"LD[1-9]\d\d", r) for r in ALL_RULES)


# -- population and clients ----------------------------------------------------------------------


def test_population_devices_and_agents() -> None:
    import random

    people = make_people(random.Random(1), 400, Mix(push_off=0.5, old_jabber=0.2))
    names = [d.name for p in people for d in p.devices]
    assert len(names) == len(set(names))
    assert len({p.user for p in people}) == 400
    for p in people:
        for d in p.devices:
            assert d.name.startswith(DEVICE_PREFIX[d.platform])
            assert re.fullmatch(r"[A-Z]{3}[A-Z0-9]{1,12}", d.name), d.name
            assert (d.push is None) == (not d.platform.ios)
            if d.platform is Platform.VDI:
                assert not d.mra
    platforms = {d.platform for p in people for d in p.devices}
    assert platforms == set(Platform)
    pushes = [d.push for p in people for d in p.devices if d.platform.ios]
    assert 0.3 < pushes.count(False) / len(pushes) < 0.7
    old = [d for p in people for d in p.devices if not d.refresh_capable]
    assert old and all(d.version.startswith("11.8.") for d in old)
    again = make_people(random.Random(1), 400, Mix(push_off=0.5, old_jabber=0.2))
    assert [p.user for p in again] == [p.user for p in people]


def test_agent_form() -> None:
    assert agent_text("Jabber", "14.1.3", Platform.IPHONE, False, True) == (
        "Jabber/14.1.3 (iPhone; push=off; mra)"
    )
    assert agent_text("Jabber", "11.8.5", Platform.WINDOWS, None, False) == (
        "Jabber/11.8.5 (Windows)"
    )
    assert agent_text("RTMT", "14.0.1", "Windows", None, False) == "RTMT/14.0.1 (Windows)"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    sc = SCENARIOS["expressway-refresh-ucm-off"]  # expc1 refresh on, expc2 off
    s = Sim(sc, tmp_path, seed=1, start=from_iso("2026-11-16"), days=2, users=10)
    yield s
    s.close()


def test_flow_a_client_learns(sim: Sim) -> None:
    desk = next(c for c in sim.clients if c.profile is Profile.DESKTOP)
    desk.exp, desk.dev.mra = None, False
    sim.set_param("refresh_login_flow", "on")
    assert sim.mode_for(desk) is Mode.REFRESH
    sim.set_param("refresh_login_flow", "off")
    assert sim.mode_for(desk) is Mode.IMPLICIT
    desk.exp, desk.dev.mra = "expc1", True  # Expressway refresh on: steered to refresh
    assert sim.mode_for(desk) is Mode.REFRESH
    desk.exp = "expc2"
    sim.set_param("refresh_login_flow", "on")
    assert sim.mode_for(desk) is Mode.IMPLICIT  # Expressway refresh off
    desk.exp, desk.dev.mra, desk.dev.version = None, False, "11.8.5"
    assert sim.mode_for(desk) is Mode.IMPLICIT  # too old for refresh logins
    assert sim.rtmt is not None and sim.mode_for(sim.rtmt) is Mode.IMPLICIT
    assert not sim.set_param("access_token_expiry_minutes", "0")


def test_victims_get_what_the_fault_needs(sim: Sim) -> None:
    v = sim.victim(alone=True, mra=True, exp="expc2", version="12.9.5", platform=Platform.MAC)
    assert v.forced and v.person.devices == [v.dev]
    assert v.exp == "expc2" and v.dev.mra and v.dev.platform is Platform.MAC
    assert v.agent == "Jabber/12.9.5 (Mac; mra)"
    assert sum(1 for c in sim.clients if c.person is v.person) == 1
    assert v.client_id == JABBER_CLIENT_ID
    w = sim.victim(Profile.MOBILE, platform=Platform.IPHONE, push=False)
    assert w is not v and w.agent.startswith("Jabber/") and "push=off" in w.agent
    assert sim.workday(0) == from_iso("2026-11-16") and sim.workday(1) == from_iso("2026-11-17")


def test_a_victim_of_another_platform_gets_that_platform_s_device_name(sim: Sim) -> None:
    phone = next(
        c
        for c in sim.clients
        if c.profile is Profile.MOBILE and c.dev.platform is not Platform.IPHONE
    )
    sim.clients = [c for c in sim.clients if c.profile is not Profile.MOBILE or c is phone]
    v = sim.victim(Profile.MOBILE, platform=Platform.IPHONE, push=False)
    assert v is phone
    assert v.device == v.dev.name and v.dev.name.startswith("TCT")
    assert v.agent.startswith("Jabber/") and "(iPhone; push=off" in v.agent
