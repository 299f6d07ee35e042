"""Prove a format's templates and its ``[writer]`` layout agree with what the format reads.

For every templated ``[[event]]`` the check renders the message with probe values (first
generic ones, then the values the format's samples of that kind give, for a regex that only
accepts certain words), and the message must be matched first by that very event (file order)
and read back into the same columns. A generic message another event reads fails at once.
With a ``[writer]`` layout the whole line is rendered too and parsed by the line engine: one
record, the event's kind, the same fields, the probe time.
:func:`check_templates` runs as part of :func:`logdoctor.ingest.formats.check.check_format`.
"""

from __future__ import annotations

from datetime import datetime

from logdoctor.ingest.formats.templates import LineEncoder, Template, TemplateError, build_encoder
from logdoctor.ingest.formats.types import EventPattern, Format, FormatError
from logdoctor.ingest.parse import LineParser, classify_message, iter_lines, match_event

__all__ = ["PROBE_TIME", "check_templates"]

PROBE_TIME = datetime(2026, 1, 2, 3, 4, 5, 678000)
"""The time every probe line is written at."""


def _candidates(fmt: Format, e: EventPattern, t: Template) -> list[dict[str, str]]:
    generic = {k: f"x{k}" for k in t.keys}
    out = [generic]
    for s in fmt.samples:
        if s.kind != e.kind:
            continue
        alt = dict(generic)
        for name, key in zip(t.names, t.keys, strict=True):
            if not name.startswith("_") and s.fields.get(name):
                alt[key] = s.fields[name]
        if alt != generic and alt not in out:
            out.append(alt)
    return out


def _problem(fmt: Format, enc: LineEncoder, e: EventPattern, t: Template, v: dict[str, str]) -> str:
    """What goes wrong reading back the message and line of ``v`` ("" when nothing)."""
    msg = enc.message(e.name or e.kind, **v)
    logger = enc.probe.get("logger")
    hit = match_event(fmt, msg, logger)
    if hit is None or hit[0].index != e.index:
        other = "no event" if hit is None else f"event[{hit[0].index}] ({hit[0].kind})"
        return f"its message {msg!r} is read by {other}, not by this event"
    _kind, _basis, got = classify_message(fmt, msg, logger)
    for name, key in zip(t.names, t.keys, strict=True):
        if not name.startswith("_") and got.get(name) != v[key]:
            return f"{{{name}}} written {v[key]!r} reads back {got.get(name)!r} from {msg!r}"
    if enc.layout is None:
        return ""
    problem, row = _line(fmt, enc, msg)
    if problem:
        return problem
    if row["kind"] != e.kind:
        return f"its whole line reads as {row['kind']!r} (a header or logger constraint?)"
    for name, key in zip(t.names, t.keys, strict=True):
        if name != "node" and not name.startswith("_") and row[name] != v[key]:
            return f"{{{name}}} in a whole line reads back {row[name]!r}"
    return ""


def _line(fmt: Format, enc: LineEncoder, msg: str) -> tuple[str, dict[str, object]]:
    stamps = {k: PROBE_TIME for k in enc.stamps}
    try:
        text = enc.line(msg, **{**enc.probe, **stamps})
    except TemplateError as exc:
        return str(exc), {}
    lp = LineParser(fmt, file="probe", node="probe-node")
    recs = []
    for line in iter_lines(text):
        recs.extend(lp.feed(line))
    recs.extend(lp.flush())
    if len(recs) != 1:
        return f"the [writer] line {text!r} parses to {len(recs)} records, not 1", {}
    row = recs[0].as_row()
    when = row["time"]
    want = PROBE_TIME.strftime("%Y-%m-%dT%H:%M:%S")
    if not isinstance(when, datetime) or when.strftime("%Y-%m-%dT%H:%M:%S") != want:
        return f"the [writer] line {text!r} reads time {when!r}, not {want}", {}
    return "", row


def check_templates(fmt: Format) -> None:
    """Raise FormatError naming the file and the event whose template or writer disagrees with
    what the format reads."""
    try:
        enc = build_encoder(fmt)
    except TemplateError as exc:
        raise FormatError(fmt.path, "writer", str(exc)) from None
    for e in fmt.events:
        if e.template is None:
            continue
        t = enc.template(e.name or e.kind)
        candidates = _candidates(fmt, e, t)
        problems = [_problem(fmt, enc, e, t, v) for v in candidates]
        hit = match_event(
            fmt, enc.message(e.name or e.kind, **candidates[0]), enc.probe.get("logger")
        )
        if hit is not None and hit[0].index != e.index:
            problems = problems[
                :1
            ]  # another event reads what it writes: a writer's value would too
        if all(problems):
            raise FormatError(
                fmt.path,
                f"event[{e.index}] ({e.kind})",
                f"template and regex disagree: {problems[-1]}",
            )
    if enc.layout is not None:
        problem, _row = _line(fmt, enc, "probe message")
        if problem:
            raise FormatError(fmt.path, "writer", problem)
