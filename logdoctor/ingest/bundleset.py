"""Several bundles in one input: recognized, so that they are not read as one cluster.

A folder of several collections (``sample_logs/`` with one folder per scenario, a folder of
one zip per cluster) would otherwise be merged into one "cluster" whose nodes share names
across bundles: false findings, and evidence lines that cannot be told apart. A *bundle*
here is the smallest folder or archive that holds the logs of two or more nodes, or logs
next to their own deployment file or ``expected.json``; when the inputs hold two or more of
them (neither inside the other), ``check`` and ``report`` refuse and say how to check them:
one at a time, all at once with ``logdoctor fleet``, or as one cluster with
``--one-cluster``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from logdoctor.ingest.inputs import Ignored, LogFile
from logdoctor.ucm.prt import PRT_FOLDER

__all__ = ["SeveralBundles", "find_bundles_in", "refuse_several_bundles", "several_bundles"]

_MARKERS = ("expected.json",)
"""File names that mark a bundle's folder (besides a deployment file, ``*.toml``)."""


class SeveralBundles(ValueError):
    """The inputs hold several bundles; the message is one line saying what to run instead."""


class _Discovered(Protocol):
    files: list[LogFile]
    ignored: list[Ignored]


@dataclass(frozen=True)
class _Tree:
    nodes: dict[tuple[str, ...], set[str]]
    marked: set[tuple[str, ...]]


def _components(display: str) -> tuple[str, ...]:
    """``a/b.zip!c/d.log`` -> ("a", "b.zip", "!c", "d.log"): archive members are marked so a
    member folder never equals a folder on disk."""
    head, *members = display.split("!")
    parts = [p for p in head.replace("\\", "/").split("/") if p not in ("", ".")]
    if display.startswith("/"):
        parts.insert(0, "/")
    for m in members:
        inner = [p for p in m.replace("\\", "/").split("/") if p not in ("", ".")]
        if inner:
            inner[0] = "!" + inner[0]
        parts += inner
    return tuple(parts)


def _join(parts: tuple[str, ...]) -> str:
    out = ""
    for p in parts:
        if p == "/":
            out = "/"
        elif p.startswith("!"):
            out += p
        else:
            out = f"{out}/{p}" if out and not out.endswith("/") else out + p
    return out


def _tree(files: Sequence[LogFile], ignored: Sequence[Ignored]) -> _Tree:
    nodes: dict[tuple[str, ...], set[str]] = {}
    for lf in files:
        comps = _components(lf.display)
        # A Jabber problem report (jabber-prt/<user>/<device>/) belongs to the bundle it sits
        # in: its client is no node that would make its folders a bundle of their own.
        prt = [i for i, c in enumerate(comps[:-1]) if c.lstrip("!").lower() == PRT_FOLDER]
        for k in range(1, prt[-1] + 1 if prt else len(comps)):
            nodes.setdefault(comps[:k], set()).add(lf.node)
    marked = set()
    for ig in ignored:
        comps = _components(ig.path)
        name = comps[-1].lstrip("!").lower() if comps else ""
        if name.endswith(".toml") or name in _MARKERS:
            marked.add(comps[:-1])
    return _Tree(nodes, marked)


def find_bundles_in(files: Sequence[LogFile], ignored: Sequence[Ignored]) -> list[str]:
    """The bundles among discovered files: the smallest folders or archives that hold the
    logs of two or more nodes, or logs next to a deployment file or ``expected.json``
    (as display paths; ``a.zip!dir`` for a folder inside an archive), in path order."""
    tree = _tree(files, ignored)
    candidates = [
        p for p, n in tree.nodes.items() if len(n) >= 2 or (p in tree.marked and len(n) >= 1)
    ]
    cset = set(candidates)
    minimal = [
        p
        for p in candidates
        if not any(q != p and q[: len(p)] == p for q in cset if len(q) > len(p))
    ]
    return [_join(p) for p in sorted(minimal)]


def several_bundles(found: Sequence[str], paths: Sequence[str], command: str = "check") -> str:
    """The one-line message for inputs that hold the bundles ``found`` (two or more)."""
    names = [PurePosixPath(b.replace("!", "/")).name or b for b in found]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    where = ", ".join(paths) or "the inputs"
    head = (
        f"{where} holds {len(found)} bundles ({shown}), each with its own nodes or "
        "deployment file: read together they would be taken for one cluster."
    )
    inside = [b for b in found if "!" in b]
    if inside:
        archive = inside[0].split("!", 1)[0]
        fleet = f"extract {archive} and run `logdoctor fleet` with one folder per bundle"
    else:
        fleet = f"`logdoctor fleet {_fleet_args(found)} -o fleet-report`"
    one = found[0]
    single = f"`logdoctor {command} {shlex.quote(one)}`" if "!" not in one else "one of them alone"
    return (
        f"{head} Run {command} on one of them ({single}), all of them with {fleet}, or give "
        "--one-cluster to read them as one cluster."
    )


def _fleet_args(found: Sequence[str]) -> str:
    """``DIR/*`` when the bundles are exactly the entries of one folder, else the paths."""
    parents = {os.path.dirname(b) for b in found}
    if len(parents) == 1:
        parent = parents.pop()
        try:
            entries = [e for e in os.listdir(parent or ".") if not e.startswith(".")]
        except OSError:
            entries = []
        if entries and sorted(entries) == sorted(os.path.basename(b) for b in found):
            return f"{shlex.quote(parent)}/*" if parent else "*"
    return " ".join(shlex.quote(b) for b in found)


def refuse_several_bundles(
    discovered: _Discovered, paths: Sequence[str], command: str = "check"
) -> None:
    """Raise :class:`SeveralBundles` when the discovered inputs hold several bundles."""
    found = find_bundles_in(discovered.files, discovered.ignored)
    if len(found) >= 2:
        raise SeveralBundles(several_bundles(found, paths, command))
