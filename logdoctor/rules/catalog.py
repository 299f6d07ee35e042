"""The catalog of rules: importing it imports every category module, whose ``@rule``
decorators register their rules (:mod:`.registry`); :func:`all_rules` and :func:`get_rule`
read the whole set. The one place that knows the categories (the registry imports none of
them, so nothing circles back to it).
"""

from __future__ import annotations

from logdoctor.rules import clients, configuration, keys, loghealth, parameters, saml, users
from logdoctor.rules.registry import Rule, registered

__all__ = ["CATEGORY_MODULES", "all_rules", "get_rule"]

CATEGORY_MODULES = (configuration, parameters, keys, saml, users, clients, loghealth)
"""The category modules, in id order (1xx configuration and parameters ... 9xx log health)."""


def all_rules() -> list[Rule]:
    """Every registered rule, by id."""
    rules = registered()
    return [rules[k] for k in sorted(rules)]


def get_rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError (naming the known ids) if none."""
    rules = registered()
    key = rule_id.strip().upper()
    if key not in rules:
        raise KeyError(f"{rule_id!r} is not a rule id (see `logdoctor rules`)")
    return rules[key]
