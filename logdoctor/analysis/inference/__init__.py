"""The deployment as the logs show it, with the lines each fact came from.

Where no deployment file is given, rules work from what the logs prove: refresh tokens were
issued, so the refresh login flow is on; an authorize request was refused with
``implicit_disabled``, so the implicit grant is off; ``via=expc1`` names an Expressway. Each
inferred :class:`Fact` keeps the log lines it rests on, so a report can show *why* logdoctor
believes it. :func:`compare` lists where a declared file and the logs disagree.

Assumption: one telephony cluster's logs at a time (its publisher, subscribers and local IM
and Presence nodes, possibly with other clusters' nodes that only validate tokens).

The inference is split by subject: :mod:`.roles`, :mod:`.parameters`, :mod:`.keys`,
:mod:`.clients` (Expressways, Jabber, trace); :mod:`.fact` holds the values and
:mod:`.compare` the comparison with a deployment file.
"""

from __future__ import annotations

import polars as pl

from logdoctor.analysis.events import Events
from logdoctor.analysis.inference.clients import expressways, jabber, trace
from logdoctor.analysis.inference.compare import Disagreement, compare, logs_cluster
from logdoctor.analysis.inference.fact import FACT_EVIDENCE, Fact, Inferred, texts_from
from logdoctor.analysis.inference.keys import keys
from logdoctor.analysis.inference.parameters import parameters
from logdoctor.analysis.inference.roles import name_role, roles

__all__ = [
    "FACT_EVIDENCE",
    "Disagreement",
    "Fact",
    "Inferred",
    "compare",
    "infer",
    "logs_cluster",
    "name_role",
]


def infer(events: Events | pl.DataFrame) -> Inferred:
    """Infer the deployment from an event table."""
    ev = events if isinstance(events, Events) else Events(events)
    facts: list[Fact] = []
    with texts_from(ev.messages):
        found, role_facts, publisher = roles(ev)
        facts.extend(role_facts)
        facts.extend(parameters(ev))
        node_keys, key_facts = keys(ev, found, publisher)
        facts.extend(key_facts)
        facts.extend(expressways(ev, found))
        facts.extend(jabber(ev))
        facts.extend(trace(ev))
    return Inferred(facts=tuple(facts), roles=found, publisher=publisher, node_keys=node_keys)
