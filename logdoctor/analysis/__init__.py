"""The event table to facts, each computed once and read by the rules, the report, the tail
and the fleet alike: time order (:mod:`.events`), lineage and enrichment (:mod:`.lineage`),
sessions and timelines (:mod:`.sessions`), clock skew (:mod:`.skew`), coverage and gaps
(:mod:`.coverage`), key failures (:mod:`.keys`), configuration inference (:mod:`.inference`),
shapes of unrecognized lines (:mod:`.shapes`, :mod:`.suggest`), evidence excerpts
(:mod:`.evidence`) and pivots between outputs (:mod:`.pivots`).

Knows nothing of rules, reports or the CLI.
"""
