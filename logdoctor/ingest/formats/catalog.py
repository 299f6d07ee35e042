"""The catalog of formats: the built-in ones and a user's, ordered for detection and checked.

:func:`load_formats` reads every format file (:func:`logdoctor.ingest.formats.spec.load_format`),
orders them specific-before-generic (derived from the samples), and runs each one's sample check
(:mod:`logdoctor.ingest.formats.check`) once per file content, remembering the pass in a cache.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata, resources
from pathlib import Path

import polars as pl

from logdoctor.ingest.formats.check import check_format
from logdoctor.ingest.formats.spec import Format, FormatError, load_format
from logdoctor.model import Basis

__all__ = ["builtin_formats_dir", "formats_matcher", "kind_bases", "load_formats"]


def _version() -> str:
    try:
        return metadata.version("logdoctor")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        return "source"


def builtin_formats_dir() -> Path:
    """The folder of the built-in format files (in the wheel, or in a source checkout)."""
    packaged = resources.files("logdoctor") / "_data" / "parsers"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "parsers"


def kind_bases(formats: Iterable[Format]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Kind -> family -> the bases of the kind's event patterns in that family's formats
    (weakest first): what ``logdoctor kinds`` shows and a rule's basis is made of."""
    out: dict[str, dict[str, set[str]]] = {}
    for f in formats:
        for kind, values in f.bases().items():
            out.setdefault(kind, {}).setdefault(f.family, set()).update(values)
    return {
        kind: {fam: tuple(sorted(v, key=lambda b: Basis(b).rank)) for fam, v in sorted(by.items())}
        for kind, by in out.items()
    }


def _order_by_specificity(formats: Sequence[Format]) -> list[Format]:
    """Specific formats before generic ones: a format whose headers match many other formats'
    samples is generic (the tolerant ssoApp format matches ssosp and certMgmt lines)."""
    scored = []
    for f in formats:
        generality = 0
        for other in formats:
            if other is f:
                continue
            for s in other.samples:
                first = s.text.split("\n", 1)[0]
                if any(h.regex.py.match(first) for h in f.headers):
                    generality += 1
        scored.append((generality, f.name, f))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [Format(**{**f.__dict__, "specificity": rank}) for rank, (_, _, f) in enumerate(scored)]


def load_formats(
    extra_dirs: Iterable[str | Path] = (), *, check: bool = True, builtin: bool = True
) -> list[Format]:
    """Load the built-in formats plus every ``*.toml`` in ``extra_dirs``, ordered for detection.

    A user format with the same name as a built-in one replaces it. With ``check`` (the
    default) every sample is parsed by both engines and must give its declared kind and fields.
    """
    by_name: dict[str, Format] = {}
    if builtin:
        for path in sorted(builtin_formats_dir().glob("*.toml")):
            f = load_format(path, builtin=True)
            by_name[f.name] = f
    for d in extra_dirs:
        dpath = Path(d)
        if not dpath.is_dir():
            raise FormatError(dpath, "formats-dir", "not a folder")
        files = sorted(dpath.glob("*.toml"))
        if not files:
            raise FormatError(dpath, "formats-dir", "no *.toml format file in this folder")
        for path in files:
            f = load_format(path, builtin=False)
            by_name[f.name] = f
    formats = _order_by_specificity(list(by_name.values()))
    if check:
        for f in formats:
            marker = _check_marker(f)
            if marker is not None and marker.exists():
                continue
            check_format(f)
            if marker is not None:
                try:
                    marker.parent.mkdir(parents=True, exist_ok=True)
                    marker.touch()
                except OSError:
                    pass  # a read-only cache only costs the check next time
    return formats


def _check_marker(f: Format) -> Path | None:
    """A cache file that exists once this exact format file passed its sample check.

    Keyed by the file's bytes and the versions of logdoctor and polars, so any edit (or an
    upgrade) checks again. Set LOGDOCTOR_NO_CACHE=1 to always check.
    """
    if os.environ.get("LOGDOCTOR_NO_CACHE"):
        return None
    try:
        content = Path(f.path).read_bytes()
    except OSError:
        return None
    h = hashlib.sha256(content)
    h.update(f"{_version()}|{pl.__version__}|{f.path}".encode())
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "logdoctor" / "formats-checked" / h.hexdigest()


def formats_matcher(formats: Sequence[Format]) -> Callable[[str, str], bool]:
    """``match(name, relpath)``: does a file of this name (or path) fit one of ``formats``
    (the file-name patterns and path hints discovery, the fleet and the tail select by)."""
    fmts = tuple(formats)

    def match(name: str, rel: str) -> bool:
        return any(f.matches_name(name) or f.matches_path(rel) for f in fmts)

    return match
