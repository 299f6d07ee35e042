"""The HTML document itself: self-contained, CSP by hash, autoescape, audited templates.

Behaviour in a browser is tested in test_report_browser.py; here the file is parsed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

import logdoctor
from logdoctor.outputs.html import (
    TEMPLATE,
    asset_names,
    builtin_reports_dir,
    environment,
    load_assets,
    render_html,
)
from logdoctor.report import Diagnosis, build_report
from tests.helpers.report import (
    HOSTILE_MESSAGES,
    HOSTILE_NODE,
    HOSTILE_USERS,
    findings,
    hostile_bundle,
    normal_bundle,
)

REPORTS = builtin_reports_dir()


class Doc(HTMLParser):
    """Every start tag with its attributes, and the text of each script and style element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: list[tuple[str, dict[str, str | None], str]] = []
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open, self._buf = (tag, dict(attrs)), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == self._open[0]:
            self.raw.append((*self._open, "".join(self._buf)))
            self._open = None


def parse(html: str) -> Doc:
    d = Doc()
    d.feed(html)
    d.close()
    return d


@pytest.fixture(scope="module")
def normal_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    res = logdoctor.load(normal_bundle(tmp_path_factory.mktemp("n")))
    diag = Diagnosis(findings=findings(res), rules_ran=True)
    return render_html(build_report(res.frame, res.stats, diag, inputs=["bundle"]))


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    res = logdoctor.load(hostile_bundle(tmp_path_factory.mktemp("h")))
    return render_html(build_report(res.frame, res.stats, inputs=[HOSTILE_USERS[0]]))


def sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_csp_meta_comes_first_and_allows_exactly_the_inline_assets(normal_html: str) -> None:
    doc = parse(normal_html)
    head = [t for t in doc.tags if t[0] in ("meta", "script", "style", "link", "title")]
    assert head[0] == ("meta", {"charset": "utf-8"})
    tag, attrs = head[1]
    assert tag == "meta" and attrs["http-equiv"] == "Content-Security-Policy"
    csp = attrs["content"] or ""
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == directives["img-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    executable = [text for t, a, text in doc.raw if t == "script" and "type" not in a]
    styles = [text for t, _a, text in doc.raw if t == "style"]
    assert len(executable) == 2 and len(styles) == 2
    assert set(directives["script-src"].split()) == {sha(s) for s in executable}
    assert set(directives["style-src"].split()) == {sha(s) for s in styles}


def test_nothing_is_loaded_from_anywhere(normal_html: str) -> None:
    doc = parse(normal_html)
    names = {t for t, _ in doc.tags}
    assert not names & {"link", "img", "iframe", "object", "embed", "base", "form", "video"}
    for tag, attrs in doc.tags:
        assert "src" not in attrs, tag
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        assert "style" not in attrs, tag  # inline style attributes would need 'unsafe-inline'


def test_data_blocks_are_json_and_cannot_close_their_script(hostile_html: str) -> None:
    doc = parse(hostile_html)
    blocks = {a["id"]: text for t, a, text in doc.raw if a.get("type") == "application/json"}
    assert set(blocks) == {"ld-chart", "ld-drill", "ld-users"}
    for text in blocks.values():
        assert "<" not in text and ">" not in text and "&" not in text
        json.loads(text)
    drill = json.loads(blocks["ld-drill"])
    # the hostile names are there, as inert JSON strings with invisible characters escaped
    assert HOSTILE_NODE in drill["s"] and "<b>bad</b>\\u202e" in drill["s"]
    assert not any("\u202e" in s for s in drill["s"])


def test_hostile_text_is_escaped_and_invisible_characters_neutralized(hostile_html: str) -> None:
    doc = parse(hostile_html)
    names = [t for t, _ in doc.tags]
    assert (
        "img" not in names
        and "svg" not in names
        and "a" not in [t for t, a in doc.tags if a.get("href", "#").startswith("javascript")]
    )
    assert not any(a.startswith("on") for _, attrs in doc.tags for a in attrs)
    assert len([n for n in names if n == "script"]) == 5  # 3 data blocks, uPlot, the report's
    # the hostile text is on the page, escaped
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in hostile_html
    assert "&#34;&gt;&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in hostile_html
    assert "&lt;svg onload=window.__pwned=6&gt;" in hostile_html  # an unrecognized message
    for bad in ("\u202e", "\u2066", "\u200b", "\ufeff", "\x1b", "\x00", "\x07"):
        assert bad not in hostile_html, repr(bad)
    assert "evil\\u202etxt.exe" in hostile_html and "ctl\\x1b[31mred\\x07\\x00bell" in hostile_html
    # 100 KB lines are cut: the page stays small
    assert "A" * 1000 not in hostile_html and len(hostile_html) < 400_000
    for msg in HOSTILE_MESSAGES[:2]:
        assert msg not in hostile_html


def _safe_filters(source: str, env: jinja2.Environment) -> list[nodes.Filter]:
    return [f for f in env.parse(source).find_all(nodes.Filter) if f.name == "safe"]


def test_templates_mark_only_the_static_assets_safe() -> None:
    env = environment()
    templates = sorted(REPORTS.glob("*.j2"))
    assert {p.name for p in templates} >= {TEMPLATE, "_macros.html.j2"}
    used: set[str] = set()
    for path in templates:
        source = path.read_text(encoding="utf-8")
        tree = env.parse(source)
        assert not list(tree.find_all(nodes.EvalContextModifier)), f"{path}: autoescape switched"
        for f in _safe_filters(source, env):
            target = f.node
            assert isinstance(target, nodes.Getattr) and isinstance(target.node, nodes.Name), path
            assert target.node.name == "assets" and target.attr in asset_names(), (
                f"{path.name}:{f.lineno}: |safe on something that is not a static asset"
            )
            used.add(target.attr)
        # no other way around autoescape either
        for bad in ("|e(", "Markup", "autoescape false", "|escape(false"):
            assert bad not in source
    assert used == set(asset_names())


def test_the_safe_audit_catches_log_data_marked_safe() -> None:
    env = environment()
    bad = "{{ report.title|safe }}{% for u in report.users %}{{ u.user|safe }}{% endfor %}"
    flagged = [
        f
        for f in _safe_filters(bad, env)
        if not isinstance(f.node, nodes.Getattr) or getattr(f.node.node, "name", "") != "assets"
    ]
    assert len(flagged) == 2


def test_page_script_never_writes_html() -> None:
    js = (REPORTS / "report.js").read_text(encoding="utf-8")
    for bad in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setTimeout("',
        "javascript:",
    ):
        assert bad not in js, bad
    assert "textContent" in js


def test_vendored_uplot_matches_its_record_and_keeps_its_licence() -> None:
    vendor = REPORTS / "vendor" / "uplot"
    table = (vendor / "README.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"\| `([^`]+)` \| [^|]+ \| `([0-9a-f]{64})` \|", table))
    assert set(recorded) == {"uPlot.iife.min.js", "uPlot.min.css", "LICENSE"}
    for name, digest in recorded.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    licence = (vendor / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Leon Sorokin" in licence


def test_licence_is_shipped_in_every_report(normal_html: str) -> None:
    assert "Copyright (c) 2022 Leon Sorokin" in normal_html


def test_an_asset_that_would_end_its_element_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "reports"
    shutil.copytree(REPORTS, copy)
    js = copy / "report.js"
    js.write_text(js.read_text(encoding="utf-8") + "\n// </script>\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"report\.js: contains '</script'"):
        load_assets(copy)
    (copy / "report.js").unlink()
    with pytest.raises(ValueError, match=r"report\.js: cannot read report asset"):
        load_assets(copy)


def test_finalize_strips_invisible_characters_from_any_printed_value() -> None:
    env = environment()
    out = env.from_string("{{ a }}|{{ b }}|{{ c }}").render(a="x\u202ey<", b=None, c=3)
    assert out == "x\\u202ey&lt;||3"


def test_findings_render_in_order_with_evidence_and_fix(normal_html: str) -> None:
    order = [normal_html.index(f'id="{a}"') for a in ("LD201-imp1", "LD301-bob", "LD901")]
    assert order == sorted(order)
    first = normal_html[order[0] : order[1]]
    assert "LD201" in first and "badge sev-error" in first
    assert first.count("<tr>") == 1 + 2  # header and the two token.rejected lines
    assert "38 more not shown" in first
    # what a token.rejected line means: shown once under the table (on each row only as the
    # kind's hover title), not repeated on every row
    assert first.count(">A token or grant was refused") == 1
    assert first.count('title="A token or grant was refused') == 2
    assert first.count("<dt><code>token.rejected</code></dt>") == 1
    # a fix step's backticks are rendered as code, escaped
    assert "<li>Run <code>set key regen authz signing</code> on the publisher.</li>" in first
    assert "`" not in first.split("<h4>Fix</h4>", 1)[1].split("</ol>", 1)[0]
    assert '<details class="evidence">' in first  # closed until asked


def test_path_breaks_escape_every_part() -> None:
    env = environment()
    out = env.from_string("{{ p|path_breaks }}").render(p='a/"><svg onload=x>/b.log')
    assert out == "a/<wbr>&#34;&gt;&lt;svg onload=x&gt;/<wbr>b.log"


def test_the_basis_is_shown_next_to_the_evidence(tmp_path: Path) -> None:
    import dataclasses

    from logdoctor.analysis.evidence import from_rows

    res = logdoctor.load(normal_bundle(tmp_path))
    # Validation failures (logdoctor's own form: modelled), as the parser marked them.
    rejected = res.frame.filter(
        (res.frame["kind"] == "token.rejected") & res.frame["grant"].is_null()
    )
    lines = from_rows(rejected)
    assert lines and {e.basis for e in lines} == {"modelled"}
    found = tuple(
        dataclasses.replace(f, basis="modelled", evidence=lines) if f.rule == "LD201" else f
        for f in findings(res)
    )
    html = render_html(
        build_report(res.frame, res.stats, Diagnosis(findings=found, rules_ran=True))
    )
    start = html.index('id="LD201-imp1"')
    card = html[start : html.index("</article>", start)]
    summary = card.split("<summary>", 1)[1].split("</summary>", 1)[0]
    assert 'class="basis basis-modelled"' in summary  # the finding's weakest basis
    # each evidence line's own basis, next to its kind
    rows = card.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert rows.count('<span class="basis basis-modelled"') == len(lines)
    # a finding with no recognized log line behind it says so
    start = html.index('id="LD901')
    other = html[start : html.index("</article>", start)]
    assert 'class="basis basis-none"' in other.split("</summary>", 1)[0]
