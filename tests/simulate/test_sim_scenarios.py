"""Every scenario: its committed sample is what the code writes, and it shows its fault.

The samples under sample_logs/ are regenerated here and compared byte for byte (`make samples`
writes them); each is loaded with logdoctor's parsers and checked for the lines an engineer
would look for; and another seed, with fewer users, must show the same fault (the same rules
expected) with other people.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logdoctor.simulate import SCENARIOS, simulate
from tests.helpers.simulate import SAMPLE_GZIP_OVER, SAMPLES, TELLTALE, common, load_bundle

NAMES = list(SCENARIOS)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_every_scenario_has_a_telltale_check_and_a_sample() -> None:
    assert set(TELLTALE) == set(SCENARIOS)
    committed = {p.parent.name for p in SAMPLES.glob("*/expected.json")}
    # cisco-published holds Cisco's verbatim lines, not a simulation.
    assert committed - {"cisco-published"} == set(SCENARIOS)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_sample_is_current(name: str, tmp_path: Path) -> None:
    """`make samples` is deterministic and the committed folder is its output."""
    simulate(name, out=tmp_path / name, seed=1, gzip_over=SAMPLE_GZIP_OVER)
    fresh, committed = _files(tmp_path / name), _files(SAMPLES / name)
    assert sorted(fresh) == sorted(committed)
    changed = [rel for rel in fresh if fresh[rel] != committed[rel]]
    assert changed == [], f"regenerate with `make samples`: {changed}"


@pytest.mark.parametrize("name", NAMES)
def test_sample_shows_its_fault(name: str) -> None:
    b = load_bundle(SAMPLES / name)
    common(b)
    TELLTALE[name](b)


@pytest.mark.parametrize("name", NAMES)
def test_another_seed_gives_the_same_verdicts(name: str, tmp_path: Path) -> None:
    summary = simulate(name, out=tmp_path / name, seed=5, users=12)
    b = load_bundle(tmp_path / name)
    common(b)
    TELLTALE[name](b)
    sample = json.loads((SAMPLES / name / "expected.json").read_text(encoding="utf-8"))
    assert b.expected["seed"] == 5 and sample["seed"] == 1
    assert b.expected["expect"] == sample["expect"]
    assert b.expected["forbid"] == sample["forbid"]
    assert list(summary.expectation.expect) == sample["expect"]
