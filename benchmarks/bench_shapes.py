"""Template mining benchmark: 1 M unrecognized lines, mined against parsed, and against drain3.

The input is the parse benchmark's generated ssosp log with every OAuth message reworded (the
wording of tests/unknown/rewording.py, as another UCM release might write them), keeping only
the reworded lines that no pattern (not even a generic detector) recognizes: 1,000,000 lines.
Measured in one process:

- parse: ``logdoctor.load`` of the file (best of --repeat);
- mine: :func:`logdoctor.analysis.shapes.mine` of the unrecognized records (best of --repeat);
- drain3 (when the ``drain3`` package is installed; it is not a logdoctor dependency):
  its TemplateMiner on the raw messages with masking rules equivalent to logdoctor's (the
  usual way to use it; on the first --drain3-lines lines, extrapolated), and its Drain tree
  against ours, both fed the same distinct masked shapes (of this input, and of every record
  of sample_logs/): time of the tree alone, and whether both group the shapes alike.

Grouping accuracy (as in the Loghub benchmarks): the share of records whose template holds
exactly the records of their true group, the true group being the built-in message the line
was reworded from. Writes benchmarks/out/shapes.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "unknown"))

from gen_ssosp import generate  # noqa: E402
from rewording import reword_line  # noqa: E402

import logdoctor  # noqa: E402
from logdoctor.analysis.shapes import MASKS, Drain, mask_expr, mine  # noqa: E402

OUT = HERE / "out"
SAMPLES = HERE.parent / "sample_logs"
LINES = 1_000_000


def make_input() -> tuple[Path, list[str]]:
    """The reworded file (made once) and the true group of each of its lines."""
    OUT.mkdir(exist_ok=True)
    src = OUT / "shapes-source.log"
    dest = OUT / "shapes-unrecognized.log"
    truth_path = OUT / "shapes-truth.txt"
    if not dest.exists() or not truth_path.exists():
        if not src.exists():
            generate(src, int(LINES * 1.4), seed=7)
        kept = 0
        truth = []
        with src.open(encoding="utf-8") as fin, dest.open("w", encoding="utf-8") as out:
            for line in fin:
                new, _kind = reword_line(line.rstrip("\n"))
                if _kind is None or "errorCode=invalid_grant" in new:
                    continue  # recognized, or caught by the generic oauth.error detector
                out.write(new + "\n")
                truth.append(line.split(" - ", 1)[1].split(":", 1)[0])
                kept += 1
                if kept == LINES:
                    break
        truth_path.write_text("\n".join(truth) + "\n", encoding="utf-8")
    return dest, truth_path.read_text(encoding="utf-8").splitlines()


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    t_best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best, result


def accuracy(truth: list[str], predicted: list[Any]) -> float:
    """Loghub grouping accuracy: records whose predicted group equals their true group."""
    by_pred: dict[Any, set[int]] = {}
    by_true: dict[str, set[int]] = {}
    for i, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        by_pred.setdefault(p, set()).add(i)
        by_true.setdefault(t, set()).add(i)
    ok = sum(len(s) for s in by_pred.values() if s == by_true[truth[next(iter(s))]])
    return ok / len(truth)


def ours_per_record(frame: pl.DataFrame) -> list[str]:
    """The template each record went to (by its masked shape)."""
    templates = mine(frame)
    shape_to = {shape: t.id for t in templates for shape, _ in t.shapes}
    shapes = frame.select(mask_expr(pl.col("message")).alias("s"))["s"].to_list()
    return [shape_to[s] for s in shapes]


def drain3_rows(messages: list[str]) -> tuple[float, list[int]] | None:
    try:
        from drain3 import TemplateMiner  # type: ignore[import-untyped]
        from drain3.masking import MaskingInstruction  # type: ignore[import-untyped]
        from drain3.template_miner_config import (  # type: ignore[import-untyped]
            TemplateMinerConfig,
        )
    except ImportError:
        return None
    cfg = TemplateMinerConfig()
    cfg.profiling_enabled = False
    cfg.drain_depth = 5
    cfg.drain_sim_th = 0.5
    cfg.mask_prefix, cfg.mask_suffix = "<", ">"
    rules = [(m.pattern, m.placeholder.strip("<>")) for m in MASKS]
    rules.append((r"(?<==)[^\s,;)\]}\"'<>]+", "v"))
    cfg.masking_instructions = [MaskingInstruction(p, n) for p, n in rules]
    miner = TemplateMiner(config=cfg)
    t0 = time.perf_counter()
    ids = [miner.add_log_message(m)["cluster_id"] for m in messages]
    return time.perf_counter() - t0, ids


def trees_on_shapes(frame: pl.DataFrame, repeat: int) -> dict[str, Any] | None:
    """Our Drain tree and drain3's, fed the same distinct shapes (weights as counts): time
    (the tree only, best of ``repeat``) and whether they group the shapes the same way."""
    try:
        from drain3.drain import Drain as Drain3  # type: ignore[import-untyped]
    except ImportError:
        return None
    shapes = (
        frame.select(pl.col("family").cast(pl.String), mask_expr(pl.col("message")).alias("s"))
        .group_by("family", "s")
        .len()
        .sort(["family", "len", "s"], descending=[False, True, False])
        .rows()
    )

    def ours() -> list[tuple[str, int]]:
        trees: dict[str, Drain] = {}
        return [(f, trees.setdefault(f, Drain()).add(s.split(), n)) for f, s, n in shapes]

    def theirs() -> list[tuple[str, int]]:
        trees: dict[str, Any] = {}
        out = []
        for f, s, n in shapes:
            c, _ = trees.setdefault(f, Drain3(depth=6, sim_th=0.5)).add_log_message(s)
            c.size += n - 1
            out.append((f, c.cluster_id))
        return out

    t_ours, a = best(ours, repeat)
    t_theirs, b = best(theirs, repeat)

    def groups(ids: list[tuple[str, int]]) -> list[frozenset[int]]:
        g: dict[tuple[str, int], set[int]] = {}
        for i, k in enumerate(ids):
            g.setdefault(k, set()).add(i)
        return sorted((frozenset(v) for v in g.values()), key=min)

    return {
        "shapes": len(shapes),
        "ours_s": round(t_ours, 5),
        "drain3_s": round(t_theirs, 5),
        "ours_templates": len(set(a)),
        "drain3_templates": len(set(b)),
        "same_grouping": groups(a) == groups(b),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--drain3-lines", type=int, default=100_000)
    a = ap.parse_args()
    path, truth = make_input()
    t_parse, res = best(lambda: logdoctor.load([path]), a.repeat)
    frame = res.frame
    unrec = frame.filter(pl.col("kind") == "unrecognized")
    assert unrec.height == LINES == len(truth), (unrec.height, len(truth))
    t_mine, templates = best(lambda: mine(unrec), a.repeat)
    ours = accuracy(truth, ours_per_record(unrec))
    rows: dict[str, Any] = {
        "lines": LINES,
        "parse_s": round(t_parse, 3),
        "mine_s": round(t_mine, 3),
        "templates": len(templates),
        "distinct_shapes": sum(len(t.shapes) for t in templates),
        "accuracy": round(ours, 4),
        "true_groups": len(Counter(truth)),
    }
    for name, data in (("bench", unrec), ("sample_logs", logdoctor.load([SAMPLES]).frame)):
        trees = trees_on_shapes(data, a.repeat)
        for k, v in (trees or {}).items():
            rows[f"trees_{name}_{k}"] = v
    n = min(a.drain3_lines, LINES)
    raw = drain3_rows(unrec["message"].head(n).to_list())
    if raw is not None:
        rows["drain3_miner_lines"] = n
        rows["drain3_miner_s"] = round(raw[0], 3)
        rows["drain3_miner_s_per_1M_extrapolated"] = round(raw[0] * LINES / n, 1)
        rows["drain3_miner_accuracy_on_those_lines"] = round(accuracy(truth[:n], raw[1]), 4)
    OUT.mkdir(exist_ok=True)
    (OUT / "shapes.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print("| measure | value |\n|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v} |")
    ok = t_mine <= t_parse
    print(f"\nmining {'<=' if ok else '>'} parsing: {t_mine:.2f} s vs {t_parse:.2f} s")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
