"""Diagnostic rules: ids ``LD`` + 3 digits, one module per category.

``run(Context(frame, stats, deployment))`` returns the findings; ``all_rules()`` lists the
rules; ``get_rule("LD101").doc`` is a rule's documentation page. Categories: 1xx
configuration (:mod:`.configuration`: servers around UCM; :mod:`.parameters`: UCM's own), 2xx
keys and certificates (:mod:`.keys`, SAML in :mod:`.saml`), 3xx users and tokens
(:mod:`.users`), 4xx clients (:mod:`.clients`), 9xx log health (:mod:`.loghealth`). The
deployment-file checks several rules share are in :mod:`.declared`.
"""

from __future__ import annotations

from logdoctor.rules.catalog import all_rules, get_rule
from logdoctor.rules.context import Context, Hit
from logdoctor.rules.engine import (
    EVIDENCE_CAP,
    RuleError,
    RuleFailure,
    run,
    run_rules,
    select_rules,
    sort_findings,
)
from logdoctor.rules.registry import Rule, RuleDoc, rule

__all__ = [
    "EVIDENCE_CAP",
    "Context",
    "Hit",
    "Rule",
    "RuleDoc",
    "RuleError",
    "RuleFailure",
    "all_rules",
    "get_rule",
    "rule",
    "run",
    "run_rules",
    "select_rules",
    "sort_findings",
]
