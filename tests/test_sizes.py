"""Size limits of the architecture (issue 14): no module of ``logdoctor/`` over 500 lines and no
function over 60 lines of code (its docstring left out) unless its docstring says why, in a
sentence that starts with "Long because" (a hot loop kept in one piece, a table of cases).

The rule is checked over the whole tree, so a new module or function past the limit fails the
suite with its path and size."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "logdoctor"
MODULE_LINES = 500
FUNCTION_LINES = 60
REASON = "Long because"


def _code_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of ``fn`` from its ``def`` to its end, its docstring and decorators left out."""
    assert fn.end_lineno is not None
    lines = fn.end_lineno - fn.lineno + 1
    doc = fn.body[0] if fn.body else None
    if (
        isinstance(doc, ast.Expr)
        and isinstance(doc.value, ast.Constant)
        and isinstance(doc.value.value, str)
        and doc.end_lineno is not None
    ):
        lines -= doc.end_lineno - doc.lineno + 1
    return lines


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_no_module_is_over_the_limit() -> None:
    over = [
        f"{p.relative_to(ROOT.parent)}: {n} lines"
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MODULE_LINES
    ]
    assert not over, "modules over 500 lines:\n" + "\n".join(over)


def test_no_function_is_over_the_limit_without_a_stated_reason() -> None:
    over = []
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            n = _code_lines(node)
            if n > FUNCTION_LINES and REASON not in (ast.get_docstring(node) or ""):
                over.append(f"{p.relative_to(ROOT.parent)}:{node.lineno} {node.name}: {n} lines")
    assert not over, "functions over 60 code lines with no 'Long because':\n" + "\n".join(over)


def test_the_measure_counts_code_not_docstrings() -> None:
    src = 'def f():\n    """Doc.\n\n    More doc.\n    """\n' + "    x = 1\n" * 3
    fn = ast.parse(src).body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert _code_lines(fn) == 4
