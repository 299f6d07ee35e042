"""Configuration facts for the report from what the check engine infers and compares.

The engine describes each inferred fact (a path such as ``parameters.refresh_login_flow``, the
subject it concerns, its value, how it was inferred and the lines behind it) and each
disagreement between the deployment file and the logs. These are structural types: anything
with those attributes will do, so this module needs nothing from the engine to be typed and
tested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from logdoctor.model import Evidence
from logdoctor.report.model import ConfigFact

__all__ = ["DisagreementLike", "FactLike", "config_facts", "show_value"]


class FactLike(Protocol):
    """One thing the logs show about the deployment, and the lines that show it."""

    @property
    def path(self) -> str: ...  # noqa: D102
    @property
    def subject(self) -> str: ...  # noqa: D102
    @property
    def value(self) -> Any: ...  # noqa: D102
    @property
    def reason(self) -> str: ...  # noqa: D102
    @property
    def evidence(self) -> tuple[Evidence, ...]: ...  # noqa: D102
    @property
    def count(self) -> int: ...  # noqa: D102


class DisagreementLike(Protocol):
    """A declared value the logs contradict, and where the file declares it."""

    @property
    def declared(self) -> Any: ...  # noqa: D102
    @property
    def inferred(self) -> FactLike: ...  # noqa: D102
    @property
    def declared_at(self) -> Evidence: ...  # noqa: D102


def show_value(value: Any) -> str | None:
    """A setting's value as text: booleans as on / off, None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _key(f: FactLike) -> tuple[str, str, str | None]:
    return (f.path, f.subject, show_value(f.value))


def config_facts(
    facts: Iterable[FactLike],
    disagreements: Iterable[DisagreementLike] = (),
    declared: Callable[[str, str], Any] | None = None,
) -> tuple[ConfigFact, ...]:
    """One :class:`ConfigFact` per inferred fact, with the declared value beside it.

    The declared value comes from the disagreement about that fact (with the file and line
    that declare it), else from ``declared(path, subject)`` (None when the file does not say).
    A disagreement whose fact is not among ``facts`` is still shown.
    """
    by_fact = {_key(d.inferred): d for d in disagreements}
    out: list[ConfigFact] = []
    seen: set[tuple[str, str, str | None]] = set()
    for f in [*facts, *(d.inferred for d in by_fact.values())]:
        key = _key(f)
        if key in seen:
            continue
        seen.add(key)
        d = by_fact.get(key)
        at = None
        if d is not None:
            want = d.declared
            at = f"{d.declared_at.file}:{d.declared_at.line}"
        else:
            want = declared(f.path, f.subject) if declared is not None else None
        out.append(
            ConfigFact(
                name=f.path,
                subject=f.subject,
                declared=show_value(want),
                inferred=show_value(f.value),
                reason=f.reason,
                evidence=tuple(f.evidence),
                evidence_total=max(f.count, len(f.evidence)),
                declared_at=at,
            )
        )
    return tuple(out)
