"""What a fleet run tells its user: in process when the fleet is small (the sizing model), the
failing clusters and rules on the terminal, badges that say the verdict (checked in Chromium,
with the page at phone width)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from logdoctor.cli import main
from logdoctor.fleet.bundles import Bundle
from logdoctor.fleet.sizing import COMPRESSION, DASK_STARTUP, choose, estimate_seconds
from tests.helpers.fleet import TEN, write_bundle

CHROMIUM = "/usr/bin/chromium"


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def bundle_of(path: Path, size: int, name: str = "ssosp00001.log") -> Bundle:
    """A bundle folder holding one (sparse) file of ``size`` bytes."""
    f = path / "ucm-pub" / name
    f.parent.mkdir(parents=True, exist_ok=True)
    with f.open("wb") as fh:
        fh.truncate(size)
    return Bundle(path.name, str(path))


def test_sizing_model(tmp_path: Path) -> None:
    small = [bundle_of(tmp_path / f"s{i}", 1 << 20) for i in range(3)]  # 3 MB, 3 clusters
    assert estimate_seconds(small) == pytest.approx(3 * (1 << 20) / 15e6 + 0.6)
    pick = choose(small, workers=2)
    assert pick.in_process and "small fleet" in pick.reason
    big = [bundle_of(tmp_path / "b", 200 << 20)]  # 200 MB: ~14 s of work
    assert not choose(big, workers=2).in_process
    assert choose(big, workers=1).in_process  # one core: nothing to gain
    gz = [bundle_of(tmp_path / "z", 6 << 20, "ssosp00001.log.gz")]  # counts 10 x
    assert estimate_seconds(gz) == pytest.approx(COMPRESSION * (6 << 20) / 15e6 + 0.2)
    # The threshold: Dask pays off once the work exceeds its start-up x W / (W - 1).
    at = DASK_STARTUP * 2  # 2 workers
    edge = [bundle_of(tmp_path / "e", int((at - 0.2) * 15e6) + 1000)]
    assert not choose(edge, workers=2).in_process
    below = [bundle_of(tmp_path / "f", int((at - 0.2) * 15e6) - 100_000)]
    assert choose(below, workers=2).in_process


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    root = tmp_path_factory.mktemp("ux")
    cases = (TEN[0], TEN[5], TEN[6], TEN[9])  # LD101 (error), LD202 (error), LD302, healthy
    paths = [write_bundle(c, root / "bundles", root / "configs") for c in cases]
    out = root / "out"
    res = run("fleet", *paths, "-o", out, "--tz", "UTC")
    return out, res


def test_a_small_fleet_runs_in_process_and_says_why(fleet: tuple[Path, Result]) -> None:
    _, res = fleet
    first = res.stdout.splitlines()[0]
    assert first.startswith("4 cluster(s) on this process (no Dask; small fleet: about ")
    assert "no Dask" in first


def test_the_summary_names_failing_clusters_and_their_rules(fleet: tuple[Path, Result]) -> None:
    _, res = fleet
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    i = next(n for n, ln in enumerate(lines) if "cluster(s) FAILED at or above warning:" in ln)
    failing = lines[i + 1 : i + 3]
    assert failing == ["  apac-ld202: LD202 error", "  east-ld101: LD101 error"]
    assert not any("hq-healthy" in ln or "lab-ld302" in ln for ln in lines[i:])  # info only


def test_flags_that_contradict_each_other() -> None:
    res = run("fleet", "x", "--in-process", "--dask")
    assert res.exit_code == 2 and "takes neither --dask" in res.stderr


def test_badges_say_the_verdict(fleet: tuple[Path, Result]) -> None:
    out, _ = fleet
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'badge verdict-error">error<' in html  # the clusters with errors: never a green ok
    assert 'badge verdict-info">info<' in html and 'badge verdict-clean">clean<' in html
    assert ">ok<" not in html


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield b
        b.close()


@pytest.mark.slow
def test_in_chromium_an_error_badge_is_red_and_the_page_fits_a_phone(
    fleet: tuple[Path, Result], browser: object
) -> None:
    out, _ = fleet
    url = (out / "index.html").resolve().as_uri()
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page.goto(url)
    colours = page.evaluate(
        """() => {
          const css = getComputedStyle(document.documentElement);
          const probe = (v) => { const s = document.createElement('span');
            s.style.color = css.getPropertyValue(v); document.body.appendChild(s);
            const c = getComputedStyle(s).color; s.remove(); return c; };
          const badge = (k) =>
            getComputedStyle(document.querySelector('.badge.verdict-' + k)).color;
          return {error: badge('error'), clean: badge('clean'),
                  err: probe('--err'), ok: probe('--ok')};
        }"""
    )
    assert colours["error"] == colours["err"] != colours["ok"]
    assert colours["clean"] == colours["ok"]
    page.close()
    phone = browser.new_page(viewport={"width": 400, "height": 800})  # type: ignore[attr-defined]
    phone.goto(url)
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 400, width  # wide tables scroll in their own box, not the page
    phone.close()


def test_no_dask_needed_for_the_default_on_a_small_fleet(
    fleet: tuple[Path, Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The default decides before importing Dask: a small fleet never needs it.
    import builtins

    real = builtins.__import__

    def no_dask(name: str, *a: object, **kw: object) -> object:
        if name.startswith(("dask", "distributed", "logdoctor.fleet.dask_runner")):
            raise ImportError(f"no module named {name!r}")
        return real(name, *a, **kw)  # type: ignore[arg-type]

    bundle = write_bundle(TEN[9], tmp_path, tmp_path / "configs")
    monkeypatch.setattr(builtins, "__import__", no_dask)
    res = run("fleet", bundle, "-o", tmp_path / "o", "--tz", "UTC")
    assert res.exit_code == 0, res.output
    assert os.path.exists(tmp_path / "o" / "index.html")


def test_the_dask_start_up_shows_on_a_terminal(tmp_path: Path) -> None:
    from tests.test_progress import run_with_stderr_on_a_terminal

    bundle = write_bundle(TEN[0], tmp_path / "b", tmp_path / "configs")
    code, out, tty = run_with_stderr_on_a_terminal(
        "fleet", str(bundle), "--dask", "--workers", "1", "-o", str(tmp_path / "o"), "--tz", "UTC"
    )
    assert code == 1, out
    assert "starting Dask workers" in tty  # not a blank screen while the workers start
    assert "checking" in tty and "1 cluster(s) on local cluster" in out
