"""The import graph keeps its shape: every arrow points down the layer table, no circles.

The graph is read from the source with ``ast`` (module-level and function-level imports, a
``from package import module`` counted as an import of the module). The layer table is
docs/explanation/architecture.md's picture: a module may import its own package and anything
on a lower floor; the token service and the simulator are islands that may use only the
floors named for them; nothing imports the CLI. Imports under ``if TYPE_CHECKING:`` count for
the floors (a type is a dependency too) but not for circles (they are not run).

One arrow runs up by design: the package's ``__init__`` (on the ground floor, so that
``from logdoctor import __version__`` is a downward import everywhere) imports the public API
(``load``, ``check``, ...) lazily, inside ``__getattr__``; those function-level imports of
the facade are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "logdoctor"

FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "ground",
        (
            "logdoctor",
            "logdoctor.model",
            "logdoctor.table",
            "logdoctor.timestamps",
            "logdoctor.progress",
        ),
    ),
    ("ucm", ("logdoctor.ucm",)),
    ("ingest", ("logdoctor.ingest",)),
    ("analysis", ("logdoctor.analysis",)),
    ("rules", ("logdoctor.rules",)),
    ("verdict", ("logdoctor.verdict", "logdoctor.baseline")),
    ("check", ("logdoctor.pipeline", "logdoctor.api")),
    ("report", ("logdoctor.report",)),
    ("outputs", ("logdoctor.outputs",)),
    ("runtimes", ("logdoctor.tail", "logdoctor.fleet")),
    ("cli", ("logdoctor.cli",)),
)
"""Floors from the ground up; the prefixes of the modules on each. Modules of one floor may
import each other (the circle test keeps that acyclic), except on the floors in :data:`APART`."""

APART = frozenset({"runtimes"})
"""Floors whose packages stand side by side and never import each other."""

FACADE = "logdoctor"
"""The package whose function-level (lazy) imports are the public API, not an arrow."""

ISLANDS: Mapping[str, tuple[str, ...]] = {
    "logdoctor.tokenservice": (
        "logdoctor.model",
        "logdoctor.table",
        "logdoctor.timestamps",
        "logdoctor.ucm",
        "logdoctor.ingest.formats",
    ),
    "logdoctor.simulate": (
        "logdoctor.model",
        "logdoctor.table",
        "logdoctor.timestamps",
        "logdoctor.progress",
        "logdoctor.ucm",
        "logdoctor.ingest.formats",
        "logdoctor.tokenservice",
    ),
}
"""Packages outside the floors and the only prefixes they may import (besides themselves);
only the CLI and the islands named here import them (the simulator drives the service)."""

ISLAND_USERS: Mapping[str, tuple[str, ...]] = {
    "logdoctor.tokenservice": ("logdoctor.simulate", "logdoctor.cli"),
    "logdoctor.simulate": ("logdoctor.cli",),
}


def _within(module: str, prefix: str) -> bool:
    """``module`` is ``prefix`` or inside it (the package init stands for itself alone)."""
    return module == prefix or (prefix != FACADE and module.startswith(prefix + "."))


def _longest(module: str, prefixes: Iterator[str]) -> str | None:
    best = None
    for p in prefixes:
        if _within(module, p) and (best is None or len(p) > len(best)):
            best = p
    return best


def floor_of(module: str) -> tuple[int, str] | None:
    """(rank, group) of a module on the floors: the group is the longest matching prefix."""
    prefix = _longest(module, (p for _, ps in FLOORS for p in ps))
    if prefix is None:
        return None
    rank = next(i for i, (_, ps) in enumerate(FLOORS) if prefix in ps)
    return rank, prefix


def island_of(module: str) -> str | None:
    """The island package holding ``module`` (None: on the floors)."""
    return _longest(module, iter(ISLANDS))


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file of every module of the package."""
    out = {}
    for p in sorted((root / "logdoctor").rglob("*.py")):
        name = ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        out[name] = p
    return out


def _type_only_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def imports(known: Mapping[str, Path]) -> dict[str, dict[str, bool]]:
    """module -> {imported module: True when only under TYPE_CHECKING}."""
    graph: dict[str, dict[str, bool]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typed = _type_only_lines(tree)
        edges: dict[str, bool] = {}
        nodes = tree.body if name == FACADE else ast.walk(tree)
        for node in nodes:
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in known] or [node.module]
                if len(targets) < len(subs) and node.module not in targets:
                    targets.append(node.module)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t in known and t != name and not _within(name, t):
                    only_typed = node.lineno in typed
                    edges[t] = edges.get(t, True) and only_typed
        graph[name] = edges
    return graph


def violations(graph: Mapping[str, Mapping[str, bool]]) -> list[str]:
    """Every arrow that breaks the layer table, as ``a -> b (why)``."""
    out = []
    for src, edges in graph.items():
        for dst in edges:
            why = _why(src, dst)
            if why:
                out.append(f"{src} -> {dst} ({why})")
    return sorted(out)


def _why(src: str, dst: str) -> str | None:
    s_island, d_island = island_of(src), island_of(dst)
    if s_island is not None:
        if d_island == s_island:
            return None
        if _longest(dst, iter(ISLANDS[s_island])) is None:
            return f"{s_island} may use only {', '.join(ISLANDS[s_island])}"
        return None
    if d_island is not None:
        if _longest(src, iter(ISLAND_USERS[d_island])) is None:
            return f"only {', '.join(ISLAND_USERS[d_island])} use {d_island}"
        return None
    s, d = floor_of(src), floor_of(dst)
    if s is None or d is None:
        return f"{src if s is None else dst} is on no floor of the layer table"
    if s[1] == d[1] or (s[0] == d[0] and FLOORS[s[0]][0] not in APART):
        return None
    if d[0] >= s[0]:
        return f"{FLOORS[d[0]][0]} is not below {FLOORS[s[0]][0]}"
    return None


def cycles(graph: Mapping[str, Mapping[str, bool]]) -> list[list[str]]:
    """Strongly connected groups of more than one module over the run-time imports."""
    run = {m: [t for t, typed in e.items() if not typed] for m, e in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in run.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(run):
        if v not in index:
            visit(v)
    return found


# ------------------------------------------------------------------------------------------


def test_every_module_is_placed() -> None:
    unplaced = [m for m in modules() if floor_of(m) is None and island_of(m) is None]
    assert not unplaced, f"modules on no floor of the layer table: {unplaced}"


def test_no_arrow_points_up() -> None:
    bad = violations(imports(modules()))
    assert not bad, "imports against the layer table:\n" + "\n".join(bad)


KNOWN_CIRCLES: list[list[str]] = []
"""Circles allowed (none: the rule registry <-> context and the simulator's are type-only)."""


def test_no_circle() -> None:
    found = [c for c in cycles(imports(modules())) if c not in KNOWN_CIRCLES]
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_nothing_imports_the_cli() -> None:
    graph = imports(modules())
    users = sorted(
        m
        for m, e in graph.items()
        if not _within(m, "logdoctor.cli") and any(_within(t, "logdoctor.cli") for t in e)
    )
    assert users == []


# The checks themselves, on synthetic graphs: each must catch what it is there for.


def test_an_upward_import_is_caught() -> None:
    graph = {
        "logdoctor.model": {"logdoctor.outputs.findings": False},
        "logdoctor.outputs.findings": {"logdoctor.model": False},
    }
    assert violations(graph) == [
        "logdoctor.model -> logdoctor.outputs.findings (outputs is not below ground)"
    ]
    assert cycles(graph) == [["logdoctor.model", "logdoctor.outputs.findings"]]


def test_a_sideways_import_between_runtimes_is_caught() -> None:
    assert violations({"logdoctor.tail.tailer": {"logdoctor.fleet.work": False}}) == [
        "logdoctor.tail.tailer -> logdoctor.fleet.work (runtimes is not below runtimes)"
    ]


def test_the_islands_keep_to_their_floors() -> None:
    graph = {
        "logdoctor.tokenservice.core": {
            "logdoctor.ucm.params": False,
            "logdoctor.ingest.formats.spec": False,
            "logdoctor.rules.engine": False,
        },
        "logdoctor.rules.engine": {"logdoctor.tokenservice.core": False},
        "logdoctor.simulate.engine": {"logdoctor.tokenservice.core": False},
        "logdoctor.pipeline": {"logdoctor.cli.options": True},
    }
    assert violations(graph) == [
        "logdoctor.pipeline -> logdoctor.cli.options (cli is not below check)",
        "logdoctor.rules.engine -> logdoctor.tokenservice.core "
        "(only logdoctor.simulate, logdoctor.cli use logdoctor.tokenservice)",
        "logdoctor.tokenservice.core -> logdoctor.rules.engine (logdoctor.tokenservice may use "
        "only logdoctor.model, logdoctor.table, logdoctor.timestamps, logdoctor.ucm, "
        "logdoctor.ingest.formats)",
    ]


def test_type_only_imports_make_no_circle_but_count_for_floors(tmp_path: Path) -> None:
    pkg = tmp_path / "logdoctor"
    (pkg / "rules").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "model.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from logdoctor.rules import x\n"
    )
    (pkg / "rules" / "__init__.py").write_text("")
    (pkg / "rules" / "x.py").write_text(
        "def f():\n    from logdoctor import model\n    return model\n"
    )
    graph = imports(modules(tmp_path))
    assert graph["logdoctor.model"] == {"logdoctor.rules.x": True}
    assert graph["logdoctor.rules.x"] == {"logdoctor.model": False}
    assert cycles(graph) == []
    assert violations(graph) == ["logdoctor.model -> logdoctor.rules.x (rules is not below ground)"]
