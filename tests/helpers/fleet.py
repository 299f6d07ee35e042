"""Fleet test bundles: rule cases (tests/assets/rules) laid out as one bundle per cluster.

Each bundle is a real RTMT-style collection (one folder per node) written as a folder, a zip
or a tar.gz; two clusters get a deployment file in the config folder. ``expected(bundle)``
runs ``logdoctor.pipeline.check`` on that bundle alone: what the fleet must reproduce.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from logdoctor.pipeline import check
from logdoctor.verdict import CheckReport

RULES = Path(__file__).resolve().parent.parent / "assets" / "rules"


@dataclass(frozen=True)
class Case:
    cluster: str
    source: str
    form: str  # dir | zip | tgz
    config: bool = False


TEN = (
    Case("east-ld101", "LD101/bad", "dir"),
    Case("west-ld102", "LD102/bad", "zip"),
    Case("north-ld104", "LD104/bad", "dir", config=True),
    Case("south-ld106", "LD106/bad", "tgz"),
    Case("emea-ld201", "LD201/bad", "dir"),
    Case("apac-ld202", "LD202/bad", "zip"),
    Case("lab-ld302", "LD302/bad", "dir"),
    Case("dc1-ld902", "LD902/bad", "dir"),
    Case("dc2-ld904", "LD904/bad", "dir"),
    Case("hq-healthy", "healthy/logs", "dir", config=True),
)


def write_bundle(case: Case, root: Path, config_dir: Path | None = None) -> Path:
    """Write ``case`` under ``root`` in its form; returns the bundle's path."""
    src = RULES / case.source
    logs = sorted(p for p in src.rglob("*.log") if p.is_file())
    if case.form == "dir":
        target = root / case.cluster
        for p in logs:
            dest = target / p.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
    elif case.form == "zip":
        target = root / f"{case.cluster}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in logs:
                zf.write(p, p.relative_to(src).as_posix())
    elif case.form == "tgz":
        target = root / f"{case.cluster}.tar.gz"
        with tarfile.open(target, "w:gz") as tf:
            for p in logs:
                tf.add(p, p.relative_to(src).as_posix())
    else:
        raise ValueError(case.form)
    if case.config:
        assert config_dir is not None
        config_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / "deployment.toml", config_dir / f"{case.cluster}.toml")
    return target


def write_fleet(root: Path, cases: tuple[Case, ...] = TEN) -> tuple[list[str], Path]:
    """All ``cases`` under ``root/bundles``; returns their paths and the config folder."""
    bundles = root / "bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    config_dir = root / "configs"
    config_dir.mkdir(exist_ok=True)
    return [str(write_bundle(c, bundles, config_dir)) for c in cases], config_dir


def expected(path: str, config_dir: Path | None = None, **kw: object) -> CheckReport:
    """``check`` on one bundle alone, with its deployment file when the folder has one."""
    from logdoctor.fleet.bundles import cluster_name

    config = None
    if config_dir is not None:
        candidate = config_dir / f"{cluster_name(path)}.toml"
        config = candidate if candidate.exists() else None
    return check([path], config=config, **kw)  # type: ignore[arg-type]


def log_bytes(path: str) -> int:
    """Bytes of log files in a bundle folder or zip (what the split threshold counts)."""
    p = Path(path)
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*.log"))
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as zf:
            return sum(i.file_size for i in zf.infolist())
    return 0


def corrupt_zip(root: Path, name: str = "broken-zip") -> Path:
    """A file named .zip that is half a zip: its central directory is cut off."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ucm-pub/platform/log/ssoApp.log", "x" * 5000)
    path = root / f"{name}.zip"
    path.write_bytes(buf.getvalue()[:-30])
    return path


def chromium() -> str:
    """The headless browser the HTML tests drive (installed by .ci/run)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("chromium is not installed (apt-get install chromium)")


def browse(page: Path) -> tuple[str, list[str]]:
    """Load ``page`` in headless Chromium: the DOM after load, and the console messages."""
    proc = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


SAMPLES = RULES.parent.parent.parent / "sample_logs"
"""Bundles written by ``logdoctor simulate`` (``make samples``), with their deployment files."""

SIMULATED = (
    ("healthy", "dir"),
    ("expressway-refresh-ucm-off", "zip"),
    ("unity-mismatch", "dir"),
    ("imp-central-keys", "dir"),
    ("revoked-user", "zip"),
    ("old-jabber-implicit", "dir"),
    ("refresh-timer-short", "dir"),
    ("clock-skew", "dir"),
    ("duplicate-device-mra", "zip"),
    ("samltrace-debug", "dir"),
)


def write_simulated(root: Path) -> tuple[list[str], Path]:
    """Ten simulated clusters (sample_logs/NAME) as bundles ``sim-NAME`` (folders and zips),
    their deployment files in the config folder; returns the paths and that folder."""
    bundles = root / "bundles"
    configs = root / "configs"
    bundles.mkdir(parents=True, exist_ok=True)
    configs.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, form in SIMULATED:
        src = SAMPLES / name
        assert (src / "expected.json").is_file(), f"{src}: not a simulated bundle"
        logs = sorted(
            p
            for p in src.rglob("*")
            if p.is_file() and (".log" in p.name or p.name.startswith("CiscoSyslog"))
        )
        cluster = f"sim-{name}"
        if form == "zip":
            target = bundles / f"{cluster}.zip"
            with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
                for p in logs:
                    zf.write(p, p.relative_to(src).as_posix())
        else:
            target = bundles / cluster
            for p in logs:
                dest = target / p.relative_to(src)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest)
        shutil.copyfile(src / "deployment.toml", configs / f"{cluster}.toml")
        paths.append(str(target))
    return paths, configs
