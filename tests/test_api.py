"""The public API: ``logdoctor.load``, ``logdoctor.check`` and the result types, lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import logdoctor

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "expressway-refresh-ucm-off"


def test_the_public_names() -> None:
    assert set(logdoctor.__all__) == {
        "CheckReport",
        "Finding",
        "LoadResult",
        "__version__",
        "check",
        "load",
    }
    from logdoctor.ingest.load import LoadResult, load
    from logdoctor.model import Finding
    from logdoctor.pipeline import check
    from logdoctor.verdict import CheckReport

    assert logdoctor.load is load and logdoctor.LoadResult is LoadResult
    assert logdoctor.check is check and logdoctor.CheckReport is CheckReport
    assert logdoctor.Finding is Finding
    assert set(logdoctor.__all__) <= set(dir(logdoctor))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = logdoctor.nothing  # type: ignore[attr-defined]


def test_import_is_lazy() -> None:
    code = (
        "import sys, logdoctor; print('polars' in sys.modules, 'logdoctor.pipeline' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_check_returns_the_verdict_value() -> None:
    report = logdoctor.check([str(SAMPLE)], config=SAMPLE / "deployment.toml")
    assert isinstance(report, logdoctor.CheckReport)
    assert report.status == "failed" and report.exit_code == 1
    assert all(isinstance(f, logdoctor.Finding) for f in report.findings)
    assert any(f.rule == "LD101" for f in report.findings)
    loaded = logdoctor.load(str(SAMPLE))
    assert isinstance(loaded, logdoctor.LoadResult) and loaded.frame.height == report.events


def test_load_refuses_an_unknown_keyword(tmp_path: Path) -> None:
    """load and open_inputs share one keyword list (LoadOptions); a typo is still an error."""
    with pytest.raises(TypeError, match="tzz"):
        logdoctor.load(tmp_path, tzz="UTC")  # type: ignore[call-arg]


def test_load_passes_its_keywords_on(tmp_path: Path) -> None:
    (tmp_path / "ssoApp.log").write_text("not a log line\n", encoding="utf-8")
    result = logdoctor.load(tmp_path, node="ucm-pub", tz="America/New_York", jobs=1, cache=False)
    assert {s.node for s in result.stats} == {"ucm-pub"}
