"""The command line: outputs, filters, exit codes, one-line errors."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from logdoctor.cli import main
from logdoctor.model import EventKind
from logdoctor.table import COLUMNS
from tests.helpers.paths import ASSETS, ROOT, asset

VERBATIM = str(ASSETS / "verbatim")


def test_parse_jsonl_has_the_schema_and_iso_utc_times(runner) -> None:
    res = runner.invoke(main, ["parse", VERBATIM, "--format", "jsonl", "--all-fields"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(ln) for ln in res.stdout.splitlines()]
    # ssosp, certMgmt, then CiscoSyslog, Jabber, Expressway and AuditApp records.
    assert len(rows) == 21 + 1 + 1 + 3 + 17 + 1 + 6 + 8 + 6 + 1
    assert all(list(r) == list(COLUMNS) for r in rows)
    # Without --all-fields: the same rows, their null fields left out.
    lean = runner.invoke(main, ["parse", VERBATIM, "--format", "jsonl"])
    assert lean.exit_code == 0, lean.output
    assert [json.loads(ln) for ln in lean.stdout.splitlines()] == [
        {k: v for k, v in r.items() if v is not None} for r in rows
    ]
    times = [r["time"] for r in rows if r["time"] is not None]
    assert all(t.endswith("Z") and "T" in t for t in times)
    # Only the published lines whose source cut the date have no time.
    assert len(rows) - len(times) == 4 + 1


def test_parse_filters(runner) -> None:
    res = runner.invoke(
        main,
        [
            "parse",
            VERBATIM,
            "--format",
            "jsonl",
            "--kind",
            "saml.*",
            "--since",
            "2021-04-30T09:01:00",
            "--until",
            "2021-04-30T09:01:04.09",
        ],
    )
    rows = [json.loads(ln) for ln in res.stdout.splitlines()]
    assert rows and all(r["kind"].startswith("saml.") for r in rows)
    assert all("2021-04-30T09:01:00" <= r["time"] < "2021-04-30T09:01:04.090" for r in rows)
    res = runner.invoke(main, ["parse", VERBATIM, "--format", "jsonl", "--user", "admin"])
    assert [json.loads(ln)["kind"] for ln in res.stdout.splitlines()] == ["saml.user"]


def test_parse_to_csv_and_parquet(runner, tmp_path: Path) -> None:
    out = tmp_path / "e.parquet"
    assert (
        runner.invoke(main, ["parse", VERBATIM, "--format", "parquet", "-o", str(out)]).exit_code
        == 0
    )
    df = pl.read_parquet(out)
    assert df.columns == list(COLUMNS) and df.height == 65
    csv = tmp_path / "e.csv"
    assert (
        runner.invoke(main, ["parse", VERBATIM, "--format", "csv", "-o", str(csv)]).exit_code == 0
    )
    assert pl.read_csv(csv).height == 65


def test_parse_table_escapes_control_characters(runner, write) -> None:
    p = write(
        "ssosp00001.log",
        "2021-04-30 09:00:53,156 INFO  [t] x.Y - \x1b[31mred\x1b[0m [bold]x[/bold]\n",
    )
    res = runner.invoke(main, ["parse", str(p)], env={"COLUMNS": "250"})
    assert res.exit_code == 0
    assert "\x1b[31m" not in res.output and "\\x1b[31mred" in res.output
    assert "[bold]x[/bold]" in res.output  # shown as text, not interpreted as markup


def test_stats_json_document(runner, write) -> None:
    res = runner.invoke(main, ["stats", VERBATIM, "--format", "json"])
    doc = json.loads(res.stdout)
    assert doc["totals"]["lines"] == sum(f["lines"] for f in doc["files"]) == 77
    for f in doc["files"]:
        assert {
            "path",
            "family",
            "node",
            "lines",
            "records",
            "malformed",
            "unrecognized",
            "decode_errors",
            "kinds",
        } <= set(f)
    # The first half of a CiscoSyslog record a web page split at its second clock.
    assert doc["totals"]["malformed"] == 1


def test_stats_lists_unreadable_inputs_and_exits_2(runner, write) -> None:
    bad = write("bad.zip", b"PK\x03\x04junk")
    res = runner.invoke(main, ["stats", VERBATIM, str(bad), "--format", "json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    errs = [f for f in doc["files"] if "error" in f]
    assert len(errs) == 1 and errs[0]["path"].endswith("bad.zip")
    assert "bad.zip" in res.stderr and "Traceback" not in res.stderr


def test_an_empty_file_given_by_name_has_no_family(runner, write, tmp_path, monkeypatch) -> None:
    """Neither an empty file nor a name no format claims says which family it is: ``stats``
    shows no family and says the file is empty (it showed auditapp, the most tolerant format,
    which an empty file's detection fell back to), parsed and from the cache alike; an empty
    file whose name a format claims keeps that format's family."""
    monkeypatch.setenv("LOGDOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    files = {
        "empty.log": write("in/empty.log", b""),
        "bom.txt": write("in/bom.txt", b"\xef\xbb\xbf"),
        "nothing.log.gz": write("in/nothing.log.gz", gzip.compress(b"")),
        "ssosp00001.log": write("in/ssosp00001.log", b""),
    }
    expected = {
        "empty.log": None,
        "bom.txt": None,
        "nothing.log.gz": None,
        "ssosp00001.log": "ssosp",
    }
    for _ in range(2):  # parsed and stored, then read from the cache
        res = runner.invoke(main, ["stats", *map(str, files.values()), "--format", "json"])
        assert res.exit_code == 0, res.output
        doc = json.loads(res.stdout)
        assert {Path(f["path"]).name: f["family"] for f in doc["files"]} == expected
        assert all(f["lines"] == 0 and f["records"] == 0 for f in doc["files"])
    res = runner.invoke(main, ["stats", str(files["empty.log"]), str(files["ssosp00001.log"])])
    assert res.exit_code == 0, res.output
    rows = {ln.split()[0]: ln.split() for ln in res.stdout.splitlines() if ".log" in ln}
    assert rows["empty.log"][1] == "-" and "auditapp" not in res.stdout
    assert rows["ssosp00001.log"][1] == "ssosp"
    assert rows["empty.log"][-2:] == ["empty", "file"] == rows["ssosp00001.log"][-2:]


def test_a_file_no_format_fits_has_no_family_and_no_zone_warning(
    runner, write, tmp_path, monkeypatch
) -> None:
    """A file with lines but no record (no header of any format fits any line) and a name no
    format claims: ``stats`` shows no family (it showed auditapp, the fallback of detection),
    counts every line as malformed, and warns of no zone-less time (none was read); a name a
    format claims keeps that format's family. Parsed and from the cache alike."""
    monkeypatch.setenv("LOGDOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    mystery = write("in/mystery.txt", b"hello world\nsomething else entirely\n")
    named = write("in/ssosp00002.log", b"not a log4j line\n")
    for _ in range(2):  # parsed and stored, then read from the cache
        res = runner.invoke(main, ["stats", str(mystery), str(named), "--format", "json"])
        assert res.exit_code == 0, res.output
        doc = json.loads(res.stdout)
        got = {
            Path(f["path"]).name: (f["family"], f["lines"], f["malformed"]) for f in doc["files"]
        }
        assert got == {"mystery.txt": (None, 2, 2), "ssosp00002.log": ("ssosp", 1, 1)}
        assert "auditapp" not in res.output and "without a zone" not in res.stderr


def test_kinds_and_formats_listing(runner) -> None:
    res = runner.invoke(main, ["kinds", "--format", "json"])
    doc = json.loads(res.output)
    assert {k: v["description"] for k, v in doc.items()} == {
        k.value: k.description for k in EventKind
    }
    # Each kind's basis per family that writes it: real alarms published, emulator lines not.
    assert doc["service.started"]["basis"] == {"ciscosyslog": ["documented", "published"]}
    assert "service.restarted" not in doc  # retired: restarts come from CiscoSyslog / AuditApp
    assert doc["audit.service"]["basis"] == {"auditapp": ["published"]}
    assert doc["auth.failure"]["basis"] == {
        "ciscosyslog": ["documented"],
        "ssosp": ["documented"],
    }
    assert doc["unrecognized"]["basis"] == {}
    table = runner.invoke(main, ["kinds"])
    assert table.exit_code == 0 and "ciscosyslog: published" in table.output
    res = runner.invoke(main, ["formats", "--format", "json"])
    assert sorted(f["name"] for f in json.loads(res.output)) == [
        "auditapp",
        "certmgmt",
        "ciscosyslog",
        "expressway",
        "jabber",
        "ssoapp",
        "ssosp",
    ]


def test_formats_check(runner, tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "ssosp.toml").write_bytes((ROOT / "parsers" / "ssosp.toml").read_bytes())
    res = runner.invoke(main, ["formats", "--check", str(good)])
    assert res.exit_code == 0 and res.output.startswith("ok: 1 format(s)")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.toml").write_text('name = "x"\n')
    res = runner.invoke(main, ["formats", "--check", str(bad)])
    assert res.exit_code == 2 and "x.toml: family: required string is missing" in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["parse", "/no/such/path"], "/no/such/path: no such file or folder"),
        (["parse", VERBATIM, "--kind", "nope"], "--kind 'nope': not an event kind"),
        (["parse", VERBATIM, "--since", "yesterday"], "--since 'yesterday': not an ISO 8601"),
        (["parse", VERBATIM, "--tz", "Mars/Base"], "--tz 'Mars/Base': unknown time zone"),
        (["parse", VERBATIM, "--formats-dir", str(ASSETS)], "no *.toml format file"),
        (["parse", VERBATIM, "--format", "jsonl", "-o", "/proc/nope/out.jsonl"], "cannot write"),
    ],
)
def test_errors_are_one_line_exit_2_no_traceback(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "logdoctor.cli", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert all(line.startswith("logdoctor: error: ") for line in proc.stderr.strip().splitlines())


def test_every_command_has_help(runner) -> None:
    for name, cmd in main.commands.items():
        assert cmd.help, name
        res = runner.invoke(main, [name, "--help"])
        assert res.exit_code == 0 and "Usage:" in res.output


def test_broken_pipe_is_quiet() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m logdoctor.cli parse {asset('verbatim')} --format jsonl | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.count("\n") == 1 and "Traceback" not in proc.stderr
