"""The rule context holds the repeated text columns as ``Categorical`` (4 bytes a row): the
loader casts them for ``check`` and ``report``, the public ``load`` keeps String, a kind that
is absent keeps the table's schema, and every rule finds the same on either table."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import logdoctor
import logdoctor.rules.context as context_module
from logdoctor.ingest.load import open_inputs
from logdoctor.rules import Context, run_rules
from logdoctor.table import CATEGORICAL_COLUMNS, POLARS_SCHEMA
from logdoctor.ucm.deployment import load_deployment

ROOT = Path(__file__).parent.parent
CASES = ROOT / "tests" / "assets" / "rules"
SAMPLES = sorted(p for p in (ROOT / "sample_logs").iterdir() if p.is_dir())


def test_context_table_is_categorical_where_listed() -> None:
    ctx = Context(logdoctor.load(str(CASES / "healthy/logs")).frame)
    schema = ctx.raw.frame.schema
    for name, dtype in POLARS_SCHEMA.items():
        want = pl.Categorical() if name in CATEGORICAL_COLUMNS else dtype
        assert schema[name] == want, name
    assert ctx.events.of("no.such.kind").schema == ctx.events.frame.schema
    narrow = ctx.raw.narrow(["no.such.kind"], ["node", "user"])
    assert narrow.schema == ctx.raw.frame.select("node", "user").schema


def test_loader_casts_only_when_asked() -> None:
    bundle = str(CASES / "healthy/logs")
    plain = logdoctor.load(bundle).frame
    assert plain.schema == POLARS_SCHEMA  # the documented public table is unchanged
    lean = open_inputs([bundle]).result(CATEGORICAL_COLUMNS).frame
    assert all(lean.schema[c] == pl.Categorical() for c in CATEGORICAL_COLUMNS)
    assert lean.cast({c: pl.String() for c in CATEGORICAL_COLUMNS}).equals(plain)


def test_loader_casts_an_empty_table_too(tmp_path: Path) -> None:
    """Nothing read (an empty file): the table asked for as Categorical is still so."""
    (tmp_path / "ssosp00001.log").write_bytes(b"")
    empty = open_inputs([str(tmp_path)]).result(CATEGORICAL_COLUMNS).frame
    assert empty.height == 0
    assert all(empty.schema[c] == pl.Categorical() for c in CATEGORICAL_COLUMNS)


def _findings(bundle: Path, *, categorical: bool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with monkeypatch.context() as patch:
        if not categorical:
            patch.setattr(context_module, "CATEGORICAL_COLUMNS", ())
        result = logdoctor.load(str(bundle))
        config = bundle / "deployment.toml"
        declared = load_deployment(config) if config.exists() else None
        ctx = Context(result.frame, result.stats, declared, nodes=result.nodes)
        dtype = ctx.raw.frame.schema["kind"]
        assert dtype == (pl.Categorical() if categorical else pl.String())
        findings, failures = run_rules(ctx, evidence_cap=None)
    assert failures == []
    return [repr(f) for f in findings]


@pytest.mark.slow
@pytest.mark.parametrize("bundle", SAMPLES, ids=lambda p: p.name)
def test_rules_find_the_same_on_either_table(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _findings(bundle, categorical=False, monkeypatch=monkeypatch)
    lean = _findings(bundle, categorical=True, monkeypatch=monkeypatch)
    assert text or bundle.name == "healthy", "every other sample bundle has findings"
    assert lean == text
