"""Fleet inputs: one bundle (a folder or an archive) per cluster, and its deployment file.

The cluster of a bundle is its name without an archive suffix: ``nightly/acme-east.zip`` and
``nightly/acme-east/`` are both the cluster ``acme-east``. With ``--config-dir DIR``, the
deployment file of cluster ``acme-east`` is ``DIR/acme-east.toml`` (a cluster without one is
checked from its logs alone). Paths are made absolute here, on the client, because the workers
that open them may run in other folders or on other machines (which must see the same paths).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from logdoctor.ingest.sources import expand_globs

__all__ = ["ARCHIVE_SUFFIXES", "Bundle", "cluster_name", "find_bundles", "unmatched_configs"]

ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz", ".zip", ".tar")
"""Suffixes removed from a bundle's file name to give its cluster name (longest first)."""


@dataclass(frozen=True)
class Bundle:
    """One cluster's logs: what a worker is sent (a path and a little text, never log data)."""

    cluster: str
    """The cluster name (the bundle's name without its archive suffix)."""
    path: str
    """Absolute path of the folder or archive; workers must be able to open it."""
    config: str | None = None
    """Path of the cluster's deployment file (``--config-dir DIR/<cluster>.toml``), if any."""
    config_text: str | None = None
    """Its text, read on the client (the config folder need not be shared with workers)."""
    config_error: str | None = None
    """Why the deployment file could not be read (the bundle then fails with it)."""


def cluster_name(path: str) -> str:
    """The cluster a bundle path stands for: its base name without an archive suffix.

    Raises ValueError when no usable name remains (``/``, ``.``, ``..``, ``.zip``).
    """
    base = Path(os.path.abspath(path)).name
    low = base.lower()
    for suffix in ARCHIVE_SUFFIXES:
        if low.endswith(suffix):
            base = base[: -len(suffix)]
            break
    if base in ("", ".", ".."):
        raise ValueError(f"{path}: cannot name a cluster after this path (give a bundle)")
    return base


def _config(config_dir: Path, cluster: str) -> tuple[str | None, str | None, str | None]:
    path = config_dir / f"{cluster}.toml"
    if not path.exists():
        return None, None, None
    try:
        return str(path), path.read_text(encoding="utf-8"), None
    except OSError as exc:
        return str(path), None, f"{path}: cannot read ({exc.strerror or exc})"
    except UnicodeDecodeError as exc:
        return str(path), None, f"{path}: not UTF-8 text (byte {exc.start})"


def find_bundles(paths: Sequence[str], config_dir: str | Path | None = None) -> list[Bundle]:
    """One Bundle per input path (globs that name no file are expanded), in input order.

    Raises ValueError for an empty input, a path that names no cluster, two bundles of the
    same cluster, or a ``config_dir`` that is not a folder. A missing or unreadable bundle is
    not an error here: the worker that opens it reports it, and the other bundles still run.
    """
    if not paths:
        raise ValueError("no bundle: give one folder or archive per cluster")
    cdir = None if config_dir is None else Path(config_dir)
    if cdir is not None and not cdir.is_dir():
        raise ValueError(f"--config-dir {cdir}: not a folder")
    seen: dict[str, str] = {}
    bundles = []
    for raw, _explicit in expand_globs(paths):
        name = cluster_name(raw)
        key = name.lower()
        if key in seen:
            raise ValueError(
                f"{raw}: cluster {name!r} is already given by {seen[key]} "
                "(one bundle per cluster; names are compared without case)"
            )
        seen[key] = raw
        config = text = error = None
        if cdir is not None:
            config, text, error = _config(cdir, name)
        bundles.append(Bundle(name, os.path.abspath(raw), config, text, error))
    return bundles


def unmatched_configs(config_dir: str | Path, bundles: Sequence[Bundle]) -> list[str]:
    """The ``*.toml`` files of ``config_dir`` that name no bundle's cluster (likely typos)."""
    names = {b.cluster for b in bundles}
    return sorted(str(p) for p in Path(config_dir).glob("*.toml") if p.stem not in names)
