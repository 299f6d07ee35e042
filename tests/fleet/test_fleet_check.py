"""The fleet checks events its workers loaded with the pipeline's own check:
``pipeline.run_check(loaded=...)`` must judge them exactly as ``run_check(paths)`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from logdoctor.ingest.load import open_inputs
from logdoctor.ingest.messages import fill
from logdoctor.pipeline import run_check
from logdoctor.ucm.deployment import load_deployment

RULES = Path(__file__).resolve().parent.parent / "assets" / "rules"


@pytest.mark.parametrize("case", ["LD104/bad", "LD201/bad", "healthy/logs"])
def test_loaded_events_are_judged_as_their_paths(case: str) -> None:
    bundle = RULES / case
    config = bundle / "deployment.toml"
    declared = load_deployment(config) if config.exists() else None
    by_paths = run_check([bundle], config=config if config.exists() else None)
    loader = open_inputs([bundle], aliases=None if declared is None else declared.aliases)
    by_loaded = run_check(loaded=loader.result(), deployment=declared, zones=loader.zones)
    a, b = by_paths.report, by_loaded.report
    assert b.events == a.events > 0
    assert b.files == a.files
    assert b.status == a.status
    assert b.findings == a.findings
    assert b.deployment == a.deployment
    # A check from paths leaves most messages out of its table (fetched when cited).
    assert by_paths.context.raw.frame["message"].null_count() > 0
    by_paths_filled = fill(by_paths.context.raw.frame, by_paths.context.messages)
    assert by_loaded.context.raw.frame.equals(by_paths_filled)


def test_nothing_to_check_is_still_refused() -> None:
    with pytest.raises(ValueError, match="nothing to check"):
        run_check()
