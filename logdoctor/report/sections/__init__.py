"""The report's sections, one module each, built from the values they need.

Every function here turns analysis values (findings, correlation, per-file statistics,
aggregates) into the views of :mod:`logdoctor.report.model`; every string taken from a log or
a finding goes through :func:`~logdoctor.report.text.neutral` on the way. ``build_report``
(:mod:`logdoctor.report.build`) calls them in turn.

- :mod:`.rows`: paths as shown and one evidence line (shared by the sections);
- :mod:`.findings`: finding views, their groups, configuration facts;
- :mod:`.verdict`: the headline and what keeps it from covering everything;
- :mod:`.coverage`: per-file coverage, gaps, strays;
- :mod:`.activity`: the chart, its markers, the users table;
- :mod:`.shapes`: shapes of unrecognized lines.
"""
