"""`formats export --lnav`: the real lnav (Debian's) reads bundles with the exported formats.

lnav runs with a temporary HOME, so the exported files are installed (`lnav -i`) there and the
user's own lnav configuration is never read or touched. Through lnav's SQL, every record of
every file must be read by the exported format (not generic_log) and get the kind `logdoctor
parse` gives it, in the same order, with the same first line of message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.ingest.formats.lnav import lnav_name
from tests.helpers.paths import ROOT

SAMPLES = ROOT / "sample_logs"
BUNDLES = ("cisco-published", "key-regen-compromised")
"""Cisco's verbatim SAML, certMgmt and certCN lines; a simulation with all three families,
gzipped files and multi-line records."""
EXTRAS = (".json", ".toml", ".md")
"""Files of a bundle that are not logs (expectations, deployment files)."""

HEADER = (
    r"^(?P<ts>\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2})"
    r"\|(?P<level>[a-z]+)\|(?P<logger>[\w.]+)\|(?P<msg>.*)$"
)
WIDGET = """
name = "widget"
family = "widget"
title = "A family of our own"
description = "A pipe-separated layout no built-in format has, with a logger-bound event."
file_patterns = ["widget*.txt"]

[[header]]
regex = 'HEADER'
timestamp = ["%d/%m/%Y %H:%M:%S"]

[levels]
NOTE = "INFO"

[[event]]
kind = "auth.failure"
basis = "modelled"
logger = '(?:^|\\.)Guard$'
regex = '^denied (?P<user>\\S+)'

[[event]]
kind = "auth.success"
basis = "modelled"
regex = '(?i)^welcome (?P<user>\\S+)'

[[sample]]
line = "20/11/2026 08:00:00|warn|app.Guard|denied bob"
kind = "auth.failure"
fields = { user = "bob" }

[[sample]]
line = "20/11/2026 08:00:01|note|app.Door|Welcome alice"
kind = "auth.success"
fields = { user = "alice", level = "INFO" }
""".replace("HEADER", HEADER)

WIDGET_LOG = "\n".join(
    [
        "20/11/2026 08:00:00|warn|app.Guard|denied bob",
        "20/11/2026 08:00:01|warn|app.NotGuard|denied carol",  # logger does not fit: unknown
        "20/11/2026 08:00:02|note|app.Door|WELCOME alice",
        "  a continuation line",
        "20/11/2026 08:00:03|info|app.Guard|welcome dave",  # first event's logger, second's text
        "20/11/2026 08:00:04|error|app.Door|something else",
        "",
    ]
)


def _lnav() -> str:
    path = shutil.which("lnav")
    assert path, "lnav is missing: `make test` installs Debian's lnav (scripts/sysdeps)"
    return path


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LNAV"))}
    env["HOME"] = str(home)
    return env


@pytest.fixture
def installed(tmp_path: Path, write: Callable[..., Path]) -> Path:
    """A HOME with the exported formats (built-in ones and the widget family) installed."""
    extra = write("extra/widget.toml", WIDGET).parent
    out = tmp_path / "lnav"
    res = CliRunner().invoke(
        main, ["formats", "export", "--lnav", str(out), "--formats-dir", str(extra)]
    )
    assert res.exit_code == 0, res.output
    assert "lnav -i" in res.stdout
    files = sorted(out.iterdir())
    families = sorted({f.family for f in load_formats()} | {"widget"})
    assert [p.name for p in files] == sorted(
        [f"logdoctor_{name}_log.json" for name in families] + ["logdoctor_kinds.sql"]
    )
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        [_lnav(), "-i", *map(str, files)],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    installed = home / ".lnav" / "formats" / "installed"
    assert sorted(p.name for p in installed.iterdir()) == [p.name for p in files]
    return home


def _lnav_rows(home: Path, paths: list[Path]) -> dict[str, list[dict[str, object]]]:
    """lnav's rows per file, in file order (lnav interleaves the files by time)."""
    sql = ";SELECT log_path, log_format, log_format_regex, log_body FROM all_logs ORDER BY log_line"
    proc = subprocess.run(
        [_lnav(), "-n", "-c", sql, "-c", ":write-json-to -", *map(str, paths)],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, list[dict[str, object]]] = {}
    for r in json.loads(proc.stdout) if proc.stdout.strip() else []:
        out.setdefault(str(r["log_path"]), []).append(r)
    return out


def _rows(path: Path, *args: str) -> list[dict[str, object]]:
    res = CliRunner().invoke(main, ["parse", "--format", "jsonl", *args, str(path)])
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.stdout.splitlines()]


def _parse(path: Path, *args: str) -> list[tuple[str, str]]:
    rows = _rows(path, *args)
    return [(r["kind"], r["message"].split("\n")[0]) for r in rows]


def _compare(rows: list[dict[str, object]], path: Path, fmt: str, *args: str) -> int:
    ours = _parse(path, *args)
    assert {r["log_format"] for r in rows} == {fmt}, path  # not generic_log
    theirs = [
        (str(r["log_format_regex"]).split("#")[0], str(r["log_body"] or "").split("\n")[0])
        for r in rows
    ]
    assert [k for k, _ in theirs] == [k for k, _ in ours], path
    assert [m.strip() for _, m in theirs] == [m.strip() for _, m in ours], path
    return len(ours)


@pytest.mark.parametrize("bundle", BUNDLES)
def test_lnav_sees_the_kinds_logdoctor_parse_gives(installed: Path, bundle: Path) -> None:
    # lnav picks a file's format from its first line: a file that begins with a broken record
    # (the published CiscoSyslog excerpt starts mid-wrap) is one lnav gives to its own syslog
    # format, so only files whose first line is a record of ours are compared
    files = sorted(
        p
        for p in (SAMPLES / bundle).rglob("*")
        if p.is_file() and p.suffix not in EXTRAS and _rows(p)[0]["line"] == 1
    )
    rows = _lnav_rows(installed, files)
    for f in files:  # lnav shows one of files with the same content: read those alone
        if str(f) not in rows:
            rows.update(_lnav_rows(installed, [f]))
    assert set(rows) == {str(f) for f in files}
    lnav_of = {f.family: lnav_name(f) for f in load_formats()}
    total = 0
    kinds: set[str] = set()
    for f in files:
        families = {r["family"] for r in _rows(f)}
        assert len(families) == 1, f
        total += _compare(rows[str(f)], f, lnav_of[str(families.pop())])
        kinds |= {k for k, _ in _parse(f)}
    assert total > 20 and len(kinds) > 5


def test_a_family_of_our_own_and_its_logger_patterns(
    installed: Path, write: Callable[..., Path], tmp_path: Path
) -> None:
    log = write("w/widget01.txt", WIDGET_LOG)
    extra = tmp_path / "extra"
    rows = _lnav_rows(installed, [log])[str(log)]
    assert _compare(rows, log, "logdoctor_widget_log", "--formats-dir", str(extra)) == 5
    assert [k for k, _ in _parse(log, "--formats-dir", str(extra))] == [
        "auth.failure",
        "unrecognized",
        "auth.success",
        "auth.success",
        "unrecognized",
    ]


def test_the_kinds_view_and_levels(installed: Path) -> None:
    f = SAMPLES / "cisco-published" / "cucm1251-pub" / "tomcat" / "logs" / "ssosp" / "log4j"
    path = f / "ssosp00001.log"
    proc = subprocess.run(
        [
            _lnav(),
            "-n",
            "-c",
            ";SELECT kind, log_level, count(*) AS n FROM logdoctor_ssosp_kinds"
            " GROUP BY kind, log_level ORDER BY kind",
            "-c",
            ":write-json-to -",
            str(path),
        ],
        env=_env(installed),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    got = {(r["kind"], r["log_level"]): r["n"] for r in json.loads(proc.stdout)}
    res = CliRunner().invoke(main, ["parse", "--format", "jsonl", str(path)])
    want: dict[tuple[str, str], int] = {}
    for line in res.stdout.splitlines():
        r = json.loads(line)
        key = (r["kind"], {"WARN": "warning"}.get(r["level"], r["level"].lower()))
        want[key] = want.get(key, 0) + 1
    assert got == want


def test_lnav_accepts_the_files_without_errors(installed: Path) -> None:
    """Every sample of every format is read by exactly one regex (lnav warns when a sample
    matches two: that would break the exclusivity the kinds rest on). The only warnings are
    regexes no sample exercises (an event under another header, the unrecognized ones)."""
    proc = subprocess.run(
        [_lnav(), "-W", "-n", "-c", ";SELECT 1", str(next((SAMPLES / BUNDLES[0]).rglob("*.log")))],
        env=_env(installed),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    problems = [line for line in proc.stderr.splitlines() if line.startswith(("⚠", "✘", "error"))]
    reasons = [
        line.strip() for line in proc.stderr.splitlines() if line.strip().startswith("reason:")
    ]
    assert problems, "expected lnav -W to list the regexes no sample exercises"
    assert all("invalid pattern" in p for p in problems), problems
    assert set(reasons) == {"reason: pattern does not match any samples"}, set(reasons)
