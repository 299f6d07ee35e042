"""`logdoctor report`: writes the page, prints its path, one-line errors with exit status 2."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from logdoctor.cli import main
from tests.report.bundles import normal_bundle


def test_report_writes_the_page_and_prints_its_path(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    out = tmp_path / "out" / "r.html"
    out.parent.mkdir()
    res = runner.invoke(main, ["report", str(root), "-o", str(out), "--title", "Site <A>"])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"{out}\n" and res.stderr == ""
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<title>Site &lt;A&gt;</title>" in html
    assert '<td class="name">bob</td>' in html and "3 h 45 min" in html
    assert '<section id="verdict" class="verdict level-' in html


def test_gap_option_sets_the_threshold(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    out = tmp_path / "r.html"
    assert runner.invoke(main, ["report", str(root), "-o", str(out), "--gap", "30"]).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "silences longer than 30 min" in html
    assert html.count("<td>31 min</td>") == 1 and html.count("<td>45 min</td>") == 1
    res = runner.invoke(main, ["report", str(root), "-o", str(out), "--gap", "0"])
    assert res.exit_code == 2 and "--gap" in res.stderr


def test_unreadable_input_still_gives_a_report_and_exit_2(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = normal_bundle(tmp_path / "b")
    bad = root / "ucm-pub" / "platform" / "log" / "certMgmt00001.log"
    bad.write_bytes(b"\x00\x00\x00\x01binary")
    out = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(root), "-o", str(out)])
    assert res.exit_code == 2
    assert res.stdout == f"{out}\n"
    (line,) = res.stderr.splitlines()
    assert line.startswith("logdoctor: error: ") and "certMgmt00001.log" in line
    html = out.read_text(encoding="utf-8")
    assert "could not be read: binary content" in html and '<td class="name">alice</td>' in html


def test_missing_input_is_one_line_and_no_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = runner.invoke(main, ["report", str(tmp_path / "nope"), "-o", str(out)])
    assert res.exit_code == 2 and not out.exists() and res.stdout == ""
    first, last = res.stderr.splitlines()
    assert first.startswith("logdoctor: error: ") and "nope" in first
    assert last == "logdoctor: error: no log was read: no report written"


def test_unwritable_output_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    res = runner.invoke(main, ["report", str(root), "-o", str(tmp_path / "no" / "dir" / "r.html")])
    assert res.exit_code == 2
    (line,) = res.stderr.splitlines()
    assert "cannot write" in line and "Traceback" not in res.output
    res = runner.invoke(main, ["report", str(root), "-o", "-"])
    assert res.exit_code == 2 and "--output" in res.stderr


def test_missing_config_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    root = normal_bundle(tmp_path / "b")
    res = runner.invoke(main, ["report", str(root), "--config", str(tmp_path / "none.toml")])
    assert res.exit_code == 2 and "none.toml" in res.stderr


def test_report_help_names_the_options(runner: CliRunner) -> None:
    res = runner.invoke(main, ["report", "--help"])
    assert res.exit_code == 0
    for opt in ("--output", "--config", "--title", "--gap", "--tz", "--set-node", "--jobs"):
        assert opt in res.output
