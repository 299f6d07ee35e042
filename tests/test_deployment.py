"""The deployment file (schema, validation messages, key lines) and inference from logs."""

from __future__ import annotations

from pathlib import Path

import pytest

import logdoctor
from logdoctor.analysis.inference import compare, infer, name_role
from logdoctor.ucm.deployment import load_deployment, parse_deployment
from logdoctor.ucm.deploymodel import DeploymentError
from logdoctor.ucm.jabber import parse_agent, platform_from_device

ASSETS = Path(__file__).parent / "assets"
CASES = ASSETS / "rules"
EXAMPLE = Path(__file__).parent.parent / "logdoctor" / "deployment.example.toml"


def test_example_file_is_valid_and_complete() -> None:
    d = load_deployment(EXAMPLE)
    assert [c.name for c in d.clusters] == ["ucm", "imp-central"]
    ucm = d.cluster("ucm")
    assert ucm is not None
    assert ucm.ucm_nodes == ("ucm-pub", "ucm-sub1", "ucm-sub2")
    assert ucm.parameters.refresh_login_flow is True
    assert ucm.parameters.access_token_expiry_minutes == 60
    assert ucm.keys["signing"].version == 2 and ucm.keys["signing"].checksum
    assert d.role_of("imp1") == "imp" and d.role_of("imp-central1") == "imp_central"
    assert d.role_of("expc1") == "expressway" and d.role_of("cuc1") == "unity"
    assert d.role_of("ucm-sub2") == "ucm" and d.role_of("nobody") is None
    assert d.expressways[0].refresh is True and d.unity[0].refresh_login_flow is True
    assert {g.label for g in d.jabber} >= {"Jabber 14.1.0 Windows", "Jabber 14.1.0 iPhone"}


def test_key_paths_point_at_their_lines() -> None:
    d = load_deployment(EXAMPLE)
    lines = EXAMPLE.read_text().splitlines()
    for path, needle in (
        ("cluster[0].parameters.refresh_login_flow", "refresh_login_flow ="),
        ("cluster[1].keys.signing", "signing ="),
        ("expressway[0].authorize_by_oauth_token_with_refresh", "authorize_by_oauth"),
        ("jabber[2].push", "push ="),
    ):
        n = d.line_of(path)
        assert lines[n - 1].strip().startswith(needle), (path, n, lines[n - 1])
        ev = d.evidence(path)
        assert (ev.node, ev.file, ev.line, ev.kind) == ("config", str(EXAMPLE), n, "config")
        assert ev.excerpt == lines[n - 1].strip()
    # a key not written falls back to its table's line
    assert d.line_of("cluster[0].parameters.nothing") == d.line_of("cluster[0].parameters")


BASE = """[[cluster]]
name = "ucm"
publisher = "pub"

[cluster.parameters]
refresh_login_flow = "on"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1", r"deployment.toml:1: x: unknown key \(allowed here: cluster, expressway"),
        ("[[cluster]]\npublisher = 'p'", r"cluster\[0\].name: is required"),
        (
            BASE + "access_token_expiry_minutes = 2000\n",
            r"deployment.toml:7: cluster\[0\].parameters.access_token_expiry_minutes: 2000 is out "
            r"of range \(allowed: 1-1440\)",
        ),
        (BASE + "refresh_token_expiry_days = 0\n", r"allowed: 1-365"),
        (
            BASE.replace('"on"', '"maybe"'),
            r"deployment.toml:6: cluster\[0\].parameters.refresh_login_flow: 'maybe' is not "
            r"allowed \(allowed: on, off\)",
        ),
        (BASE + "[cluster.keys]\nsigning = 'xyz'\n", r"not a key checksum"),
        (
            BASE + "[[jabber]]\nplatform = 'BlackBerry'\nversion = '12.0'\n",
            r"jabber\[0\].platform: 'BlackBerry' is not allowed \(allowed: Windows, Mac, iPhone, "
            r"iPad, Android, VDI\)",
        ),
        (BASE + "[[jabber]]\nversion = 'twelve'\n", r"is not a release number"),
        (
            BASE + "[[expressway]]\nname = 'e'\ncluster = 'other'\n",
            r"expressway\[0\].cluster: 'other' is not a declared cluster",
        ),
        (
            BASE + "[[expressway]]\nname = 'e'\nauthorize_by_oauth_token_with_refresh = 3\n",
            r"3 is not allowed \(allowed: on, off\)",
        ),
        (
            "[[cluster]]\nname='a'\npublisher='p'\n[[cluster]]\nname='a'\npublisher='q'\n",
            r"'a' is used by another cluster",
        ),
        (
            "[[cluster]]\nname='a'\npublisher='p'\n[[cluster]]\nname='b'\npublisher='p'\n",
            r"node 'p' is already a node of cluster 'a'",
        ),
        ("[[cluster]]\nname='a'\npublisher='p'\nrole='imp'\n", r"allowed: telephony, imp_central"),
        ("cluster = 3", r"cluster: must be an array of tables"),
        ("[[cluster]\n", r"deployment.toml: not valid TOML"),
    ],
)
def test_validation_messages_name_file_key_and_allowed_values(text: str, message: str) -> None:
    with pytest.raises(DeploymentError, match=message):
        parse_deployment(text, "deployment.toml")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match=r"missing\.toml: cannot read"):
        load_deployment(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"name = '\xff'")
    with pytest.raises(DeploymentError, match=r"bad\.toml: not UTF-8"):
        load_deployment(bad)


def test_on_off_spellings() -> None:
    for value, want in (('"on"', True), ('"off"', False), ("true", True), ('"Disabled"', False)):
        d = parse_deployment(BASE.replace('"on"', value))
        assert d.clusters[0].parameters.refresh_login_flow is want


def test_inference_from_healthy_logs_with_evidence() -> None:
    res = logdoctor.load(str(CASES / "healthy" / "logs"))
    inf = infer(res.frame)
    flow = inf.fact("parameters.refresh_login_flow")
    assert flow is not None and flow.value is True
    assert flow.count > 0 and flow.evidence
    assert all(e.kind == "token.refresh.issued" for e in flow.evidence)
    assert inf.value("parameters.access_token_expiry_minutes") == 60
    assert inf.value("parameters.refresh_token_expiry_days") == 60
    assert inf.value("parameters.implicit_grant") is None  # nobody used it
    assert inf.roles == {"ucm-pub": "ucm", "ucm-sub1": "ucm", "imp1": "imp", "expc1": "expressway"}
    assert inf.publisher == "ucm-pub"
    assert inf.value("expressway.authorize_by_oauth_token_with_refresh", "expc1") is True
    assert inf.cluster_keys["signing"].checksum == inf.node_keys[("imp1", "signing")].checksum
    jab = {f.subject: f.value for f in inf.facts if f.path == "jabber"}
    assert jab["Jabber 14.1.0 iPhone MRA push=on"] == 1
    assert jab["Jabber 14.1.0 Windows"] == 3


def test_inference_of_disabled_flows() -> None:
    off = infer(logdoctor.load(str(CASES / "LD101" / "bad")).frame)
    assert off.value("parameters.refresh_login_flow") is False
    implicit = infer(logdoctor.load(str(CASES / "LD108" / "bad")).frame)
    fact = implicit.fact("parameters.implicit_grant")
    assert fact is not None and fact.value is False
    assert {e.kind for e in fact.evidence} == {"authorize.rejected"}
    exp_off = infer(logdoctor.load(str(CASES / "LD102" / "bad")).frame)
    assert exp_off.value("expressway.authorize_by_oauth_token_with_refresh", "expc1") is False


def test_compare_declared_with_inferred() -> None:
    folder = CASES / "LD104" / "bad"
    declared = load_deployment(folder / "deployment.toml")
    inf = infer(logdoctor.load(str(folder)).frame)
    dis = {d.path: d for d in compare(declared, inf)}
    assert set(dis) == {
        "cluster[0].parameters.refresh_login_flow",
        "cluster[0].parameters.access_token_expiry_minutes",
    }
    d = dis["cluster[0].parameters.access_token_expiry_minutes"]
    assert (d.declared, d.inferred.value) == (120, 60)
    assert d.declared_at.excerpt == "access_token_expiry_minutes = 120"
    good = CASES / "LD104" / "good"
    assert (
        compare(load_deployment(good / "deployment.toml"), infer(logdoctor.load(str(good)).frame))
        == []
    )


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("imp-central1", "imp_central"),
        ("cup2", "imp"),
        ("imp1", "imp"),
        ("cuc-vm1", "unity"),
        ("expc1", "expressway"),
        ("vcs-c", "expressway"),
        ("ucm-sub1", "ucm"),
        ("cucm15-pub", "ucm"),
        ("central-office", "unknown"),
        ("hostx", "unknown"),
    ],
)
def test_name_roles(name: str, role: str) -> None:
    assert name_role(name) == role


@pytest.mark.parametrize(
    ("text", "product", "version", "platform", "push", "capable"),
    [
        ("Jabber/11.8.5 (Windows)", "Jabber", (11, 8, 5), "Windows", None, False),
        ("Jabber/11.9 (Mac)", "Jabber", (11, 9), "Mac", None, True),
        ("Jabber/14.1.0 (iPhone; push=off)", "Jabber", (14, 1, 0), "iPhone", False, True),
        ("Jabber/14.1.0 (ipad; push=on; mra)", "Jabber", (14, 1, 0), "iPad", True, True),
        ("Cisco Jabber 12.6.0", "Cisco Jabber", (12, 6, 0), None, None, True),
        ("RTMT/14.0.1 (Windows)", "RTMT", (14, 0, 1), "Windows", None, None),
        ("", None, None, None, None, None),
        ("garbage ((", None, None, None, None, None),
    ],
)
def test_parse_agent(
    text: str,
    product: str | None,
    version: tuple[int, ...] | None,
    platform: str | None,
    push: bool | None,
    capable: bool | None,
) -> None:
    a = parse_agent(text)
    assert (a.product, a.version, a.platform, a.push, a.refresh_capable) == (
        product,
        version,
        platform,
        push,
        capable,
    )


def test_agent_flags_and_device_platform() -> None:
    assert parse_agent("Jabber/14.1.0 (Android; mra)").mra is True
    assert parse_agent("Jabber/14.1.0 (iPhone; push=off)").mobile_ios
    assert platform_from_device("TCTALICE") == "iPhone"
    assert platform_from_device("BOTBOB") == "Android"
    assert platform_from_device("CSFX") == "Desktop"
    assert platform_from_device("SEP0011") is None and platform_from_device(None) is None
