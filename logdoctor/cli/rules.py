"""``rules``: the diagnostic rules, or one rule's documentation page."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import click

from logdoctor.cli._base import main
from logdoctor.cli.errors import CliError, handle_errors
from logdoctor.cli.inputs import write_document
from logdoctor.cli.options import color_option, format_option
from logdoctor.cli.term import terminal

if TYPE_CHECKING:
    from logdoctor.rules.registry import Rule

Bases = dict[str, dict[str, tuple[str, ...]]]
"""Per event kind, per log family, the bases of its patterns (``kind_bases``)."""


@main.command("rules")
@click.argument("rule_id", required=False, metavar="[ID]")
@format_option("listing", "table")
@color_option
@handle_errors
def rules_cmd(rule_id: str | None, out_format: str, color: str) -> None:
    """List the diagnostic rules with their basis, or print the documentation page of rule ID
    (its basis first: the weakest of the kinds it reads).

    A prefix (LD1, LD20) lists the rules it matches, as --select reads it.
    """
    from logdoctor.ingest.formats.catalog import kind_bases, load_formats
    from logdoctor.rules import all_rules, select_rules

    bases = kind_bases(load_formats())
    if rule_id is not None and re.fullmatch(r"(?i)\s*LD\d{3}\s*", rule_id):
        _rule_page(rule_id, out_format, bases)
        return
    rules = all_rules() if rule_id is None else select_rules([rule_id])
    if write_document("listing", out_format, lambda: [_rule_row(r, bases) for r in rules]):
        return
    from logdoctor.outputs.sheet import Column, Sheet

    sheet = Sheet(
        (
            Column("id"),
            Column("severity"),
            Column("category"),
            Column("basis"),
            Column("title", free=True),
        )
    )
    for r in rules:
        sheet.add(r.id, str(r.severity), r.category, _basis_value(r, bases) or "-", r.title)
    terminal(color).print_sheet(sheet)


def _rule_row(r: Rule, bases: Bases) -> dict[str, object]:
    """A rule in the listing's JSON."""
    return {
        "id": r.id,
        "severity": str(r.severity),
        "title": r.title,
        "category": r.category,
        "basis": _basis_value(r, bases),
    }


def _rule_page(rule_id: str, out_format: str, bases: Bases) -> None:
    """One rule's page: its JSON document, or its text (basis first)."""
    from logdoctor.outputs.terminal import plain_markup
    from logdoctor.rules import get_rule

    try:
        r = get_rule(rule_id)
    except KeyError as exc:
        raise CliError(str(exc.args[0])) from None

    def document() -> dict[str, object]:
        return _rule_row(r, bases) | {
            "kinds": [
                {"kind": k.kind, "family": k.family, "basis": k.basis.value}
                for k in r.kind_bases(bases)
            ],
            "sections": r.doc.sections,
            "fix": list(r.doc.fix),
            "references": list(r.doc.references),
        }

    if write_document("listing", out_format, document):
        return
    click.echo(f"{r.id} ({r.severity}, {r.category}): {r.title}\n")
    click.echo(_basis_page(r, bases) + "\n")
    click.echo(plain_markup(r.doc.text))


def _basis_value(r: Rule, bases: Bases) -> str | None:
    basis = r.basis(bases)
    return None if basis is None else basis.value


def _basis_page(r: Rule, bases: Bases) -> str:
    """The ``Basis:`` section of a rule's page: its basis and the kinds it reads, by basis."""
    from logdoctor.rules.registry import ANY_KIND

    if ANY_KIND in r.needs.kinds:
        return "Basis: none (it reads every record: the health of the logs themselves)"
    basis = r.basis(bases)
    lines = [
        f"Basis: {basis.value if basis is not None else 'none'} (the weakest basis of the "
        "kinds it reads)"
    ]
    by: dict[str, list[str]] = {}
    for k in r.kind_bases(bases):
        by.setdefault(k.basis.value, []).append(f"{k.kind} ({k.family})")
    for name in ("published", "documented", "modelled"):
        if name in by:
            lines.append(f"  {name}: {', '.join(by[name])}")
    lines.append(
        "  (published: a verbatim public Cisco line backs the form; documented: Cisco "
        "documents that the log records it, the wording is modelled; modelled: neither)"
    )
    return "\n".join(lines)
