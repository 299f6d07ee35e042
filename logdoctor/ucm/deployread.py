"""Reading a deployment file: the TOML text, the line of each key (for messages), and the
document validated table by table (:mod:`logdoctor.ucm.deployvalidate`) into a
:class:`~logdoctor.ucm.deploymodel.Deployment`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from logdoctor.ucm.deploymodel import Deployment, DeploymentError
from logdoctor.ucm.deployvalidate import (
    Validator,
    check_addresses,
    read_cluster,
    read_expressway,
    read_jabber,
    read_unity,
)

__all__ = ["load_deployment", "parse_deployment"]

# -- loading -------------------------------------------------------------------------------------


def load_deployment(path: str | Path) -> Deployment:
    """Read and validate a deployment file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeploymentError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DeploymentError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    return parse_deployment(text, str(path))


def parse_deployment(text: str, path: str = "deployment.toml") -> Deployment:
    """Validate the TOML text of a deployment file (``path`` names it in messages)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeploymentError(f"{path}: not valid TOML: {exc}") from None
    lines = _locate(text)
    v = Validator(path, lines)
    v.keys(doc, "", {"version", "cluster", "expressway", "unity", "jabber"})
    if "version" in doc and doc["version"] != 1:
        v.fail("version", f"{doc['version']!r} is not a supported schema version (allowed: 1)")
    clusters = tuple(
        read_cluster(v, c, f"cluster[{i}]") for i, c in enumerate(v.array(doc, "cluster"))
    )
    names = [c.name for c in clusters]
    for i, n in enumerate(names):
        if names.index(n) != i:
            v.fail(f"cluster[{i}].name", f"{n!r} is used by another cluster (names are unique)")
    seen: dict[str, str] = {}
    for i, c in enumerate(clusters):
        for n in c.nodes:
            if n in seen:
                v.fail(f"cluster[{i}]", f"node {n!r} is already a node of cluster {seen[n]!r}")
            seen[n] = c.name
        if c.serves is not None and c.serves not in names:
            v.fail(f"cluster[{i}].serves", f"{c.serves!r} is not a cluster (allowed: {names})")
    default = next((c.name for c in clusters if c.role == "telephony"), None)
    expressways = tuple(
        read_expressway(v, e, f"expressway[{i}]", names, default)
        for i, e in enumerate(v.array(doc, "expressway"))
    )
    unity = tuple(
        read_unity(v, u, f"unity[{i}]", names, default) for i, u in enumerate(v.array(doc, "unity"))
    )
    jabber = tuple(read_jabber(v, j, f"jabber[{i}]") for i, j in enumerate(v.array(doc, "jabber")))
    check_addresses(v, clusters, expressways, unity)
    return Deployment(
        path=path,
        clusters=clusters,
        expressways=expressways,
        unity=unity,
        jabber=jabber,
        lines=lines,
        text_lines=tuple(text.splitlines()),
    )


# -- key paths -> line numbers -------------------------------------------------------------------

_ARRAY_HDR = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE_HDR = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_-]+)\s*=")


def _locate(text: str) -> dict[str, int]:
    """Map key paths to the line they are written on (a small scan, enough for this schema:
    arrays of tables, sub-tables, keys and one level of inline tables)."""
    out: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    for n, line in enumerate(text.splitlines(), start=1):
        if m := _ARRAY_HDR.match(line):
            name = m.group(1)
            counts[name] = counts.get(name, -1) + 1
            table = f"{name}[{counts[name]}]"
            out.setdefault(table, n)
            continue
        if m := _TABLE_HDR.match(line):
            first, _, rest = m.group(1).partition(".")
            base = f"{first}[{counts[first]}]" if first in counts else first
            table = f"{base}.{rest}" if rest else base
            out.setdefault(table, n)
            continue
        if m := _KEY.match(line):
            key = f"{table}.{m.group(1)}" if table else m.group(1)
            out.setdefault(key, n)
            brace = line.find("{", m.end())
            if brace != -1:
                for sub in _INLINE_KEY.finditer(line, brace):
                    out.setdefault(f"{key}.{sub.group(1)}", n)
    return out
