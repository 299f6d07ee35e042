"""Draft a format file from the records logdoctor does not recognize (``formats suggest``).

The records of one family that no event pattern knows are mined into templates
(:mod:`logdoctor.analysis.shapes`); each template seen at least ``min_count`` times becomes an
``[[event]]`` of kind ``draft.<n>`` (n is the template's rank in its family, 1 the most
frequent), whose regex is the template with its variable parts turned into fields: a
``key=value`` value is named after its key when the key is a known name of an event column
(:data:`COLUMN_KEYS`: ``userId=`` and ``user=`` give ``user``, ``jti=`` gives ``token_id``...),
and a value with no key is named after its shape (a ``C`` + 64 hex client id, a device name, a
uuid or JWT-looking token id). Two records of each template become its ``[[sample]]``s,
verbatim, with the kind and fields they parse to.

A format given with ``--formats-dir`` replaces the format of the same name (see
:func:`logdoctor.ingest.formats.catalog.load_formats`), so the draft is the family's format
file, copied verbatim, with the draft events added after the events it already has: lines it
recognized keep their kinds, and the draft patterns only see the lines that were left over. With
``include`` (kinds of generic detectors, such as ``oauth.error``), the records of those kinds
are mined too and the draft events go before the first event of those kinds, so that they get
the chance to claim those lines first.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from logdoctor.analysis.shapes import PLACEHOLDER, WILDCARD, Template, mine
from logdoctor.ingest.formats.spec import Format, FormatError, load_format
from logdoctor.ingest.parse import iter_lines, parse_bytes
from logdoctor.ingest.regexes import to_rust
from logdoctor.ingest.sources import LogFile
from logdoctor.model import EventKind
from logdoctor.table import FIELD_COLUMNS

__all__ = [
    "COLUMN_KEYS",
    "DEFAULT_MIN_COUNT",
    "DEVICE_NAME",
    "GENERIC_KINDS",
    "Draft",
    "DraftEvent",
    "SuggestError",
    "draft_format",
    "suggest_command",
]

DEFAULT_MIN_COUNT = 2
"""Templates seen fewer times than this are left out of a draft (one-off lines)."""

GENERIC_KINDS: tuple[str, ...] = ("oauth.error", "oauth.request")
"""Kinds of generic detectors: an RFC 6749 error code or an OAuth endpoint path anywhere in a
line no specific pattern knows. Such a line is recognized only in part (no user, no client), so
a draft mines these records too by default, and its events go before those detectors."""

COLUMN_KEYS: Mapping[str, tuple[str, ...]] = {
    "user": ("user", "userid", "username", "uid", "principal", "login", "subject", "account"),
    "client_id": ("clientid", "client", "oauthclient"),
    "device": ("device", "devicename", "deviceid", "dev"),
    "token_id": (
        "jti",
        "tid",
        "tokenid",
        "refreshtokenid",
        "accesstokenid",
        "code",
        "authcode",
        "token",
    ),
    "grant": ("grant", "granttype", "responsetype", "grantflow", "flow"),
    "reason": (
        "reason",
        "cause",
        "check",
        "failedcheck",
        "errordescription",
        "error",
        "errorcode",
        "outcome",
        "result",
        "status",
    ),
    "key": ("kid", "keyid", "checksum", "key", "keychecksum", "fingerprint", "thumbprint"),
    "server": ("via", "server", "validator", "proxy", "node", "host", "publisher", "edge"),
    "param": ("param", "parameter", "name", "use", "keyuse", "method", "authmethod", "service"),
    "value": (
        "value",
        "newvalue",
        "new",
        "count",
        "version",
        "keyversion",
        "expiresin",
        "ttl",
        "lifetime",
        "revoked",
        "tokensrevoked",
    ),
    "agent": ("agent", "useragent", "clientversion"),
}
"""Names a key may have (lower case, without ``_``, ``-`` or ``.``) for each event column, the
preferred first: when two keys of one template name the same column, the earlier one wins."""

DEVICE_NAME = re.compile(r"(?:CSF|TCT|BOT|TAB)[A-Z0-9._-]+")
"""A Jabber device name (Windows/Mac CSF, iPhone TCT, Android BOT, iPad TAB)."""

_SHAPE_COLUMN = {"<client>": "client_id", "<jwt>": "token_id", "<uuid>": "token_id"}
"""Columns a keyless value is named after by its shape alone."""

_SURROGATES = re.compile("[\ud800-\udfff]")
_PIECE = re.compile(r"<[a-z*]+>|[^<]+|<")
_KEY_AT_END = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)=$")


class SuggestError(ValueError):
    """Nothing can be drafted (no unrecognized record, an unknown family...)."""


@dataclass(frozen=True)
class DraftEvent:
    """One drafted event: its kind, regex and the template it comes from."""

    kind: str
    regex: str
    template: Template
    fields: tuple[tuple[str, str], ...]
    """(column, key or shape it was named after)."""
    unnamed: tuple[str, ...]
    """Keys whose values vary but that no column name fits (left as ``\\S+``)."""
    samples: tuple[tuple[str, Mapping[str, str]], ...] = ()


@dataclass(frozen=True)
class Draft:
    """A drafted format file and what it covers."""

    family: str
    format_name: str
    base_path: str
    text: str
    events: tuple[DraftEvent, ...]
    records: int
    """Records mined (unrecognized, plus those of ``include`` kinds)."""
    covered: int
    """Records a draft event matches."""
    left_out: tuple[Template, ...] = field(default_factory=tuple)
    """Templates below ``min_count``."""

    @property
    def coverage(self) -> float:
        """Share of the mined records the draft events match (1.0 when there were none)."""
        return self.covered / self.records if self.records else 1.0


def _norm_key(key: str) -> str:
    return re.sub(r"[_.\-]", "", key).lower()


_KEY_COLUMN: dict[str, tuple[str, int]] = {
    k: (col, rank) for col, keys in COLUMN_KEYS.items() for rank, k in enumerate(keys)
}


def _raw_tokens(t: Template) -> list[list[str]]:
    return [e.message.split("\n", 1)[0].split() for e in t.examples]


@dataclass
class _Slot:
    """A variable part of a token: where it is and what could name it."""

    token: int
    piece: int
    placeholder: str
    key: str | None
    column: str | None = None
    rank: int = 99


_KEY_PREFIX = re.compile(r"[^=\s<]*=")


def refined_tokens(t: Template) -> tuple[str, ...]:
    """The template's tokens, where a ``<*>`` whose values all start with one ``key=`` keeps
    that key (``code=<hex>`` and ``code=<n>`` merge into ``<*>``; this gives ``code=<*>``)."""
    out = list(t.tokens)
    split = [shape.split() for shape, _ in t.shapes]
    for i, tok in enumerate(t.tokens):
        if tok != WILDCARD:
            continue
        keys = {m.group(0) if (m := _KEY_PREFIX.match(sp[i])) else None for sp in split}
        if len(keys) == 1 and (key := keys.pop()) and _KEY_AT_END.search(key):
            out[i] = key + WILDCARD
    return tuple(out)


def _slots(t: Template) -> tuple[list[list[str]], list[_Slot]]:
    tokens = refined_tokens(t)
    pieces = [_PIECE.findall(tok) for tok in tokens]
    raws = _raw_tokens(t)
    slots: list[_Slot] = []
    for ti, parts in enumerate(pieces):
        for pi, p in enumerate(parts):
            if p not in PLACEHOLDER and p != WILDCARD:
                continue
            key = None
            if pi > 0:
                m = _KEY_AT_END.search(parts[pi - 1])
                key = m.group(1) if m else None
            elif p == WILDCARD and ti > 0 and tokens[ti - 1] != WILDCARD:
                prev = tokens[ti - 1].rstrip(":=")
                key = prev if _norm_key(prev) in _KEY_COLUMN else None
            s = _Slot(ti, pi, p, key)
            if key is not None and _norm_key(key) in _KEY_COLUMN:
                s.column, s.rank = _KEY_COLUMN[_norm_key(key)]
            elif key is None and p in _SHAPE_COLUMN:
                s.column, s.rank = _SHAPE_COLUMN[p], 50
            elif key is None and p == WILDCARD and pi == 0 and raws:
                values = [r[ti] for r in raws if ti < len(r)]
                if values and all(DEVICE_NAME.fullmatch(v) for v in values):
                    s.column, s.rank = "device", 50
            slots.append(s)
    # one group per column: the best-ranked slot keeps it
    best: dict[str, _Slot] = {}
    for s in slots:
        if s.column is None:
            continue
        cur = best.get(s.column)
        if cur is None or s.rank < cur.rank:
            best[s.column] = s
    for s in slots:
        if s.column is not None and best[s.column] is not s:
            s.column = None
    return pieces, slots


def event_regex(t: Template) -> tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The regex of a template (logdoctor's format dialect), the fields it names, and the keys
    of varying values it leaves unnamed."""
    pieces, slots = _slots(t)
    at = {(s.token, s.piece): s for s in slots}
    out_tokens: list[str] = []
    named: list[tuple[str, str]] = []
    unnamed: list[str] = []
    tokens = t.tokens[:-1] if t.cut and len(t.tokens) > 1 else t.tokens
    for ti in range(len(tokens)):
        parts = pieces[ti]
        buf: list[str] = []
        for pi, p in enumerate(parts):
            s = at.get((ti, pi))
            if s is None:
                buf.append(re.escape(p))
                continue
            body = r"\S+" if p == WILDCARD or pi == len(parts) - 1 else PLACEHOLDER[p].raw
            if s.column is not None:
                buf.append(f"(?P<{s.column}>{body})")
                named.append((s.column, s.key or p))
            else:
                buf.append(body if body == r"\S+" else f"(?:{body})")
                if s.key is not None and p in ("<v>", WILDCARD):
                    unnamed.append(s.key)
        out_tokens.append("".join(buf))
    sep = r"\s+" if t.loose_spacing else " "
    head = r"^\s*" if t.loose_spacing else "^"
    tail = "" if t.cut else r"(?:\n|$)"
    return head + sep.join(out_tokens) + tail, tuple(named), tuple(dict.fromkeys(unnamed))


# -- TOML text -----------------------------------------------------------------------------------


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


# -- building the draft --------------------------------------------------------------------------


def _record_texts(
    files: Sequence[LogFile], wanted: Mapping[str, set[tuple[int, int]]]
) -> dict[tuple[str, int], str]:
    """The verbatim text of records: (file display name, first line) -> text (its lines)."""
    from logdoctor.ingest.parse import decode

    out: dict[tuple[str, int], str] = {}
    by_name = {lf.display: lf for lf in files}
    for name, spans in wanted.items():
        lf = by_name.get(name)
        if lf is None:
            continue
        try:
            text, _ = decode(lf.read())
        except OSError:
            continue
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in iter_lines(text)]
        for first, n in spans:
            if 0 < first <= len(lines):
                out[(name, first)] = "\n".join(lines[first - 1 : first - 1 + n])
    return out


def _parse_one(fmt: Format, text: str) -> dict[str, object] | None:
    frame, stats = parse_bytes(text.encode("utf-8"), fmt, file="sample", node="sample-node")
    if frame.height != 1 or stats.malformed:
        return None
    return frame.row(0, named=True)


def _draft_text(
    base_text: str,
    fmt: Format,
    events: Sequence[DraftEvent],
    include: Sequence[str],
    header: str,
) -> str:
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


def _header(fmt: Format, family: str, n_events: int, records: int, covered: int) -> str:
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


def draft_format(
    records: pl.DataFrame,
    formats: Sequence[Format],
    files: Sequence[LogFile],
    *,
    family: str | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    include: Sequence[str] = GENERIC_KINDS,
) -> Draft:
    """Draft a format file from the event table ``records`` (what ``logdoctor.load`` gives)
    for one family; ``files`` are the inputs' files (samples are read from them verbatim).

    The records mined are the unrecognized ones and those of the ``include`` kinds (by
    default the :data:`GENERIC_KINDS`).

    Raises SuggestError when there is nothing to draft or the family is ambiguous or unknown.
    """
    if min_count < 1:
        raise SuggestError("--min-count must be at least 1")
    kinds = ["unrecognized", *include]
    for k in include:
        if k not in {e.value for e in EventKind} or k == "unrecognized":
            raise SuggestError(f"--include {k!r}: not an event kind (see logdoctor kinds)")
    pool = records.filter(pl.col("kind").cast(pl.String).is_in(kinds))
    fams = (
        pool.group_by(pl.col("family").cast(pl.String))
        .len()
        .sort(["len", "family"], descending=[True, False])
    )
    counts = dict(zip(fams["family"].to_list(), fams["len"].to_list(), strict=True))
    if family is None:
        if not counts:
            raise SuggestError(f"no record of kind {' or '.join(kinds)}: nothing to draft")
        if len(counts) > 1:
            listed = ", ".join(f"{f}: {n}" for f, n in counts.items())
            raise SuggestError(
                f"records to draft in several families ({listed}): choose one with --family"
            )
        family = next(iter(counts))
    fmts = [f for f in formats if f.family == family]
    if not fmts:
        known = ", ".join(sorted({f.family for f in formats}))
        raise SuggestError(f"--family {family!r}: no such format family (known: {known})")
    if family not in counts:
        raise SuggestError(
            f"no record of kind {' or '.join(kinds)} in family {family}: nothing to draft"
        )
    fmt = fmts[0]
    mine_from = pool.filter(pl.col("family").cast(pl.String) == family)
    templates = mine(mine_from)
    chosen = [t for t in templates if t.count >= min_count]
    left = tuple(t for t in templates if t.count < min_count)
    if not chosen:
        raise SuggestError(
            f"no template of family {family} is seen {min_count} times or more "
            f"({len(templates)} template(s)); lower --min-count"
        )
    # longer templates first: a shorter one ending in a wildcard could claim their lines
    chosen.sort(key=lambda t: (-len(t.tokens), t.rank))
    events = []
    for t in chosen:
        rx, named, unnamed = event_regex(t)
        events.append(DraftEvent(f"draft.{t.rank}", rx, t, named, unnamed))
    wanted: dict[str, set[tuple[int, int]]] = {}
    for e in events:
        for ex in e.template.examples:
            wanted.setdefault(ex.file, set()).add((ex.line, ex.message.count("\n") + 1))
    texts = _record_texts(files, wanted)
    base_text = Path(fmt.path).read_text(encoding="utf-8")
    covered = _covered(mine_from, events)
    header = _header(fmt, family, len(events), mine_from.height, covered)
    with tempfile.TemporaryDirectory(prefix="logdoctor-draft-") as tmp:
        probe = Path(tmp) / "draft.toml"
        probe.write_text(_draft_text(base_text, fmt, events, include, header), encoding="utf-8")
        draft_fmt = load_format(probe)
        with_samples = []
        for e in events:
            samples = []
            for ex in e.template.examples:
                text = texts.get((ex.file, ex.line))
                if text is None or _SURROGATES.search(text):
                    continue  # a TOML string cannot hold undecodable bytes verbatim
                row = _parse_one(draft_fmt, text)
                if row is None or row["kind"] != e.kind or row["message"] != ex.message:
                    continue
                fields = {c: str(row[c]) for c in FIELD_COLUMNS if row[c] is not None}
                samples.append((text, fields))
            if not samples:
                raise SuggestError(
                    f"{e.kind}: no record of template {e.template.text!r} could be read back "
                    "verbatim from its file for a sample"
                )
            with_samples.append(
                DraftEvent(e.kind, e.regex, e.template, e.fields, e.unnamed, tuple(samples))
            )
        text = _draft_text(base_text, fmt, with_samples, include, header)
        probe.write_text(text, encoding="utf-8")
        from logdoctor.ingest.formats.check import check_format

        try:
            check_format(load_format(probe))
        except FormatError as exc:  # a bug here, not the user's: say which draft failed
            raise SuggestError(f"the draft does not pass its own check: {exc.problem}") from None
    return Draft(
        family=family,
        format_name=fmt.name,
        base_path=fmt.path,
        text=text,
        events=tuple(with_samples),
        records=mine_from.height,
        covered=covered,
        left_out=left,
    )


def _covered(records: pl.DataFrame, events: Sequence[DraftEvent]) -> int:
    """Records at least one draft event matches (first line and all, as the parser sees them)."""
    if records.height == 0 or not events:
        return 0
    msg = pl.col("message").fill_null("")
    hit = pl.any_horizontal([msg.str.contains(to_rust(e.regex)) for e in events])
    return int(records.select(hit.sum()).item())


def suggest_command(inputs: Sequence[str], family: str, count: int | None = None) -> str:
    """The ``logdoctor formats suggest`` command that drafts the templates of ``family`` (one
    seen ``count`` times among them: ``--min-count`` is lowered for it when needed)."""
    import shlex

    min_count = DEFAULT_MIN_COUNT if count is None else min(DEFAULT_MIN_COUNT, max(count, 1))
    args = ["logdoctor", "formats", "suggest", *inputs, "--family", family]
    if min_count != DEFAULT_MIN_COUNT:
        args += ["--min-count", str(min_count)]
    args += ["-o", f"{family}-draft.toml"]
    return shlex.join(args)
