"""The report templates' compiled code kept between runs (``logdoctor.outputs.templatecache``):
a hit renders what a compile renders without compiling; an edit of the template, another
environment shape, a damaged, foreign or unsafe entry is a miss; ``LOGDOCTOR_NO_CACHE``
neither reads nor writes; one environment per folder and process (a fleet compiles the page
once, not per cluster)."""

from __future__ import annotations

import os
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest

from logdoctor.outputs import html as html_module
from logdoctor.outputs.html import TEMPLATE, builtin_reports_dir, environment, render_html
from logdoctor.outputs.templatecache import templates_cache_dir
from logdoctor.report import build_report
from logdoctor.table import empty_frame

REPORTS = builtin_reports_dir()


@pytest.fixture
def compiles(cached: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cache allowed in a private folder (``cached``); the names of the templates
    compiled from source (not read from the cache) are appended to the list."""
    seen: list[str] = []
    real = jinja2.Environment.compile

    def spy(self: jinja2.Environment, source: object, name: object = None, *a: object) -> object:
        seen.append(str(name))
        return real(self, source, name, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", spy)
    html_module._page_environment.cache_clear()
    return seen


def _entries() -> list[Path]:
    folder = templates_cache_dir()
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "reports"
    shutil.copytree(REPORTS, copy)
    return copy


_MODEL = build_report(empty_frame(), [], inputs=["bundle"], now=datetime(2026, 12, 6, tzinfo=UTC))
"""The report every test renders (its time fixed: two renders give the same page)."""


def _render(folder: Path) -> str:
    return (
        environment(folder)
        .get_template(TEMPLATE)
        .render(report=_MODEL, assets=html_module.load_assets(folder), csp="x")
    )


def test_a_second_environment_reads_the_compiled_page(compiles: list[str], tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    first = _render(folder)
    assert TEMPLATE in compiles
    entries = _entries()
    assert entries, "the compiled page is kept"
    for entry in entries:
        mode = stat.S_IMODE(entry.stat().st_mode)
        assert mode == 0o600
    assert stat.S_IMODE(templates_cache_dir().stat().st_mode) == 0o700
    compiles.clear()
    assert _render(folder) == first
    assert compiles == []  # every template of the page came from the cache


def test_an_edited_template_is_compiled_again(compiles: list[str], tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _render(folder)
    page = folder / TEMPLATE
    page.write_text(page.read_text(encoding="utf-8") + "<!-- edited -->\n", encoding="utf-8")
    compiles.clear()
    out = _render(folder)
    assert TEMPLATE in compiles
    assert out.rstrip().endswith("<!-- edited -->")


def test_another_environment_shape_has_its_own_entry(compiles: list[str], tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _render(folder)
    before = set(_entries())
    env = environment(folder)
    env.filters["extra"] = str  # a filter more: the compiled code may differ
    compiles.clear()
    env.get_template(TEMPLATE)
    assert TEMPLATE in compiles
    assert set(_entries()) > before


@pytest.mark.parametrize("damage", ["garbage", "truncated", "writable by others"])
def test_a_damaged_or_unsafe_entry_is_not_used(
    compiles: list[str], tmp_path: Path, damage: str
) -> None:
    folder = _copy(tmp_path)
    good = _render(folder)
    for entry in _entries():
        if damage == "garbage":
            entry.write_bytes(b"j2 not what it should be")
        elif damage == "truncated":
            entry.write_bytes(entry.read_bytes()[:-40])
        else:
            os.chmod(entry, 0o666)
    compiles.clear()
    assert _render(folder) == good
    assert TEMPLATE in compiles


def test_no_cache_neither_reads_nor_writes(
    compiles: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGDOCTOR_NO_CACHE", "1")
    folder = _copy(tmp_path)
    _render(folder)
    _render(folder)
    assert compiles.count(TEMPLATE) == 2
    assert _entries() == []


def test_an_unwritable_cache_only_costs_the_compile(
    compiles: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("LOGDOCTOR_CACHE_DIR", str(blocker / "parsed"))
    folder = _copy(tmp_path)
    assert _render(folder) == _render(folder)
    assert compiles.count(TEMPLATE) == 2


def test_reports_of_one_process_compile_the_page_once(
    compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGDOCTOR_NO_CACHE", "1")  # the process's memory alone
    pages = [render_html(_MODEL) for _ in range(3)]
    assert pages[0] == pages[1] == pages[2]
    assert compiles.count(TEMPLATE) == 1
