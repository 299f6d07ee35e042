"""Outputs off a terminal and on one: tables that never split a path or an id, TSV / CSV, paths
relative to the input, the concise and text views of ``check``, colour, a reader that leaves
early, the baseline workflow, rule pages without markup."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.text import Text

from logdoctor.cli import main
from logdoctor.cli.term import Term, terminal, use_color
from logdoctor.model import Evidence, Finding, RuleId, Severity
from logdoctor.outputs.checktext import TextOptions, summary_lines, text_lines
from logdoctor.outputs.sheet import Column, Sheet, tsv_field
from logdoctor.outputs.terminal import (
    hang,
    plain_markup,
    relative_paths,
    stats_sheet,
    top_kinds,
)
from logdoctor.rules import get_rule
from logdoctor.table import ParseStats
from logdoctor.verdict import CheckReport
from tests.helpers.paths import ASSETS, ROOT

CASE = ASSETS / "rules" / "LD101" / "bad"
SAMPLE = ROOT / "sample_logs" / "expressway-refresh-ucm-off"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(*args: object, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def cli(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess (its stdout a pipe, not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "logdoctor.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


# -- tables ---------------------------------------------------------------------------------------


def test_stats_off_a_terminal_is_one_line_per_file_with_paths_whole() -> None:
    proc = cli("stats", SAMPLE, "--tz", "UTC")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    prts = [ln for ln in lines if ln.startswith("jabber-prt/")]  # the clients' own logs
    assert prts and all(ln.split()[1] == "jabber" for ln in prts)
    # heading, five server files (3 ssosp, 2 Expressway), the PRTs, totals
    assert len(lines) == 1 + 5 + len(prts) + 1
    heading = lines[0].split()
    assert heading[:4] == ["file", "family", "node", "lines"] and "unrecognized" in heading
    for node in ("ucm-pub", "ucm-sub1", "ucm-sub2"):
        path = f"{node}/tomcat/logs/ssosp/log4j/ssosp00001.log"  # relative to the input
        (row,) = [ln for ln in lines if ln.startswith(path)]
        assert f"  {node}  " in row
    assert "auth.success 141, authorize.request 141, token.access.issued 141" in proc.stdout
    assert lines[-1].endswith(f"paths relative to {SAMPLE}")


def test_timeline_and_parse_tables_keep_ids_and_messages_on_one_line() -> None:
    tl = cli("timeline", SAMPLE, "--user", "lchen2", "--tz", "UTC")
    rows = tl.stdout.splitlines()
    # heading, lchen2's events (UCM's, the Expressway's and lchen2's own Jabber log), the count
    assert len(rows) == 1 + 242 + 1
    assert sum("  server  " in r for r in rows) == 75
    assert all(re.match(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00  ", r) for r in rows[1:-1])
    assert "grant=refresh_token reason=refresh_disabled server=expc1 id=4127c6d7…" in tl.stdout
    parse = cli("parse", SAMPLE, "--kind", "token.rejected", "--limit", "8", "--tz", "UTC")
    assert len(parse.stdout.splitlines()) == 1 + 8 + 1
    assert "client_id=C6bad3377ed8cf9881ed0bcd55d4778e01a6b154529d7c36df62e4ba7ff439313" in (
        parse.stdout
    )


def wide_sheet() -> Sheet:
    s = Sheet((Column("file"), Column("node"), Column("n", right=True), Column("kinds", free=True)))
    s.add("ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log.gz", "ucm-pub", "500", "a " * 40)
    return s


def test_a_terminal_gets_a_table_when_it_fits_and_plain_lines_when_not() -> None:
    out = io.StringIO()
    Term(tty=True, color=False, width=120, stream=out).print_sheet(wide_sheet())
    table = out.getvalue()
    assert "┃" in table or "│" in table  # a rich table
    assert "ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log.gz" in table  # whole, on one line
    narrow = io.StringIO()
    Term(tty=True, color=False, width=50, stream=narrow).print_sheet(wide_sheet())
    text = narrow.getvalue()
    assert "│" not in text and "┃" not in text  # too narrow for the path: plain lines
    assert text.splitlines()[1].startswith("ucm-pub/tomcat/logs/ssosp/log4j/ssosp00001.log.gz")


def test_tsv_and_csv_for_stats_timeline_and_parse(tmp_path: Path) -> None:
    stats = cli("stats", SAMPLE, "--format", "tsv", "--tz", "UTC").stdout.splitlines()
    servers = [r for r in stats if "/jabber-prt/" not in r]  # the rest: the clients' PRTs
    assert stats[0].split("\t")[:3] == ["file", "family", "node"] and len(servers) == 6
    assert all(len(r.split("\t")) == 9 for r in stats)
    assert "token.rejected=78" in servers[4]  # every kind, as kind=count (after 2 Expressway files)
    rows = list(csv.reader(io.StringIO(cli("stats", SAMPLE, "--format", "csv").stdout)))
    assert rows[0][0] == "file" and len(rows) == len(stats)
    tl = cli("timeline", SAMPLE, "--user", "lchen2", "--format", "tsv", "--tz", "UTC").stdout
    head, *body = tl.splitlines()
    assert head.split("\t")[:4] == ["side", "time", "node", "kind"]
    first = next(r for r in body if r.startswith("server"))
    assert "4127c6d7-57f6-4274-a184-5b59e7158b66" in first  # the whole id
    tcsv = list(
        csv.DictReader(
            io.StringIO(cli("timeline", SAMPLE, "--user", "lchen2", "--format", "csv").stdout)
        )
    )
    assert sum(r["side"] == "server" for r in tcsv) == 75 and tcsv[0]["time"].endswith("Z")
    parse = cli("parse", SAMPLE, "--format", "tsv", "--kind", "token.rejected", "--tz", "UTC")
    lines = parse.stdout.splitlines()
    assert len(lines) == 1 + 183 and all(len(ln.split("\t")) == 22 for ln in lines)


def test_tsv_escapes_tabs_newlines_and_control_characters(write) -> None:
    p = write(
        "ssosp00001.log",
        "2021-04-30 09:00:53,156 INFO  [t] x.Y - a\tb \x1b[31mred \\ back\n",
    )
    out = cli("parse", p, "--format", "tsv", "--tz", "UTC").stdout.splitlines()
    assert len(out) == 2
    message = out[1].split("\t")[-1]
    assert message == "a\\tb \\x1b[31mred \\\\ back"
    assert tsv_field("x\ny\rz\x7f") == "x\\ny\\rz\\x7f"


def test_csv_cells_never_run_as_formulas() -> None:
    sheet = Sheet((Column("user"),))
    buf = io.BytesIO()
    from logdoctor.outputs.sheet import write_sheet

    write_sheet(sheet, "csv", buf, raw=[['=HYPERLINK("x")'], ["@SUM(1)"], ["ok"]])
    rows = list(csv.reader(io.StringIO(buf.getvalue().decode())))
    assert rows == [["user"], ['\'=HYPERLINK("x")'], ["'@SUM(1)"], ["ok"]]


def test_paths_are_shown_relative_to_the_input() -> None:
    rel = relative_paths(["sample_logs/healthy"])
    assert rel("sample_logs/healthy/ucm-pub/a.log") == "ucm-pub/a.log"
    assert rel("sample_logs/healthy.zip!x") == "sample_logs/healthy.zip!x"
    z = relative_paths(["b.zip"])
    assert z("b.zip!ucm-pub/a.log") == "ucm-pub/a.log"
    two = relative_paths(["/data/east", "/data/west"])
    assert two("/data/east/ucm-pub/a.log") == "east/ucm-pub/a.log"
    sheet = stats_sheet([ParseStats(path="/data/east/ucm-pub/a.log", node="ucm-pub")], two)
    assert sheet.rows[0][0].text == "east/ucm-pub/a.log"


def test_top_kinds_ties_are_ordered_by_name() -> None:
    kinds = {"token.access.issued": 141, "auth.success": 141, "authorize.request": 141, "x": 9}
    assert top_kinds(kinds) == [
        ("auth.success", 141),
        ("authorize.request", 141),
        ("token.access.issued", 141),
    ]
    assert top_kinds(dict(reversed(kinds.items()))) == top_kinds(kinds)


# -- check: concise, text, evidence, follow-up ----------------------------------------------------


def test_concise_is_one_line_per_finding_as_ruff() -> None:
    res = run("check", CASE, "--format", "concise", "--tz", "UTC")
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    assert len(lines) == 2
    path = os.path.relpath(
        CASE / "ucm-pub" / "tomcat" / "logs" / "ssosp" / "log4j" / "ssosp00001.log"
    )
    assert lines[0].startswith(f"{path}:20: LD101 error UCM refused 8 refresh grant(s)")
    assert lines[1].startswith("1 finding(s): 1 error")


def test_text_evidence_has_times_hanging_indents_and_the_commands_for_the_rest() -> None:
    res = run("check", SAMPLE, "--tz", "UTC")
    assert res.exit_code == 1
    out = res.stdout
    first = "    11-16 07:16:47.942  ucm-sub1 ssosp00001.log:1 [documented]  Token request"
    assert first in out
    assert "… 190 more evidence line(s):" in out  # UCM refusals + Expressway 400s
    check_cmd = f"all: logdoctor check {SAMPLE} --select LD101 --evidence all --tz UTC"
    parse_cmd = (
        f"lines of these kinds: logdoctor parse {SAMPLE} --kind edge.request --kind edge.response"
        " --kind token.rejected --format jsonl --tz UTC"
    )
    assert check_cmd in out and parse_cmd in out
    # The follow-up commands do what they say.
    every = run(*check_cmd.split()[2:])
    evidence = [ln for ln in every.stdout.splitlines() if re.match(r"^    \d\d-\d\d ", ln)]
    assert len(evidence) == 193  # 183 refusals at UCM, 10 of the Expressway's lines
    data = run(*parse_cmd.split()[5:])
    # Every line of those kinds: the refusals and all the Expressways' traffic.
    assert len(data.stdout.splitlines()) == 183 + 2 * (739 + 325)
    five = run("check", SAMPLE, "--tz", "UTC", "--evidence", "5")
    assert "… 188 more evidence line(s):" in five.stdout
    doc = json.loads(
        run("check", SAMPLE, "--tz", "UTC", "--format", "json", "--evidence", "all").stdout
    )
    assert len(doc["findings"][0]["evidence"]) == doc["findings"][0]["evidence_total"] == 193


def test_wrapped_text_hangs_under_its_first_line_and_never_splits_a_word() -> None:
    body = Text("word " * 12 + "x" * 40 + " end")
    lines = [ln.plain for ln in hang(4, body, 8, 40)]
    assert lines[0].startswith("    word") and all(ln.startswith("        ") for ln in lines[1:])
    assert any(ln.strip() == "x" * 40 for ln in lines)  # longer than the room: whole
    assert all(len(ln) <= 40 for ln in lines if "x" * 40 not in ln)
    assert [ln.plain for ln in hang(2, Text("a b"), 4, None)] == ["  a b"]


def finding(rule: str, sev: Severity, subject: str) -> Finding:
    t = datetime(2026, 11, 16, 8, tzinfo=UTC)
    ev = Evidence("ucm-pub", "b/ucm-pub/x.log", 3, t, "token.rejected", "refused")
    return Finding(RuleId(rule), sev, f"title {rule}", "msg", (ev,), 1, (subject,), t, t, ())


def test_the_short_summary_groups_findings_by_rule() -> None:
    fs = [finding("LD101", Severity.ERROR, "expc1")] + [
        finding("LD403", Severity.WARNING, f"CSF{i}") for i in range(19)
    ]
    lines = [ln.plain for ln in summary_lines(fs, None)]
    assert lines[0] == "short summary (by rule):"
    assert lines[1].split() == ["error", "LD101", "title", "LD101", "[expc1]"]
    assert "LD403 x19" in lines[2] and "[CSF0; CSF1; CSF2; … 16 more]" in lines[2]
    report = CheckReport(findings=tuple(fs), rules=(get_rule("LD101"), get_rule("LD403")))
    text = [ln.plain for ln in text_lines(report, TextOptions(width=None))]
    assert text.index("short summary (by rule):") < len(text) - 1
    assert text[-1].startswith("20 finding(s): 1 error, 19 warning")


def test_output_file_still_prints_the_verdict(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    res = run("check", CASE, "-o", target, "--tz", "UTC")
    assert res.exit_code == 1
    assert res.stdout.splitlines() == [
        "1 finding(s): 1 error, 0 warning, 0 info; 34 rule(s) on 124 event(s) from 3 file(s); "
        f"FAILED: 1 at or above warning; wrote {target}"
    ]
    assert target.read_text().startswith("LD101 error")


def test_baseline_is_written_without_a_warning_and_hides_known_findings(tmp_path: Path) -> None:
    bl = tmp_path / "bl.json"
    res = run("check", CASE, "--tz", "UTC", "--write-baseline", bl)
    assert res.exit_code == 0
    assert "warning" not in res.stderr
    assert f"logdoctor: wrote 1 finding(s) to the baseline {bl}" in res.stderr
    assert "LD101 error" not in res.stdout  # in the baseline now: not shown
    again = run("check", CASE, "--tz", "UTC", "--baseline", bl)
    assert again.exit_code == 0 and "LD101 error" not in again.stdout
    assert "1 in the baseline (not shown; --show-unchanged shows them)" in again.stdout
    shown = run("check", CASE, "--tz", "UTC", "--baseline", bl, "--show-unchanged")
    assert "(unchanged: in the baseline)" in shown.stdout
    concise = run("check", CASE, "--tz", "UTC", "--baseline", bl, "--format", "concise")
    assert len(concise.stdout.splitlines()) == 1  # the verdict only
    sarif = json.loads(
        run("check", CASE, "--tz", "UTC", "--baseline", bl, "--format", "sarif").stdout
    )
    assert sarif["runs"][0]["results"][0]["baselineState"] == "unchanged"  # machines see it all


# -- colour ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "env", "coloured"),
    [
        ("auto", {}, False),  # a pipe
        ("auto", {"FORCE_COLOR": "1"}, True),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ("always", {"NO_COLOR": "1"}, True),
        ("never", {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color_option_and_environment(option: str, env: dict[str, str], coloured: bool) -> None:
    clean_env = {k: "" for k in ("NO_COLOR", "FORCE_COLOR")} | env
    for args in (("check", CASE), ("timeline", CASE, "--kind", "token.rejected")):
        proc = cli(*args, "--tz", "UTC", "--color", option, env=clean_env)
        assert bool(ANSI.search(proc.stdout)) is coloured, (args, option, env)
        assert ANSI.sub("", proc.stdout).count("LD101" if args[0] == "check" else "expc1") >= 1


def test_use_color_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    os.environ.pop("NO_COLOR", None)
    assert use_color("auto", Tty()) is (os.environ.get("TERM") != "dumb")
    assert terminal("never", Tty()).color is False and terminal("auto", io.StringIO()).tty is False


# -- a reader that leaves early -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("parse", "--format", "jsonl"),
        ("parse",),
        ("stats",),
        ("timeline", "--failures"),
        ("check", "--evidence", "all", "--one-cluster"),  # every sample: a long output
    ],
)
def test_a_reader_that_leaves_early_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    cmd = [sys.executable, "-m", "logdoctor.cli", args[0], str(ROOT / "sample_logs"), *args[1:]]
    script = (
        f"{' '.join(map(str, cmd))} --tz UTC 2>err.txt | head -c 10 >/dev/null; "
        "echo ${PIPESTATUS[0]}; cat err.txt"
    )
    proc = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=300, cwd=os.getcwd()
    )
    status, *err = proc.stdout.splitlines()
    # 0 as Unix tools on SIGPIPE; check keeps its verdict (1: findings), so that a CI step
    # `check | head` still fails.
    assert status == ("1" if args[0] == "check" else "0"), (args, proc.stdout)
    assert err == [], err  # not a word on stderr
    Path("err.txt").unlink(missing_ok=True)


# -- rule pages -----------------------------------------------------------------------------------


def test_rule_pages_have_no_markup_and_prefixes_work_as_select() -> None:
    page = run("rules", "LD101").stdout
    assert "``" not in page and "*with refresh*" not in page
    assert "reason refresh_disabled that came through an Expressway" in page
    assert "authorizes Jabber by OAuth token with refresh while" in page
    assert run("rules", "ld101").stdout == page
    listing = run("rules", "LD1")
    assert listing.exit_code == 0
    ids = [ln.split()[0] for ln in listing.stdout.splitlines()[1:]]
    assert ids == [f"LD10{i}" for i in range(1, 10)]
    bad = run("rules", "XX1")
    assert bad.exit_code == 2 and "'XX1' matches no rule id" in bad.stderr
    assert plain_markup("run ``show key authz`` or `utils x` *now*; token.* and a * b") == (
        "run show key authz or utils x now; token.* and a * b"
    )
    fixes = run("check", ASSETS / "rules" / "LD202" / "bad", "--tz", "UTC").stdout
    assert "Check with show key authz signing and show key authz encryption" in " ".join(
        fixes.split()
    )


def test_ld105_for_an_on_off_parameter_says_on_or_off_and_its_own_fix(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    assert (
        run("service", "--data-dir", lab, "params", "--set", "refresh_login_flow=on").exit_code == 0
    )
    refused = run("service", "--data-dir", lab, "params", "--set", "refresh_login_flow=maybe")
    assert refused.exit_code == 2
    res = run("check", lab / "logs", "--tz", "UTC", "--format", "json", "--select", "LD105")
    (f,) = json.loads(res.stdout)["findings"]
    assert f["title"] == "An enterprise parameter change was refused"
    assert f["message"] == (
        "1 attempt(s) to set refresh_login_flow to maybe were refused (not_on_off); it stays on."
    )
    assert "True" not in f["message"]
    assert '"OAuth with Refresh Login Flow" to Enabled or Disabled' in f["fix"][0]
    assert not any("timer" in step.lower() for step in f["fix"])
    timer = run("check", ASSETS / "rules" / "LD105" / "bad", "--format", "json", "--tz", "UTC")
    (t,) = json.loads(timer.stdout)["findings"]
    assert t["fix"] == list(get_rule("LD105").doc.fix) and "1-1440" in t["fix"][0]
