"""The HTML report writer: one self-contained file rendered by Jinja2 with autoescape.

Templates and static assets live in ``reports/`` (shipped in the wheel as
``logdoctor/_data/reports``). Every script and style is inlined and allowed by its sha256 in a
Content-Security-Policy meta tag whose ``default-src 'none'`` forbids any network load. Log
text reaches the page only as escaped text or as JSON through ``|tojson`` (inside a
non-executable ``application/json`` block that the page's script parses); ``|safe`` is used for
the static assets alone (a test audits the templates for it).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from logdoctor.outputs.templatecache import template_cache
from logdoctor.report.model import Report
from logdoctor.report.text import INVISIBLE

__all__ = [
    "TEMPLATE",
    "Assets",
    "asset_names",
    "builtin_reports_dir",
    "environment",
    "load_assets",
    "render_html",
    "write_html",
]

TEMPLATE = "report.html.j2"
"""The page template, in :func:`builtin_reports_dir`."""

_SCRIPTS = {"uplot_js": "vendor/uplot/uPlot.iife.min.js", "app_js": "report.js"}
_STYLES = {"uplot_css": "vendor/uplot/uPlot.min.css", "app_css": "report.css"}
_TEXTS = {"uplot_license": "vendor/uplot/LICENSE"}
_CLOSERS = ("</script", "<script", "</style", "<!--")


def builtin_reports_dir() -> Path:
    """The folder of the report templates and assets (in the wheel, or in a source checkout)."""
    packaged = resources.files("logdoctor") / "_data" / "reports"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent.parent / "reports"


@dataclass(frozen=True)
class Assets:
    """The inlined static assets and the Content-Security-Policy that allows exactly them."""

    uplot_js: str
    app_js: str
    uplot_css: str
    app_css: str
    uplot_license: str

    @staticmethod
    def _hash(text: str) -> str:
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"

    @property
    def csp(self) -> str:
        """No network at all; inline scripts and styles allowed by hash only."""
        scripts = " ".join(self._hash(s) for s in (self.uplot_js, self.app_js))
        styles = " ".join(self._hash(s) for s in (self.uplot_css, self.app_css))
        return (
            "default-src 'none'; "
            f"script-src {scripts}; "
            f"style-src {styles}; "
            "img-src 'none'; font-src 'none'; connect-src 'none'; media-src 'none'; "
            "object-src 'none'; frame-src 'none'; worker-src 'none'; manifest-src 'none'; "
            "base-uri 'none'; form-action 'none'"
        )


def load_assets(folder: Path | None = None) -> Assets:
    """Read the assets of ``folder`` (default: the built-in one). Raises ValueError when one
    is missing or contains a sequence that would end its inline element early."""
    base = folder or builtin_reports_dir()
    texts: dict[str, str] = {}
    for name, rel in {**_SCRIPTS, **_STYLES, **_TEXTS}.items():
        path = base / rel
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{path}: cannot read report asset ({exc.strerror or exc})") from None
        if name not in _TEXTS:
            low = text.lower()
            for closer in _CLOSERS:
                if closer in low:
                    raise ValueError(f"{path}: contains {closer!r}, cannot be inlined")
        texts[name] = text
    return Assets(**texts)


def _finalize(value: Any) -> Any:
    """Applied to every ``{{ }}`` output: None prints nothing, and no invisible or bidi
    control character reaches the page, whatever a template prints (assets excepted)."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return INVISIBLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", value)
    return value


def _num(value: int | float) -> str:
    return f"{value:,}"


def _path_breaks(value: str) -> Markup:
    """A path with a line-break opportunity after each ``/`` (each part escaped), so a narrow
    column wraps it at folder boundaries, not letter by letter."""
    return Markup("/<wbr>").join(escape(part) for part in str(value).split("/"))


def environment(folder: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: autoescape for every template, strict undefined names; the
    templates' compiled code is kept between runs (:mod:`~logdoctor.outputs.templatecache`)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder or builtin_reports_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=template_cache(),
    )
    env.filters["num"] = _num
    env.filters["path_breaks"] = _path_breaks
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":")}
    env.policies["json.dumps_function"] = _dumps
    return env


def _dumps(obj: Any, **kwargs: Any) -> str:
    return json.dumps(obj, allow_nan=False, **kwargs)


@functools.lru_cache(maxsize=8)
def _page_environment(folder: Path | None) -> jinja2.Environment:
    """One environment per templates folder and process: its page template is compiled (or
    read from the cache) once, not once per report (a fleet renders one per cluster; the
    environment still reloads a template whose file changed)."""
    return environment(folder)


def render_html(report: Report, *, folder: Path | None = None) -> str:
    """The report as one HTML document."""
    assets = load_assets(folder)
    template = _page_environment(folder).get_template(TEMPLATE)
    return template.render(report=report, assets=assets, csp=assets.csp)


def write_html(report: Report, path: Path, *, folder: Path | None = None) -> int:
    """Write the report to ``path`` (UTF-8); returns the number of bytes written."""
    data = render_html(report, folder=folder).encode("utf-8")
    path.write_bytes(data)
    return len(data)


def asset_names() -> Sequence[str]:
    """Names under which templates may print an asset with ``|safe`` (audited by a test)."""
    return (*_SCRIPTS, *_STYLES)
