"""Every simulated scenario, laid out the ways real collections are, gives the same findings.

A layout renames the node folders (host names, FQDNs, IP addresses as RTMT names servers
defined by IP), puts RTMT's download-time folder under each node, wraps the collection
(``RTMT_out/``), uses ``l/thirdparty/jakarta-tomcat`` for ``tomcat``, gzips the files, writes
CRLF line ends, adds foreign lines, packs everything as a zip, one zip per node, a zip of
node zips or a tar.gz, and may put the bundle in a folder next to another bundle. ``check``
must never crash, must refuse the folder of several bundles, and on the bundle itself must
give exactly the findings of the committed sample (the simulator's output, seed 1) and of its
``expected.json``, subjects in host names: every node states its name in its lines or has its
address in the deployment file. The one documented exception: with IP folders and no
``addresses``, a node whose files never state its name keeps its address as its name, and
nothing else changes.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logdoctor.ingest.bundleset import SeveralBundles
from logdoctor.model import Severity
from logdoctor.pipeline import check, run_check
from logdoctor.simulate import SCENARIOS
from logdoctor.ucm.prt import PRT_FOLDER
from logdoctor.verdict import CheckReport
from tests.helpers.paths import ROOT

SAMPLES = ROOT / "sample_logs"
NAMES = sorted(SCENARIOS)
NOISE = (
    b"\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:1)",
    b"----- trace collection note: collected again after the upgrade -----",
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b"Caused by: java.net.SocketTimeoutException: Read timed out",
)


@dataclass(frozen=True)
class Layout:
    """How to lay one sample out."""

    scenario: str
    naming: str = "host"
    """host | fqdn | ip: what the node folders are called."""
    download: str | None = None
    """A download-time folder under each node."""
    wrapper: str | None = None
    thirdparty: bool = False
    """``tomcat/...`` becomes ``l/thirdparty/jakarta-tomcat/...`` (RTMT's cut path)."""
    packing: str = "folder"
    """folder | zip | node-zips | nested-zip | tgz."""
    gzip: bool = False
    crlf: bool = False
    noise: bool = False
    addresses: bool = True
    """With IP folders: the deployment file lists each node's address."""
    beside: str | None = None
    """Another sample put next to this one (a folder of two bundles)."""


def _content(path: Path, layout: Layout) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if layout.noise:
        lines = data.split(b"\n")
        # After the first record (continuation lines), in the middle and at the end.
        for k, pos in enumerate((1, len(lines) // 2, len(lines) - 1)):
            lines.insert(max(1, pos), NOISE[k % len(NOISE)])
        data = b"\n".join(lines)
    if layout.crlf:
        data = data.replace(b"\n", b"\r\n")
    return data


def _address(i: int) -> str:
    return f"10.48.36.{11 + i}"


def _folder_name(node: str, i: int, layout: Layout) -> str:
    return {"host": node, "fqdn": f"{node}.uc.example.com", "ip": _address(i)}[layout.naming]


def _deployment(text: str, names: dict[str, str], layout: Layout) -> str:
    """The sample's deployment file (host names); with IP folders, optionally the address of
    every node (``[cluster.addresses]``, ``addresses = [...]``)."""
    if layout.naming != "ip" or not layout.addresses:
        return text
    out = []
    lines = text.splitlines()
    section = ""
    table = ""
    for line in lines:
        head = re.match(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)", line)
        if head:
            if table == "cluster" and section:
                out.append(section)
            section = ""
            table = head.group(1)
        out.append(line)
        m = re.match(r'^name = "([^"]+)"$', line)
        if m and table in ("expressway", "unity") and m.group(1) in names:
            out.append(f'addresses = ["{names[m.group(1)]}"]')
        if table == "cluster":
            nodes = (
                re.findall(r'"([^"]+)"', line)
                if re.match(r"^(publisher|subscribers|imp) =", line)
                else []
            )
            for n in nodes:
                if n in names:
                    section = section or "[cluster.addresses]"
                    section += f'\n{n} = ["{names[n]}"]'
    if table == "cluster" and section:
        out.append(section)
    return "\n".join(out) + "\n"


def lay_out(layout: Layout, root: Path) -> tuple[Path, Path | None, dict[str, str]]:
    """Write the bundle under ``root``; returns what to check, the deployment file (or
    None) and node name -> folder name."""
    src = SAMPLES / layout.scenario
    tree = root / "tree"
    names: dict[str, str] = {}
    nodes = sorted(p for p in src.iterdir() if p.is_dir() and p.name != PRT_FOLDER)
    if (src / PRT_FOLDER).is_dir():  # the clients' PRTs stay beside the nodes, as filed
        shutil.copytree(src / PRT_FOLDER, tree / (layout.wrapper or "") / PRT_FOLDER)
    for i, node in enumerate(nodes):
        names[node.name] = _folder_name(node.name, i, layout)
        base = tree / (layout.wrapper or "") / names[node.name] / (layout.download or "")
        for f in sorted(p for p in node.rglob("*") if p.is_file()):
            rel = f.relative_to(node).as_posix()
            if layout.thirdparty and rel.startswith("tomcat/"):
                rel = "l/thirdparty/jakarta-tomcat/" + rel[len("tomcat/") :]
            rel = rel.removesuffix(".gz")
            data = _content(f, layout)
            if layout.gzip:
                rel += ".gz"
                data = gzip.compress(data, mtime=0)
            out = base / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
    config = None
    if (src / "deployment.toml").exists():
        config = root / "deployment.toml"
        text = (src / "deployment.toml").read_text(encoding="utf-8")
        config.write_text(_deployment(text, names, layout), encoding="utf-8")
    target = _pack(tree, root, layout)
    return target, config, names


def _zip_dir(folder: Path, dest: Path | io.BytesIO) -> None:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder.parent).as_posix())


def _pack(tree: Path, root: Path, layout: Layout) -> Path:
    bundle = root / "bundle"
    if layout.packing == "folder":
        tree.rename(bundle)
        return bundle
    if layout.packing == "zip":
        tree.rename(root / "collection")
        bundle.mkdir()
        _zip_dir(root / "collection", bundle / "collection.zip")
        return bundle
    if layout.packing == "tgz":
        tree.rename(root / "collection")
        bundle.mkdir()
        with tarfile.open(bundle / "collection.tar.gz", "w:gz") as tf:
            tf.add(root / "collection", "collection")
        return bundle
    top = tree / layout.wrapper if layout.wrapper else tree
    bundle.mkdir()
    if layout.packing == "node-zips":
        for node in sorted(top.iterdir()):
            _zip_dir(node, bundle / f"{node.name}.zip")
        return bundle
    assert layout.packing == "nested-zip"
    with zipfile.ZipFile(bundle / "collection.zip", "w") as outer:
        for node in sorted(top.iterdir()):
            inner = io.BytesIO()
            _zip_dir(node, inner)
            outer.writestr(f"nodes/{node.name}.zip", inner.getvalue())
    return bundle


@cache
def baseline(scenario: str) -> tuple[tuple[str, str, tuple[str, ...], int, str], ...]:
    """The committed sample's findings (host-named folders, the simulator's own layout)."""
    src = SAMPLES / scenario
    cfg = src / "deployment.toml"
    report = check([str(src)], config=cfg if cfg.exists() else None)
    return _findings(report, {})


def _findings(
    report: CheckReport, back: dict[str, str]
) -> tuple[tuple[str, str, tuple[str, ...], int, str], ...]:
    out = []
    for f in report.findings:
        subjects = tuple(back.get(s, s) for s in f.subjects)
        message = f.message
        for ip, host in back.items():
            message = message.replace(ip, host)
        out.append((f.rule, str(f.severity), subjects, f.evidence_total, message))
    return tuple(sorted(out))


def judge(found: dict[str, set[str]], loud: set[str], exp: dict[str, object]) -> list[str]:
    """expected.json's verdict (as tests/rules/test_cases.py judges the samples)."""
    problems = [f"expected {r} did not fire" for r in exp["expect"] if r not in found]  # type: ignore[attr-defined]
    problems += [f"forbidden {r} fired" for r in exp["forbid"] if r in found]  # type: ignore[attr-defined]
    problems += [f"unexpected {r}" for r in sorted(loud - set(exp["expect"]))]  # type: ignore[arg-type]
    for r, subjects in exp["subjects"].items():  # type: ignore[attr-defined]
        missing = set(subjects) - found.get(r, set())
        if missing:
            problems.append(f"{r} lacks {sorted(missing)}")
    return problems


def _states_its_name(folder: Path, node: str) -> bool:
    """Whether a node's own files name it (the test's own reading, not logdoctor's)."""
    pattern = re.compile(
        rb"(\[NodeID=" + re.escape(node.encode()) + rb"\])"
        rb"|(Token validat(?:ed|ion failed): server=" + re.escape(node.encode()) + rb" )"
    )
    for f in folder.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            if pattern.search(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data):
                return True
    return False


def verify(layout: Layout) -> None:
    exp = json.loads((SAMPLES / layout.scenario / "expected.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target, config, names = lay_out(layout, root)
        if layout.beside is not None:
            holder = root / "several"
            holder.mkdir()
            target.rename(holder / layout.scenario)
            shutil.copytree(SAMPLES / layout.beside, holder / layout.beside)
            with pytest.raises(SeveralBundles, match="holds 2 bundles"):
                check([str(holder)], config=config)
            target = holder / layout.scenario
        checked = run_check([str(target)], config=config)
        report = checked.report
        assert not report.rule_errors, report.rule_errors
        assert not report.errors and report.complete, report.errors
        assert report.status in ("passed", "failed")
        # the clients of the PRTs (their devices) are nodes of their own, not server nodes
        devices = {p.name for p in (SAMPLES / layout.scenario).glob(f"{PRT_FOLDER}/*/*")}
        canonical = {n.name for n in checked.context.nodes.nodes} - devices
        back: dict[str, str] = {}
        if layout.naming == "ip" and not layout.addresses:
            back = {ip: node for node, ip in names.items()}
            for node, ip in names.items():
                if _states_its_name(SAMPLES / layout.scenario / node, node):
                    assert node in canonical and ip not in canonical, (node, ip, canonical)
        else:
            assert canonical == set(names), canonical
        assert _findings(report, back) == baseline(layout.scenario)
        found: dict[str, set[str]] = {}
        for f in report.findings:
            found.setdefault(f.rule, set()).update(back.get(s, s) for s in f.subjects)
        loud = {
            f.rule for f in report.findings if Severity(f.severity).rank >= Severity.WARNING.rank
        }
        assert judge(found, loud, exp) == []


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    scenario = draw(st.sampled_from(NAMES))
    naming = draw(st.sampled_from(["host", "fqdn", "ip"]))
    packing = draw(st.sampled_from(["folder", "folder", "zip", "node-zips", "nested-zip", "tgz"]))
    return Layout(
        scenario=scenario,
        naming=naming,
        download=draw(st.sampled_from([None, "2024-05-01_10-12-33", "1714558353123"])),
        wrapper=draw(st.sampled_from([None, "RTMT_out"])),
        thirdparty=draw(st.booleans()),
        packing=packing,
        gzip=draw(st.booleans()),
        crlf=draw(st.booleans()),
        noise=draw(st.booleans()),
        addresses=draw(st.booleans()),
        beside=draw(st.sampled_from([None, "healthy"]))
        if packing == "folder" and scenario != "healthy"
        else None,
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(layouts())
def test_any_real_layout_gives_the_samples_findings(layout: Layout) -> None:
    verify(layout)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", NAMES)
def test_rtmt_layout_for_servers_defined_by_ip(scenario: str) -> None:
    """The done-when of issue 11: ``<ip>/<download-time>/...``, the deployment file in host
    names (with the nodes' addresses), every scenario: exactly its expected findings,
    subjects in host names."""
    verify(Layout(scenario, naming="ip", download="2024-05-01_10-12-33", addresses=True))


@pytest.mark.slow
@pytest.mark.parametrize("scenario", NAMES)
def test_rtmt_layout_by_ip_without_addresses(scenario: str) -> None:
    """Without addresses: nodes whose lines state their names get them; the others keep
    their addresses, and the findings are otherwise the same."""
    verify(Layout(scenario, naming="ip", download="2024-05-01_10-12-33", addresses=False))
