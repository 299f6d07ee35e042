"""The ``logdoctor`` click group (every command module registers on :func:`main`).

Commands are thin wrappers over library calls. Errors a user can cause (a missing file, a bad
archive, a bad format folder, a bad option value) end in one line on stderr naming the file or
field and exit status 2, never a traceback. Set LOGDOCTOR_DEBUG=1 to see tracebacks.

The shared options live in :mod:`logdoctor.cli.options` and the typed loading helpers in
:mod:`logdoctor.cli.inputs`.
"""

from __future__ import annotations

import click

from logdoctor import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="logdoctor")
def main() -> None:
    """Troubleshoot Cisco UCM OAuth / SSO refresh logins for Jabber from UCM's logs.

    Reads ssoApp.log, the ssosp log4j files and certMgmt*.log (files, folders, .gz files,
    RTMT-style zip / tar bundles with one folder per node).
    """
    from logdoctor.ingest import cacheswitch

    cacheswitch.set_enabled(True)  # commands keep parsed files (--no-cache: not)
