"""`logdoctor check` and `logdoctor timeline` through the CLI: exit codes, options, files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from logdoctor.cli import main

CASES = Path(__file__).parent / "assets" / "rules"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def rules_of(result: Result) -> list[str]:
    return [f["rule"] for f in json.loads(result.stdout)["findings"]]


@pytest.mark.parametrize(
    ("case", "options", "code"),
    [
        ("LD101/good", (), 0),
        ("LD101/bad", (), 1),
        ("LD101/bad", ("--fail-on", "error"), 1),
        ("LD105/bad", ("--fail-on", "error"), 0),  # a warning
        ("LD105/bad", ("--fail-on", "warning"), 1),
        ("LD105/bad", ("--fail-on", "never"), 0),
        ("LD302/bad", (), 0),  # an info
        ("LD302/bad", ("--fail-on", "info"), 1),
        ("LD101/bad", ("--ignore", "LD101"), 0),
        ("LD101/bad", ("--select", "LD2,LD3"), 0),
        ("LD101/bad", ("--select", "LD1"), 1),
    ],
)
def test_exit_codes(case: str, options: tuple[str, ...], code: int) -> None:
    result = run("check", CASES / case, *options)
    assert result.exit_code == code, result.output


def test_select_and_ignore_limit_the_rules_run() -> None:
    res = run(
        "check", CASES / "LD202" / "bad", "--format", "json", "--select", "LD2", "--ignore", "LD204"
    )
    doc = json.loads(res.stdout)
    assert rules_of(res) == ["LD202"]
    assert doc["summary"]["rules_run"] == 9  # LD201-LD206, LD211-LD214, less LD204


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to check"),
        (("check", "/no/such/path"), "/no/such/path"),
        (("--select", "XX1"), "'XX1' matches no rule id"),
        (("--ignore", "LD7"), "'LD7' matches no rule id"),
        (("--config", str(CASES / "LD101" / "bad" / "expected.json")), "not valid TOML"),
        (
            ("--baseline", str(CASES / "LD101" / "bad" / "expected.json")),
            "not a logdoctor baseline",
        ),
        (("--format", "xml"), "Invalid value for '--format'"),
    ],
)
def test_usage_and_input_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    if args and args[0] == "check":
        res = run(*args)
    elif args:
        res = run("check", CASES / "LD101" / "good", *args)
    else:
        res = run("check")
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_no_log_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to see")
    res = run("check", tmp_path)
    assert res.exit_code == 2 and "no log file found in" in res.output


def test_bad_config_names_file_line_and_allowed_values(tmp_path: Path) -> None:
    cfg = tmp_path / "deployment.toml"
    cfg.write_text(
        '[[cluster]]\nname = "u"\npublisher = "p"\n[cluster.parameters]\n'
        'implicit_grant = "sometimes"\n'
    )
    res = run("check", "--config", cfg)
    assert res.exit_code == 2
    assert (
        f"{cfg}:5: cluster[0].parameters.implicit_grant: 'sometimes' is not allowed "
        "(allowed: on, off)" in res.output
    )


def test_config_alone() -> None:
    res = run(
        "check", "--config", CASES / "LD101" / "config" / "deployment.toml", "--format", "json"
    )
    assert res.exit_code == 1
    assert rules_of(res) == ["LD101"]
    ev = json.loads(res.stdout)["findings"][0]["evidence"]
    assert [e["kind"] for e in ev] == ["config", "config"]
    assert ev[0]["excerpt"] == 'authorize_by_oauth_token_with_refresh = "on"'
    ok = run("check", "--config", CASES / "healthy" / "config" / "deployment.toml")
    assert ok.exit_code == 0, ok.output


def test_logs_and_config_together() -> None:
    case = CASES / "LD104" / "bad"
    res = run("check", case, "--config", case / "deployment.toml", "--format", "json")
    assert res.exit_code == 1
    assert sorted(rules_of(res)) == ["LD101", "LD104", "LD104"]


def test_baseline_round_trip(tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    first = run("check", CASES / "LD101" / "bad", "--write-baseline", base)
    assert first.exit_code == 0, first.output
    assert "wrote 1 finding(s) to the baseline" in first.output
    doc = json.loads(base.read_text())
    assert doc["findings"][0]["rule"] == "LD101" and doc["findings"][0]["subjects"] == ["expc1"]
    again = run("check", CASES / "LD101" / "bad", "--baseline", base, "--format", "json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["findings"][0]["baseline_state"] == "unchanged"
    other = run("check", CASES / "LD102" / "bad", "--baseline", base, "--format", "json")
    assert other.exit_code == 1
    out = json.loads(other.stdout)
    assert out["findings"][0]["baseline_state"] == "new"
    assert out["absent"][0]["rule"] == "LD101"


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "out.sarif"
    res = run("check", CASES / "LD101" / "bad", "--format", "sarif", "-o", target)
    assert res.exit_code == 1
    # The file holds the document; the console still says what happened (for a CI log).
    assert res.stdout.count("\n") == 1
    assert res.stdout.startswith("1 finding(s): 1 error")
    assert f"FAILED: 1 at or above warning; wrote {target}" in res.stdout
    doc = json.loads(target.read_text())
    assert doc["runs"][0]["results"][0]["ruleId"] == "LD101"
    junit = tmp_path / "out.xml"
    assert run("check", CASES / "LD101" / "bad", "--format", "junit", "-o", junit).exit_code == 1
    assert junit.read_text().startswith("<?xml")


def test_text_output() -> None:
    res = run("check", CASES / "LD303" / "bad")
    assert res.exit_code == 1
    assert res.stdout.startswith("LD303 warning An inactive (LDAP-removed) user")
    flat = " ".join(res.stdout.split())
    assert "fix: 1. In Cisco Unified CM Administration open User Management" in flat
    assert "FAILED: 1 at or above warning" in flat


def test_correct_skew_option() -> None:
    res = run(
        "check", CASES / "LD903" / "bad", "--correct-skew", "--format", "json", "--select", "LD903"
    )
    assert res.exit_code == 1
    msg = json.loads(res.stdout)["findings"][0]["message"]
    assert re.search(r"imp1's clock is about 29\d\.\d s behind ucm-pub's", msg), msg
    assert "Times were corrected" in msg


def test_timeline_command() -> None:
    res = run("timeline", CASES / "LD301" / "bad", "--user", "carol", "--format", "jsonl")
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert rows and {r["user"] for r in rows} == {"carol"}
    kinds = [r["kind"] for r in rows]
    assert kinds.index("revoke.request") < kinds.index("token.rejected")
    assert rows[0]["time"].endswith("Z")
    text = run("timeline", CASES / "LD301" / "bad", "--device", "CSFCAROL", "--limit", "3")
    assert text.exit_code == 0
    flat = " ".join(text.stdout.split())
    assert "CSFCAROL" in flat and "10 more (use --limit" in flat
    assert "13 line(s) from 2026-11-16 08:02:59 +00:00 to 2026-11-16 10:45:00 +00:00" in flat
    none = run("timeline", CASES / "LD301" / "bad")
    assert none.exit_code == 2 and "give --user" in none.output


def test_timeline_with_skew_correction() -> None:
    res = run(
        "timeline",
        CASES / "LD903" / "bad",
        "--user",
        "alice",
        "--correct-skew",
        "--format",
        "jsonl",
    )
    assert res.exit_code == 0
    times = [json.loads(x)["time"] for x in res.stdout.splitlines()]
    assert times == sorted(times)
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    issued = {r["token_id"]: r["time"] for r in rows if r["kind"] == "token.access.issued"}
    used = [(r["token_id"], r["time"]) for r in rows if r["kind"] == "token.validated"]
    # after correction no validation at imp1 comes before its token was issued
    assert used and all(t >= issued[tok] for tok, t in used)
    raw = run("timeline", CASES / "LD903" / "bad", "--user", "alice", "--format", "jsonl")
    before = [json.loads(x) for x in raw.stdout.splitlines()]
    assert any(r["time"] < issued[r["token_id"]] for r in before if r["kind"] == "token.validated")


def test_pre_commit_hook_entry(tmp_path: Path) -> None:
    hooks = (Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text()
    entry = re.search(r"^  entry: (.+)$", hooks, re.M)
    assert entry is not None and re.search(r"^  files: .*deployment", hooks, re.M)
    argv = entry.group(1).split()
    assert argv[0] == "logdoctor"
    bad = run(*argv[1:], CASES / "LD101" / "config" / "deployment.toml")
    assert bad.exit_code == 1 and "LD101" in bad.stdout
    good = run(*argv[1:], CASES / "healthy" / "config" / "deployment.toml")
    assert good.exit_code == 0
    two = run(
        *argv[1:],
        CASES / "healthy" / "config" / "deployment.toml",
        CASES / "LD101" / "config" / "deployment.toml",
    )
    assert two.exit_code == 2 and "give a deployment file with --config" in two.output
