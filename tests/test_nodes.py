"""Node identity: layout names, statements, aliases, and their use by load, check and stats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

import logdoctor
from logdoctor.cli import main
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.nodenames import (
    archive_stem,
    default_node,
    host_of,
    is_download_time,
    is_fqdn,
    is_ip,
    node_from_path,
)
from logdoctor.ingest.nodes import identify
from logdoctor.ingest.nodestatements import (
    Statement,
    file_statements,
    statement_frame,
    statements,
)
from logdoctor.ingest.parse import parse_bytes
from logdoctor.pipeline import check, run_check
from logdoctor.table import CATEGORICAL_COLUMNS
from logdoctor.ucm.deployment import parse_deployment
from logdoctor.ucm.deploymodel import DeploymentError
from tests.helpers.paths import ROOT

SAMPLES = ROOT / "sample_logs"
SSOSP = "tomcat/logs/ssosp/log4j/ssosp00001.log"


@pytest.mark.parametrize(
    "name",
    ["2024-05-01_10-12-33", "2024-05-01 10:12:33", "20240501_101233", "2024-05-01", "1714558353",
     "1714558353123", "2024-05-01T10-12-33Z"],
)  # fmt: skip
def test_download_time_folders(name: str) -> None:
    assert is_download_time(name)


@pytest.mark.parametrize("name", ["ucm-pub", "10.1.1.2", "cucm15-pub", "2024", "active", "ssosp"])
def test_not_download_time(name: str) -> None:
    assert not is_download_time(name)


def test_names() -> None:
    assert is_ip("10.48.36.11") and is_ip("fe80::1") and not is_ip("ucm-pub")
    assert is_fqdn("ucm-pub.example.com") and not is_fqdn("10.48.36.11")
    assert not is_fqdn("ucm-pub") and not is_fqdn("Cisco Tomcat") and not is_fqdn("Expressway-C")
    assert host_of("ucm-pub.example.com") == "ucm-pub" and host_of("10.1.1.2") == "10.1.1.2"
    assert archive_stem("10.1.1.10.tar.gz") == "10.1.1.10" and archive_stem("b.zip") == "b"
    assert default_node("/x/cucmpub/2024-05-01_10-12-33") == "cucmpub"


@pytest.mark.parametrize(
    ("rel", "node"),
    [
        (f"cucmpub/2024-05-01_10-12-33/{SSOSP}", "cucmpub"),
        ("RTMT_out/10.1.1.2/l/thirdparty/jakarta-tomcat/logs/ssosp/log4j/ssosp1.log", "10.1.1.2"),
        (f"10.1.1.2/1714558353/active/{SSOSP}", "10.1.1.2"),
        ("ucm-pub/var/log/active/platform/log/ssoApp.log", "ucm-pub"),
        ("ucm-pub/syslog/CiscoSyslog", "ucm-pub"),
        ("ucm-pub/cm/log/ris/csv/PerfMon_ucm-pub_05_01_2024_10_12.csv", "ucm-pub"),
        ("bundle/ucm-sub1/2024-05-01_10-12-33/ssosp00001.log", "bundle"),
        ("2024-05-01_10-12-33/ucm-sub1/ssosp00001.log", "ucm-sub1"),
        (f"2024-05-01_10-12-33/{SSOSP}", "DEFAULT"),
        ("ssosp00001.log", "DEFAULT"),
        # members of node zips: the archive names the node (its CiscoSyslog NodeID then
        # renames an IP-named node; before, the zip's "!" hid the syslog anchor)
        ("/b/10.48.36.12.zip!syslog/CiscoSyslog", "10.48.36.12"),
        ("/b/all.zip!10.48.36.12.zip!syslog/CiscoSyslog", "10.48.36.12"),
        ("RTMT_out/expc1/loggingsnapshot_expc1_2026-11-16.txt", "expc1"),
        ("/b/10.48.36.15.zip!loggingsnapshot_expc1_2026-11-16.txt", "10.48.36.15"),
        ("jabber-prt/lchen2/BOTLCHEN2/jabber.log", "BOTLCHEN2"),
    ],
)
def test_node_from_path(rel: str, node: str) -> None:
    assert node_from_path(rel, "DEFAULT") == node


def _st(node: str, name: str, weight: int = 1, lines: int = 5, src: str = "s") -> Statement:
    return Statement(node, name, weight, lines, src)


def test_a_stated_host_names_an_ip_folder_and_the_ip_becomes_an_alias() -> None:
    t = identify(["10.1.1.10", "10.1.1.11"], [_st("10.1.1.10", "ucm-pub")])
    assert t.resolve("10.1.1.10") == "ucm-pub" and t.resolve("UCM-PUB") == "ucm-pub"
    assert t.resolve("10.1.1.11") == "10.1.1.11"  # states nothing: keeps its folder's name
    (pub,) = [n for n in t.nodes if n.name == "ucm-pub"]
    assert pub.aliases == ("10.1.1.10",) and pub.folders == ("10.1.1.10",)
    assert t.resolve("ucm-pub.example.com") == "ucm-pub"  # an FQDN of a known host


def test_a_weak_statement_never_renames_a_host_folder_a_strong_one_does() -> None:
    weak = identify(["ucm-pub"], [_st("ucm-pub", "cuc1", weight=1)])
    assert weak.resolve("ucm-pub") == "ucm-pub" and weak.resolve("cuc1") == "cuc1"
    assert weak.notes and "kept" in weak.notes[0]
    strong = identify(["cucm1251-pub"], [_st("cucm1251-pub", "1cucm1251.lab.example", 3)])
    assert strong.resolve("cucm1251-pub") == "1cucm1251"
    assert strong.nodes[0].aliases == ("1cucm1251.lab.example", "cucm1251-pub")


def test_statements_never_join_two_folders_and_shared_names_are_not_used() -> None:
    t = identify(["10.1.1.10", "ucm-pub"], [_st("10.1.1.10", "ucm-pub")])
    assert {n.name for n in t.nodes} == {"10.1.1.10", "ucm-pub"}
    assert any("another folder" in n for n in t.notes)
    shared = [_st("10.1.1.11", "pub.example.com", 2), _st("10.1.1.12", "pub.example.com", 2)]
    t = identify(["10.1.1.11", "10.1.1.12"], shared)
    assert {n.name for n in t.nodes} == {"10.1.1.11", "10.1.1.12"}
    assert any("stated by 2 folders" in n for n in t.notes)


def test_the_strongest_statement_of_a_folder_wins() -> None:
    t = identify(["10.0.0.5"], [_st("10.0.0.5", "imp1", 1, 50), _st("10.0.0.5", "ucm-sub1", 2, 1)])
    assert t.resolve("10.0.0.5") == "ucm-sub1" and t.resolve("imp1") == "imp1"


def test_declared_addresses_name_folders_and_set_node_wins() -> None:
    t = identify(["10.1.1.16"], declared={"ucm-sub2": ("10.1.1.16", "ucm-sub2.example.com")})
    assert t.resolve("10.1.1.16") == "ucm-sub2"
    assert t.nodes[0].aliases == ("10.1.1.16", "ucm-sub2.example.com")
    assert t.nodes[0].named_by == "deployment file"
    forced = identify(["X"], [_st("X", "ucm-pub", 3)], forced="X")
    assert forced.resolve("ucm-pub") == "X" and forced.resolve("X") == "X"


def test_file_names_state_nodes() -> None:
    said = file_statements(
        [("10.1.1.10", "b/10.1.1.10/cm/log/ris/csv/PerfMon_ucm-pub_05_01_2024_10_12.csv")]
    )
    assert said == [Statement("10.1.1.10", "ucm-pub", 3, 1, "PerfMon file name")]
    assert identify(["10.1.1.10"], said).resolve("10.1.1.10") == "ucm-pub"


def test_hostile_names_in_lines_are_not_taken() -> None:
    frame = logdoctor.load(SAMPLES / "callmanager-not-restarted").frame.head(0)
    rows = pl.DataFrame(
        {
            "node": ["10.0.0.1", "10.0.0.1"],
            "family": ["ciscosyslog", "ciscosyslog"],
            "kind": ["service.started", "service.started"],
            "file": ["a/10.0.0.1/syslog/CiscoSyslog", "a/10.0.0.1/syslog/CiscoSyslog"],
            "message": ["%X-6-ServiceStarted: %[NodeID=\x1b[31mevil]", "[NodeID=a b]"],
        }
    )
    full = pl.concat([frame, rows], how="diagonal")
    assert statements(full) == []


def test_apply_rewrites_nodes_and_names_in_lines() -> None:
    t = identify(["10.1.1.10"], [_st("10.1.1.10", "ucm-pub")])
    frame = pl.DataFrame(
        {"node": ["10.1.1.10", "imp1"], "server": ["10.1.1.10", "expc1.example.com"]}
    )
    out = t.apply(frame)
    assert out["node"].to_list() == ["ucm-pub", "imp1"]
    assert out["server"].to_list() == ["ucm-pub", "expc1"]


def _ip_layout(
    src: Path, dst: Path, *, download: str | None = "2024-05-01_10-12-33"
) -> dict[str, str]:
    """Copy a sample with its node folders renamed to addresses, as RTMT names servers
    defined by IP (under a download-time folder)."""
    ips: dict[str, str] = {}
    dst.mkdir(parents=True)
    for i, p in enumerate(sorted(src.iterdir())):
        if p.is_dir():
            ips[p.name] = f"10.48.36.{11 + i}"
            target = dst / ips[p.name]
            shutil.copytree(p, target / download if download else target)
        else:
            shutil.copy(p, dst / p.name)
    return ips


def test_folders_named_by_ip_take_the_host_names_their_lines_state(tmp_path: Path) -> None:
    """The issue's case: folders 10.x, `node=ucm-pub` and `server=ucm-sub1` inside: one node
    each, the same findings as the host-named sample, subjects in host names."""
    name = "callmanager-not-restarted"
    ips = _ip_layout(SAMPLES / name, tmp_path / name)
    checked = run_check([str(tmp_path / name)], config=tmp_path / name / "deployment.toml")
    got = checked.report
    want = check([str(SAMPLES / name)], config=SAMPLES / name / "deployment.toml")
    assert [(f.rule, f.subjects) for f in got.findings] == [
        (f.rule, f.subjects) for f in want.findings
    ]
    assert got.status == "failed" and not got.rule_errors
    nodes = {n.name: n.aliases for n in checked.context.nodes.nodes}
    for host in ("ucm-pub", "ucm-sub1", "ucm-sub2", "imp1", "imp2"):
        assert nodes[host] == (ips[host],)


def test_key_regeneration_with_ip_folders_and_no_deployment_file(tmp_path: Path) -> None:
    """Before node identity, LD202 crashed here (ColumnNotFoundError "_cur") and took every
    other rule's findings with it; then it fired falsely for the IP-named folders."""
    name = "key-regen-compromised"
    _ip_layout(SAMPLES / name, tmp_path / name)
    got = check([str(tmp_path / name)])
    want = check([str(SAMPLES / name)])
    assert not got.rule_errors and got.status == "passed"
    assert [(f.rule, f.subjects) for f in got.findings] == [
        (f.rule, f.subjects) for f in want.findings
    ]


def test_addresses_in_the_deployment_file_name_silent_folders(tmp_path: Path) -> None:
    """ucm-sub2 of clock-skew states no name: with its address declared, LD903 names it."""
    name = "clock-skew"
    ips = _ip_layout(SAMPLES / name, tmp_path / name)
    cfg = tmp_path / name / "deployment.toml"
    bare = check([str(tmp_path / name)], config=cfg)
    assert {s for f in bare.findings if f.rule == "LD903" for s in f.subjects} == {
        "ucm-pub",
        ips["ucm-sub2"],
    }
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace(
            "[cluster.parameters]",
            f'[cluster.addresses]\nucm-sub2 = ["{ips["ucm-sub2"]}"]\n\n[cluster.parameters]',
            1,
        ),
        encoding="utf-8",
    )
    named = check([str(tmp_path / name)], config=cfg)
    assert {s for f in named.findings if f.rule == "LD903" for s in f.subjects} == {
        "ucm-pub",
        "ucm-sub2",
    }


def test_a_deployment_file_may_name_nodes_by_ip_or_fqdn(tmp_path: Path) -> None:
    name = "callmanager-not-restarted"
    ips = _ip_layout(SAMPLES / name, tmp_path / name, download=None)
    cfg = tmp_path / name / "deployment.toml"
    text = cfg.read_text(encoding="utf-8")
    text = text.replace('publisher = "ucm-pub"', f'publisher = "{ips["ucm-pub"]}"')
    text = text.replace('"ucm-sub1", "ucm-sub2"', '"ucm-sub1.example.com", "ucm-sub2.example.com"')
    cfg.write_text(text, encoding="utf-8")
    checked = run_check([str(tmp_path / name)], config=cfg)
    got = checked.report
    want = check([str(SAMPLES / name)], config=SAMPLES / name / "deployment.toml")
    assert [(f.rule, f.subjects) for f in got.findings] == [
        (f.rule, f.subjects) for f in want.findings
    ]
    assert checked.context.declared is not None
    assert checked.context.declared.clusters[0].ucm_nodes == ("ucm-pub", "ucm-sub1", "ucm-sub2")


def test_stats_lists_each_nodes_aliases(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = "callmanager-not-restarted"
    ips = _ip_layout(SAMPLES / name, tmp_path / name)
    res = runner.invoke(main, ["stats", str(tmp_path / name)])
    assert res.exit_code == 0, res.output
    assert f"node ucm-pub (named by syslog alarm NodeID), also {ips['ucm-pub']}" in res.output
    res = runner.invoke(main, ["stats", str(tmp_path / name), "--format", "json"])
    doc = json.loads(res.stdout)
    nodes = {n["name"]: n for n in doc["nodes"]}
    assert nodes["ucm-sub1"]["aliases"] == [ips["ucm-sub1"]]
    assert nodes["ucm-sub1"]["folders"] == [ips["ucm-sub1"]]
    assert {f["node"] for f in doc["files"]} >= {"ucm-pub", "ucm-sub1", "ucm-sub2"}


def test_parse_streams_canonical_names_and_filters_accept_aliases(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = "xcp-not-restarted"
    ips = _ip_layout(SAMPLES / name, tmp_path / name)
    res = runner.invoke(
        main, ["parse", str(tmp_path / name), "--format", "jsonl", "--node", ips["imp1"]]
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert rows and {r["node"] for r in rows} == {"imp1"}
    res = runner.invoke(main, ["timeline", str(tmp_path / name), "--node", ips["imp1"]])
    assert res.exit_code == 0 and "imp1" in res.output


def test_set_node_still_wins(tmp_path: Path) -> None:
    name = "callmanager-not-restarted"
    src = SAMPLES / name / "ucm-pub"
    r = logdoctor.load(src, node="10.9.9.9")
    assert set(r.frame["node"].unique().to_list()) == {"10.9.9.9"}
    assert {s.node for s in r.stats} == {"10.9.9.9"}


def test_deployment_addresses_are_validated() -> None:
    base = '[[cluster]]\nname = "u"\npublisher = "p"\nsubscribers = ["s"]\n'
    d = parse_deployment(base + '[cluster.addresses]\np = ["10.0.0.1"]\n')
    assert d.aliases == {"p": ("10.0.0.1",), "s": ()}
    with pytest.raises(DeploymentError, match=r"cluster\[0\]\.addresses\.q: unknown key"):
        parse_deployment(base + '[cluster.addresses]\nq = ["10.0.0.1"]\n')
    with pytest.raises(DeploymentError, match="already an address of 'p'"):
        parse_deployment(base + '[cluster.addresses]\np = ["10.0.0.1"]\ns = ["10.0.0.1"]\n')
    with pytest.raises(DeploymentError, match="name of another declared node"):
        parse_deployment(base + '[cluster.addresses]\np = ["s"]\n')
    with pytest.raises(DeploymentError, match=r"expressway\[0\]\.addresses"):
        parse_deployment(base + '[[expressway]]\nname = "e"\naddresses = "10.0.0.2"\n')


def test_renamed_deployment_lists_a_node_once() -> None:
    d = parse_deployment(
        '[[cluster]]\nname = "u"\npublisher = "p"\nsubscribers = ["10.0.0.1", "s"]\n'
        '[[expressway]]\nname = "e.example.com"\n'
    )
    r = d.renamed(lambda n: {"10.0.0.1": "p", "e.example.com": "e"}.get(n, n))
    assert r.clusters[0].ucm_nodes == ("p", "s") and r.expressways[0].name == "e"


def test_a_perfmon_file_name_names_its_folder(tmp_path: Path) -> None:
    """RTMT's PerfMon_<node>_<date>.csv (not a log logdoctor parses) names the node whose
    folder holds it: here an IP-named folder whose ssosp states no name."""
    node = SAMPLES / "healthy" / "ucm-sub1"
    folder = tmp_path / "b" / "10.48.36.12" / "2024-05-01_10-12-33"
    shutil.copytree(node, folder)
    csv = folder / "cm" / "log" / "ris" / "csv" / "PerfMon_ucm-sub1_05_01_2024_10_12.csv"
    csv.parent.mkdir(parents=True)
    csv.write_text('"(PDH-CSV 4.0)","\\\\ucm-sub1\\SAML Single Sign-On\\OAUTH_TOKENS_ISSUED"\n')
    r = logdoctor.load(tmp_path / "b")
    assert [(n.name, n.aliases, n.named_by) for n in r.nodes.nodes] == [
        ("ucm-sub1", ("10.48.36.12",), "PerfMon file name")
    ]
    assert set(r.frame["node"].unique().to_list()) == {"ucm-sub1"}
    assert any(i.path.endswith(csv.name) for i in r.ignored)


def test_a_syslog_file_of_two_hosts_states_each_hosts_own_name() -> None:
    """The NodeID alarm names the node of the file's folder; a file given with no folder keeps
    each line's own host (decided per file and host: the answer once depended on which pair
    polars' ``unique`` listed last)."""
    fmt = next(f for f in load_formats() if f.name == "ciscosyslog")
    line = (
        "Nov 20 03:10:00 {h} local7 6 : 95: {h}.example.com: Nov 20 2026 08:10:00.000 UTC : "
        "%UC_IMS-6-authSuccess: %[UserID=alice][AppID=Cisco Tomcat][NodeID={h}]: "
        "User successfully authenticated."
    )
    data = "\n".join(line.format(h=h) for h in ("ucm-pub", "ucm-sub1")).encode()
    for file, want in (
        ("CiscoSyslog", [("ucm-pub", "ucm-pub"), ("ucm-sub1", "ucm-sub1")]),
        ("ucm-pub/syslog/CiscoSyslog", [("ucm-pub", "ucm-pub"), ("ucm-pub", "ucm-sub1")]),
    ):
        frame, _ = parse_bytes(data, fmt, file=file, node="x")
        for _ in range(20):
            said = statement_frame(frame).sort("node", "name")
            assert list(zip(said["node"], said["name"], strict=True)) == want


@pytest.mark.parametrize("bundle", ["xcp-not-restarted", "cisco-published", "imp-central-keys"])
def test_statements_of_a_categorical_table_are_the_strings(bundle: str) -> None:
    """The rule context holds node, file and the few-valued columns as Categorical; node
    statements (the layout join included) read such a table as they read the String one (a
    Categorical ``file`` failed the join with the layout's String frame)."""
    frame = logdoctor.load(ROOT / "sample_logs" / bundle).frame
    cat = frame.with_columns(pl.col(c).cast(pl.Categorical) for c in CATEGORICAL_COLUMNS)
    want = statement_frame(frame).sort(pl.all())
    assert want.height  # the bundle states node names
    assert statement_frame(cat).sort(pl.all()).equals(want)
    assert statements(cat) == statements(frame)
