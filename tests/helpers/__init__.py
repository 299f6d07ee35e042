"""Helpers shared by the test packages, imported one way: ``from tests.helpers.<module> import``
(never a bare ``from casegen import``, never from another test module).

- :mod:`tests.helpers.lines`: the one line builder (UCM log lines through the built-in
  formats' templates, :func:`logdoctor.ingest.formats.encoders.family`), RTMT paths, ids;
- :mod:`tests.helpers.bundle`: a bundle built line by line, one method per event;
- :mod:`tests.helpers.traffic`: simulated Jabber clients on such a bundle (the rule cases);
- :mod:`tests.helpers.report`: the report tests' bundles (normal, hostile, busy, stray);
- :mod:`tests.helpers.fleet`: fleet bundles laid out from the rule cases;
- :mod:`tests.helpers.simulate`: loading a simulator bundle and each scenario's tell-tales;
- :mod:`tests.helpers.tokenservice`: token-service constants and a real HTTP server.
"""
