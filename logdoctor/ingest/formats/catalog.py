"""The catalog of formats: the built-in ones and a user's, ordered for detection and checked.

:func:`load_formats` reads every format file (:func:`logdoctor.ingest.formats.spec.load_format`),
orders them specific-before-generic (derived from the samples), and runs each one's sample check
(:mod:`logdoctor.ingest.formats.check`) once per file content and logdoctor version, keeping the
compiled, checked format between runs (:mod:`logdoctor.ingest.formats.compiled`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path

from logdoctor.ingest.formats import compiled
from logdoctor.ingest.formats.compiled import cached_format
from logdoctor.ingest.formats.types import Format, FormatError
from logdoctor.model import Basis

__all__ = ["builtin_formats_dir", "formats_matcher", "kind_bases", "load_formats"]


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
    default) every sample is parsed by both engines and must give its declared kind and fields;
    a file compiled and checked before (same bytes, same logdoctor) is read back compiled
    (:mod:`logdoctor.ingest.formats.compiled`).
    """
    by_name: dict[str, Format] = {}
    for path, is_builtin in _format_files(extra_dirs, builtin):
        f = cached_format(path, is_builtin, _check) if check else _compiled(path, is_builtin)
        by_name[f.name] = f
    return _order_by_specificity(list(by_name.values()))


def _format_files(extra_dirs: Iterable[str | Path], builtin: bool) -> list[tuple[Path, bool]]:
    """The format files to load, in order (a later one replaces an earlier of the same name),
    each with whether it is built in; a ``formats-dir`` that is no folder of ``*.toml`` files
    is refused."""
    files: list[tuple[Path, bool]] = []
    if builtin:
        files += [(p, True) for p in sorted(builtin_formats_dir().glob("*.toml"))]
    for d in extra_dirs:
        dpath = Path(d)
        if not dpath.is_dir():
            raise FormatError(dpath, "formats-dir", "not a folder")
        found = sorted(dpath.glob("*.toml"))
        if not found:
            raise FormatError(dpath, "formats-dir", "no *.toml format file in this folder")
        files += [(p, False) for p in found]
    return files


def _check(f: Format) -> None:
    """The sample check (the parse engines are imported only when a format needs it)."""
    from logdoctor.ingest.formats.check import check_format

    check_format(f)


def _compiled(path: Path, builtin: bool) -> Format:
    """A format without its sample check: a checked one kept from an earlier run, else
    compiled now (and not kept, being unchecked)."""
    if compiled.enabled():
        try:
            hit = compiled.lookup(path, path.read_bytes(), builtin)
        except OSError:
            hit = None
        if hit is not None:
            return hit
    from logdoctor.ingest.formats.spec import load_format  # polars: only on a miss

    return load_format(path, builtin=builtin)


def formats_matcher(formats: Sequence[Format]) -> Callable[[str, str], bool]:
    """``match(name, relpath)``: does a file of this name (or path) fit one of ``formats``
    (the file-name patterns and path hints discovery, the fleet and the tail select by)."""
    fmts = tuple(formats)

    def match(name: str, rel: str) -> bool:
        return any(f.matches_name(name) or f.matches_path(rel) for f in fmts)

    return match
