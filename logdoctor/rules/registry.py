"""The rule registry: ``@rule`` metadata, documentation pages parsed from docstrings.

A rule is a function ``(Context) -> Iterable[Hit]`` declared with::

    @rule("LD101", Severity.ERROR, "Expressway refreshes while UCM's refresh flow is off")
    def expressway_refresh_mismatch(ctx: Context) -> Iterator[Hit]:
        '''What: ...

        Why: ...

        Example:
            2026-11-20 08:45:00,500 WARN  [...] oauth.TokenServlet - Token request refused: ...

        Fix:
            1. First step.
            2. Second step.

        References:
            - https://...
        '''

The docstring is the rule's documentation page (``logdoctor rules LD101``); its sections are
``What``, ``Why``, ``Detection``, ``Example``, ``Fix`` (numbered steps, copied into every
finding) and ``References``. Ids are ``LD`` + 3 digits, grouped by hundreds (1xx
configuration, 2xx keys and certificates, 3xx users and tokens, 4xx clients, 9xx log health);
an id is never reused for another meaning.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from logdoctor.model import VIA_KINDS, Basis, EventKind, RuleId, Severity

if TYPE_CHECKING:
    from logdoctor.rules.context import Context, Hit

__all__ = [
    "ANY_KIND",
    "CATEGORIES",
    "INFERRED",
    "ROLE_NAMES",
    "SECTIONS",
    "TOKEN_FLOW",
    "KindBasis",
    "Needs",
    "Rule",
    "RuleDoc",
    "registered",
    "rule",
]

CATEGORIES = {
    "1": "configuration",
    "2": "keys and certificates",
    "3": "users and tokens",
    "4": "clients",
    "9": "log health",
}
"""Rule categories by the first digit of the id."""

SECTIONS = ("What", "Why", "Detection", "Example", "Fix", "References")
"""Sections of a rule's documentation page, in order (all required)."""

_ID = re.compile(r"^LD\d{3}$")
_SECTION = re.compile(r"^(" + "|".join(SECTIONS) + r"):\s*(.*)$")
_STEP = re.compile(r"^(\d+)\.\s+(.*)$")

RuleFunc = Callable[["Context"], Iterable["Hit"]]
F = TypeVar("F", bound=RuleFunc)


ROLE_NAMES = {
    "ucm": "UCM",
    "imp": "IM and Presence",
    "imp_central": "IM and Presence central cluster",
    "expressway": "Expressway",
    "unity": "Unity Connection",
}
"""How the roles a rule may need logs of are named to a reader."""

NEEDS_CONFIG = ("", "or", "required")
"""Values of :attr:`Needs.config`."""

ANY_KIND = "*"
"""In :attr:`Needs.kinds`: the rule reads every record (log health), whatever its kind."""

TOKEN_FLOW: tuple[str, ...] = (*VIA_KINDS, "token.validated", "token.rejected", "token.revoked")
"""The OAuth lines token lineage, the enriched events and sessions are built from
(:mod:`logdoctor.analysis.lineage`): a rule that reads ``ctx.events`` or ``ctx.lineage`` reads
them."""

INFERRED: tuple[str, ...] = (
    *TOKEN_FLOW,
    "revoke.request",
    "config.changed",
    "config.rejected",
    "key.regenerated",
    "key.replicated",
    "key.loaded",
    "service.restarted",
    "trace.level",
)
"""What the deployment inferred from the logs reads (:func:`logdoctor.analysis.inference.infer`:
roles, parameters, publisher, keys): a rule that asks ``ctx.role``, ``ctx.parameter``,
``ctx.cluster_name``, ``ctx.inferred`` or the key analyses reads them."""


@dataclass(frozen=True)
class Needs:
    """What a rule needs to be evaluated at all (a rule whose needs are not met can find
    nothing, which is not the same as finding that all is well).

    ``roles``: logs written by a node of one of these roles (any node when empty).
    ``families``: logs of one of these families (``ssosp``...; any when empty).
    ``nodes``: logs of at least this many nodes.
    ``config``: ``"or"`` when a deployment file can stand in for the logs (the rule also
    checks what it declares), ``"required"`` when the rule compares against one, ``""`` when
    a deployment file does not help.
    ``kinds``: the event kinds the rule reads (:data:`ANY_KIND` for every record): its basis
    is the weakest of theirs (:meth:`Rule.basis`).
    """

    roles: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    nodes: int = 1
    config: str = ""
    kinds: tuple[str, ...] = ()

    def logs_text(self) -> str:
        """The logs this rule reads, for a reader: ``ssosp logs of a UCM node``."""
        fam = " or ".join(self.families)
        who = " or ".join(ROLE_NAMES.get(r, r) for r in self.roles)
        text = f"{fam} logs" if fam else "logs"
        if self.nodes > 1:
            text += f" of {self.nodes} {who + ' ' if who else ''}nodes or more"
        elif who:
            text += f" of {'an' if who[0] in 'IE' else 'a'} {who} node"
        return text


@dataclass(frozen=True)
class KindBasis:
    """The basis of one kind a rule reads, in one log family."""

    kind: str
    family: str
    basis: Basis
    """The weakest of the kind's patterns in the family."""


@dataclass(frozen=True)
class RuleDoc:
    """A rule's documentation page, parsed from its docstring."""

    text: str
    """The whole page (dedented docstring)."""
    sections: dict[str, str]
    """Section name -> its text (dedented, without the heading)."""
    fix: tuple[str, ...]
    """The numbered steps of the Fix section, without their numbers."""
    references: tuple[str, ...]
    """The references (one per ``- `` item)."""


@dataclass(frozen=True)
class Rule:
    """A registered rule."""

    id: RuleId
    severity: Severity
    title: str
    func: RuleFunc
    doc: RuleDoc
    needs: Needs = Needs()

    @property
    def category(self) -> str:
        """configuration, keys and certificates, users and tokens, clients or log health."""
        return CATEGORIES[self.id[2]]

    @property
    def name(self) -> str:
        """The rule function's name (a readable identifier, e.g. for SARIF)."""
        return self.func.__name__

    def kind_bases(self, bases: dict[str, dict[str, tuple[str, ...]]]) -> list[KindBasis]:
        """The basis of each kind the rule reads, per family that writes it (only the rule's
        families when it names some). ``bases``: kind -> family -> the bases of its patterns
        (:func:`logdoctor.ingest.formats.catalog.kind_bases`)."""
        out = []
        for kind in self.needs.kinds:
            for family, values in sorted(bases.get(kind, {}).items()):
                if self.needs.families and family not in self.needs.families:
                    continue
                weakest = min((Basis(v) for v in values), key=lambda b: b.rank)
                out.append(KindBasis(kind, family, weakest))
        return out

    def basis(self, bases: dict[str, dict[str, tuple[str, ...]]]) -> Basis | None:
        """The weakest basis of the kinds the rule reads; None when it reads every record
        (log health) or no format writes its kinds."""
        if ANY_KIND in self.needs.kinds:
            return None
        found = self.kind_bases(bases)
        return min((k.basis for k in found), key=lambda b: b.rank) if found else None


_REGISTRY: dict[str, Rule] = {}


def parse_doc(rule_id: str, doc: str | None) -> RuleDoc:
    """Split a docstring into its sections; raise ValueError naming what is missing."""
    if not doc:
        raise ValueError(f"{rule_id}: the rule has no docstring (its documentation page)")
    text = inspect.cleandoc(doc)
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        m = _SECTION.match(line)
        if m:
            current = m.group(1)
            if current in sections:
                raise ValueError(f"{rule_id}: section {current!r} appears twice")
            sections[current] = [m.group(2)] if m.group(2) else []
        elif current is None:
            if line.strip():
                raise ValueError(f"{rule_id}: text before the first section: {line.strip()!r}")
        else:
            sections[current].append(line)
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise ValueError(f"{rule_id}: documentation lacks section(s) {', '.join(missing)}")
    order = [s for s in sections]
    if order != list(SECTIONS):
        raise ValueError(f"{rule_id}: sections must come in the order {', '.join(SECTIONS)}")
    body = {k: inspect.cleandoc("\n".join(v)) for k, v in sections.items()}
    steps: list[str] = []
    for line in body["Fix"].splitlines():
        stripped = line.strip()
        m = _STEP.match(stripped)
        if m:
            if int(m.group(1)) != len(steps) + 1:
                raise ValueError(f"{rule_id}: Fix steps must be numbered 1, 2, 3...")
            steps.append(m.group(2))
        elif stripped and steps:
            steps[-1] += " " + stripped
        elif stripped:
            raise ValueError(f"{rule_id}: Fix must be numbered steps, got {stripped!r}")
    if not steps:
        raise ValueError(f"{rule_id}: Fix has no numbered step")
    refs = tuple(
        line.strip()[2:].strip()
        for line in body["References"].splitlines()
        if line.strip().startswith("- ")
    )
    if not refs:
        raise ValueError(f"{rule_id}: References has no '- ' item")
    return RuleDoc(text=text, sections=body, fix=tuple(steps), references=refs)


def rule(
    rule_id: str, severity: Severity, title: str, needs: Needs | None = None
) -> Callable[[F], F]:
    """Register the decorated function as rule ``rule_id`` (``needs``: what it must have to be
    evaluated; default: any log)."""
    if not _ID.match(rule_id):
        raise ValueError(f"{rule_id!r}: rule ids are LD followed by three digits")
    if rule_id[2] not in CATEGORIES:
        raise ValueError(f"{rule_id}: no category for the hundreds digit {rule_id[2]}")
    if needs is not None and needs.config not in NEEDS_CONFIG:
        raise ValueError(f"{rule_id}: needs.config must be one of {NEEDS_CONFIG}")
    known = {k.value for k in EventKind} | {ANY_KIND}
    for k in needs.kinds if needs is not None else ():
        if k not in known:
            raise ValueError(f"{rule_id}: needs.kinds: {k!r} is not an event kind")

    def register(func: F) -> F:
        if rule_id in _REGISTRY and _REGISTRY[rule_id].func is not func:
            raise ValueError(f"{rule_id}: registered twice")
        _REGISTRY[rule_id] = Rule(
            id=RuleId(rule_id),
            severity=severity,
            title=title,
            func=func,
            doc=parse_doc(rule_id, func.__doc__),
            needs=needs or Needs(),
        )
        return func

    return register


def registered() -> dict[str, Rule]:
    """The rules registered so far, by id (:mod:`logdoctor.rules.catalog` imports every
    category module first; ask it, not this, for the whole set)."""
    return dict(_REGISTRY)
