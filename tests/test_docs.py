"""The documentation site: generated reference pages are current, complete, and the site builds.

``scripts/gendocs.py`` writes docs/reference/ from the code (the click command tree, the rules
registry, the event-table schema and formats). A committed page that differs from what it
produces now fails here: a new option, rule or kind needs `make docs-gen`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import CliRunner

from logdoctor.cli import main
from logdoctor.ingest.formats.catalog import load_formats
from logdoctor.model import EventKind
from logdoctor.rules import all_rules
from logdoctor.table import COLUMNS
from tests.helpers.paths import ROOT


def _gendocs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gendocs", ROOT / "scripts" / "gendocs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gendocs = _gendocs()


def test_committed_reference_pages_are_current() -> None:
    stale = gendocs.stale()
    assert stale == [], f"docs/reference/ {stale} not current: run `make docs-gen`"


def test_stale_detects_a_changed_a_missing_and_a_left_over_page(tmp_path: Path) -> None:
    want = gendocs.pages()
    assert sorted(want) == ["cli.md", "events.md", "rules.md"]
    gendocs.write(tmp_path, want)
    assert gendocs.stale(tmp_path, want) == []
    (tmp_path / "cli.md").write_text("old\n", encoding="utf-8")
    (tmp_path / "rules.md").unlink()
    (tmp_path / "gone.md").write_text("a page no longer generated\n", encoding="utf-8")
    assert gendocs.stale(tmp_path, want) == ["cli.md", "gone.md", "rules.md"]
    assert gendocs.write(tmp_path, want) == ["cli.md", "gone.md", "rules.md"]
    assert gendocs.stale(tmp_path, want) == []
    assert not (tmp_path / "gone.md").exists()


def _commands(cmd: click.Command, ctx: click.Context) -> list[tuple[click.Command, click.Context]]:
    out = [(cmd, ctx)]
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None
            out += _commands(sub, gendocs._context(sub, name, ctx))
    return out


def test_cli_page_holds_every_command_option_and_choice() -> None:
    page = gendocs.cli_page()
    tree = _commands(main, gendocs._context(main, "logdoctor", None))
    assert len(tree) > 20
    for cmd, ctx in tree:
        assert f"\n## {ctx.command_path}\n" in page, ctx.command_path
        section = page.split(f"\n## {ctx.command_path}\n", 1)[1].split("\n## ", 1)[0]
        for param in cmd.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            for opt in param.opts + param.secondary_opts:
                assert re.search(rf"`[^`]*{re.escape(opt)}\b", section), (ctx.command_path, opt)
            if isinstance(param.type, click.Choice):
                assert "|".join(map(str, param.type.choices)) in section, (opt, section)
            if param.help:
                first = " ".join(param.help.split())[:30]
                assert gendocs.md_text(first)[:20] in section, (opt, first)


def test_cli_page_does_not_depend_on_an_earlier_run_of_the_cli() -> None:
    """click caches each command's help option on first use: the page must be the same before
    and after a run (``-h, --help`` as the group's context settings make it)."""
    before = gendocs.cli_page()
    assert CliRunner().invoke(main, ["rules", "--help"]).exit_code == 0
    assert gendocs.cli_page() == before
    assert "- `-h, --help`: Show this message and exit." in before


def test_a_new_option_changes_the_cli_page(monkeypatch: pytest.MonkeyPatch) -> None:
    before = gendocs.cli_page()
    check = main.get_command(click.Context(main), "check")
    assert check is not None
    extra = click.Option(["--brand-new"], help="An option nobody documented yet.")
    monkeypatch.setattr(check, "params", [*check.params, extra])
    after = gendocs.cli_page()
    assert after != before
    assert "`--brand-new TEXT`: An option nobody documented yet." in after


def test_rules_page_has_an_anchor_and_the_fix_of_every_rule() -> None:
    page = gendocs.rules_page()
    for r in all_rules():
        assert f"## {r.id}: " in page and f"{{#{r.id}}}" in page, r.id
        assert f"| [{r.id}](#{r.id}) | {r.severity} | {r.category} |" in page
        section = page.split(f"{{#{r.id}}}", 1)[1].split("\n## ", 1)[0]
        for name in ("What", "Why", "Detection", "Example", "Fix", "References"):
            assert f"\n#### {name}\n" in section, (r.id, name)
        assert f"{len(r.doc.fix)}. " in section
        assert r.doc.sections["Example"].splitlines()[0] in section


def test_events_page_has_every_column_kind_and_format() -> None:
    page = gendocs.events_page()
    for c in COLUMNS:
        assert f"| `{c}` |" in page, c
    for k in EventKind:
        assert f"| `{k.value}` |" in page, k.value
    for f in load_formats():
        assert f"| `{f.name}` | {f.family} |" in page, f.name
    # a kind's row names the families that produce it, with their basis
    row = next(line for line in page.splitlines() if line.startswith("| `saml.cert.mismatch` |"))
    assert row.endswith("| ssosp: published |")


def test_md_text_escapes_markup_outside_code() -> None:
    assert gendocs.md_text("a <b> *c* `x*<y>` ``z``") == r"a &lt;b&gt; \*c\* `x*<y>` `z`"
    assert gendocs.md_text("see https://x.example/a_b.") == "see <https://x.example/a_b>."


def test_mkdocs_builds_the_site_strictly(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).parent / "mkdocs"
    assert mkdocs.exists() or shutil.which("mkdocs"), "mkdocs is a dev dependency: make venv"
    site = tmp_path / "site"
    res = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    rules = (site / "reference" / "rules" / "index.html").read_text(encoding="utf-8")
    assert 'id="LD101"' in rules
    assert (site / "img" / "report.png").stat().st_size > 10_000
    assert (site / "search" / "search_index.json").exists()
