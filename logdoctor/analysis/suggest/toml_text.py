"""The draft as TOML text: the format file copied verbatim, the draft events and their
samples added, every string escaped (log text is attacker-controlled)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from logdoctor.analysis.suggest.model import DraftEvent, SuggestError
from logdoctor.ingest.formats.types import Format

__all__ = ["draft_header", "draft_text"]


def _toml_str(s: str) -> str:
    """A TOML basic string: quotes, backslashes and every control or invisible character
    escaped (log text is attacker-controlled)."""
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif "\ud800" <= ch <= "\udfff":
            out.append("\ufffd")  # not representable in TOML; only comments get here
        elif unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _comment(s: str) -> str:
    """Text safe for one TOML comment line."""
    return _toml_str(s)[1:-1]


def _event_block(e: DraftEvent) -> str:
    t = e.template
    lines = [
        f"# {e.kind}: {t.count} record(s) on {len(t.nodes)} node(s); template:",
        f"#   {_comment(t.text)}",
    ]
    if e.fields:
        lines.append("# fields: " + ", ".join(f"{c} (from {_comment(k)})" for c, k in e.fields))
    if e.unnamed:
        lines.append(
            "# varying, not captured (no column name fits; name one to capture it): "
            + ", ".join(_comment(k) + "=" for k in e.unnamed)
        )
    lines += [
        "[[event]]",
        f"kind = {_toml_str(e.kind)}",
        'basis = "modelled"  # drafted from your logs: "published" if Cisco shows it verbatim',
        f"regex = {_toml_str(e.regex)}",
    ]
    return "\n".join(lines) + "\n"


def _sample_block(kind: str, text: str, fields: Mapping[str, str]) -> str:
    lines = ["[[sample]]", f"line = {_toml_str(text)}", f"kind = {_toml_str(kind)}"]
    if fields:
        inner = ", ".join(f"{k} = {_toml_str(v)}" for k, v in fields.items())
        lines.append(f"fields = {{ {inner} }}")
    return "\n".join(lines) + "\n"


_EVENT_HEADER = re.compile(r"^\[\[event\]\][ \t]*(?:#.*)?$", re.MULTILINE)


def _insert_at(base_text: str, fmt: Format, include: Sequence[str]) -> int | None:
    """Offset in the format file's text of the first event of an included kind (None: append).

    Only trusted when the file's ``[[event]]`` headers line up one to one with its events."""
    if not include:
        return None
    firsts = [e.index for e in fmt.events if e.kind in include]
    if not firsts:
        return None
    headers = list(_EVENT_HEADER.finditer(base_text))
    if len(headers) != len(fmt.events):
        raise SuggestError(
            f"{fmt.path}: cannot place draft events before {', '.join(include)} (the file's "
            "[[event]] tables could not be located); leave out --include"
        )
    start = headers[min(firsts)].start()
    # keep the comment lines just above that event with it
    before = base_text[:start].rstrip("\n").split("\n")
    while before and before[-1].startswith("#"):
        before.pop()
    return len("\n".join(before)) + 1 if before else 0


def draft_header(fmt: Format, family: str, n_events: int, records: int, covered: int) -> str:
    """The comment block at the top of a draft: what it covers and what to do next."""
    pct = 100.0 * covered / records if records else 100.0
    return (
        f"# DRAFT made by `logdoctor formats suggest` for the {family} family: {n_events} draft\n"
        f"# event(s) covering {covered} of the {records} record(s) mined ({pct:.1f} %).\n"
        f"# It is a copy of the format {fmt.name!r} ({_comment(fmt.path)}) with the draft events\n"
        "# added: with --formats-dir it replaces that format (same name).\n"
        "# Next: rename the draft.<n> kinds, check the field names, then\n"
        "#   logdoctor formats --check DIR && logdoctor check --formats-dir DIR BUNDLE\n"
        "\n"
    )


def draft_text(
    base_text: str,
    fmt: Format,
    events: Sequence[DraftEvent],
    include: Sequence[str],
    header: str,
) -> str:
    """The draft: ``base_text`` (the format file) with the draft events appended, or placed
    before the first event of an ``include`` kind, and their samples at the end."""
    blocks = "\n".join(_event_block(e) for e in events)
    samples = "\n".join(
        _sample_block(e.kind, text, fields) for e in events for text, fields in e.samples
    )
    banner = (
        "# ---------------------------------------------------------------------------------\n"
        "# Draft events (logdoctor formats suggest): rename each draft.<n> kind, here and in\n"
        "# its samples, to the event kind it is (logdoctor kinds).\n"
    )
    at = _insert_at(base_text, fmt, include)
    body = base_text if base_text.endswith("\n") else base_text + "\n"
    if at is None:
        body += "\n" + banner + blocks
    else:
        body = body[:at] + banner + blocks + "\n" + body[at:]
    body += "\n# Samples of the draft events (verbatim records).\n" + samples
    return header + body
