"""Each rule declares the kinds it reads, and its basis and its findings' are the weakest.

The declaration is checked by what the rule does, on every rule case: run on only the events
of the kinds it declares, a rule finds exactly what it finds on all of them; and every
evidence line of its findings is of a declared kind. A finding's basis is the weakest basis
of the lines behind it, never weaker than the rule's own (the weakest of its kinds).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from cases import ROOT

from logdoctor.ingest.formats.catalog import kind_bases, load_formats
from logdoctor.ingest.load import load
from logdoctor.model import Basis, EventKind, Finding, weakest_basis
from logdoctor.rules import Context, all_rules, get_rule, run
from logdoctor.rules.registry import ANY_KIND, Needs, rule
from logdoctor.table import empty_frame
from logdoctor.ucm.deployment import load_deployment

FOLDERS = sorted(p.parent for p in ROOT.glob("*/*/expected.json"))


def _key(f: Finding) -> tuple[str, tuple[str, ...], str, int]:
    return (f.rule, f.subjects, f.message, f.evidence_total)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rules_read_only_the_kinds_they_declare(folder: Path) -> None:
    logs = [str(p) for p in folder.iterdir() if p.is_dir() or p.suffix not in (".json", ".toml")]
    config = folder / "deployment.toml"
    declared = load_deployment(config) if config.exists() else None
    result = load(logs) if logs else None
    frame = result.frame if result is not None else empty_frame()
    stats = result.stats if result is not None else []
    by_rule: dict[str, list[Finding]] = {}
    for f in run(Context(frame, stats, declared)):
        by_rule.setdefault(f.rule, []).append(f)
    contexts: dict[tuple[str, ...], Context] = {}
    for r in all_rules():
        kinds = r.needs.kinds
        assert kinds, f"{r.id} declares no kinds (Needs(kinds=...))"
        if ANY_KIND in kinds:
            continue
        ctx = contexts.get(kinds)
        if ctx is None:
            ctx = contexts[kinds] = Context(
                frame.filter(pl.col("kind").is_in(list(kinds))), stats, declared
            )
        got = sorted(_key(f) for f in run(ctx, [r]))
        want = sorted(_key(f) for f in by_rule.get(r.id, []))
        assert got == want, f"{r.id} reads kinds it does not declare ({folder})"
        for f in by_rule.get(r.id, []):
            for e in f.evidence:
                if e.basis is not None:  # a log line (not a deployment-file line)
                    assert e.kind in kinds, f"{r.id}: evidence of undeclared kind {e.kind}"


def test_finding_basis_is_the_weakest_of_its_lines_and_never_below_the_rule() -> None:
    bases = kind_bases(load_formats())
    seen: set[str] = set()
    for folder in FOLDERS:
        exp = json.loads((folder / "expected.json").read_text())
        logs = [str(p) for p in folder.iterdir() if p.is_dir()]
        if not logs or not exp["expect"]:
            continue
        result = load(logs)
        ctx = Context(result.frame, result.stats)
        for f in run(ctx):
            r = next(x for x in all_rules() if x.id == f.rule)
            shown = weakest_basis(e.basis for e in f.evidence)
            if f.evidence_total == len(f.evidence):
                assert f.basis == (None if shown is None else shown.value), f
            elif shown is not None:  # more lines than shown: only weaker or equal
                assert f.basis is not None and Basis(f.basis).rank <= shown.rank, f
            rb = r.basis(bases)
            if rb is not None and f.basis is not None:
                assert Basis(f.basis).rank >= rb.rank, (f.rule, f.basis, rb)
            if f.basis is not None:
                seen.add(f.basis)
    assert {"published", "modelled"} <= seen  # the cases hold both SAML and OAuth findings


def test_rule_basis_is_the_weakest_of_its_kinds_in_its_families() -> None:
    bases = {
        "saml.cert.mismatch": {"ssosp": ("published",)},
        "auth.failure": {"ciscosyslog": ("documented",), "ssosp": ("documented",)},
        "token.rejected": {"ssosp": ("modelled", "documented")},
    }
    probe = get_rule("LD211")
    assert probe.basis(bases) == Basis.PUBLISHED
    mixed = type(probe)(
        id=probe.id,
        severity=probe.severity,
        title=probe.title,
        func=probe.func,
        doc=probe.doc,
        needs=Needs(kinds=("saml.cert.mismatch", "auth.failure")),
    )
    assert mixed.basis(bases) == Basis.DOCUMENTED
    only = type(probe)(**{**mixed.__dict__, "needs": Needs(kinds=("token.rejected",))})
    assert only.basis(bases) == Basis.MODELLED
    scoped = type(probe)(
        **{**mixed.__dict__, "needs": Needs(families=("ciscosyslog",), kinds=("auth.failure",))}
    )
    assert [(k.kind, k.family) for k in scoped.kind_bases(bases)] == [
        ("auth.failure", "ciscosyslog")
    ]
    health = type(probe)(**{**mixed.__dict__, "needs": Needs(kinds=(ANY_KIND,))})
    assert health.basis(bases) is None


def test_a_rule_must_name_real_kinds() -> None:
    with pytest.raises(ValueError, match=r"LD999: needs.kinds: 'no.such' is not an event kind"):
        rule("LD999", all_rules()[0].severity, "x", needs=Needs(kinds=("no.such",)))


def test_every_builtin_event_declares_a_basis() -> None:
    fmts = load_formats()
    values = {b.value for b in Basis}
    for f in fmts:
        assert f.events
        for e in f.events:
            assert e.basis in values, (f.name, e.index, e.kind)
    # Every kind a format writes has its basis shown per family; unrecognized has none.
    bases = kind_bases(fmts)
    assert EventKind.UNRECOGNIZED.value not in bases
    assert bases["service.started"] == {"ciscosyslog": ("documented", "published")}
    assert bases["saml.cert.mismatch"] == {"ssosp": ("published",)}
    assert bases["service.restarted"] == {"ssoapp": ("modelled",)}
