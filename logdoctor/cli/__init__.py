"""The ``logdoctor`` command line: the only package that prints or exits.

Commands are thin wrappers over library calls, one module per area (logs, report, service,
diagnose, tail, simulate, fleet) registered on one click group. Errors a user can cause (a
missing file, a bad archive, a bad format folder, a bad option value) end in one line on stderr
naming the file or field and exit status 2, never a traceback. LOGDOCTOR_DEBUG=1 shows
tracebacks.
"""

from __future__ import annotations

from logdoctor.cli import diagnose, fleet, formats, logs, report, service, simulate, tail
from logdoctor.cli._base import main
from logdoctor.cli.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CliError

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "CliError", "main"]

_COMMANDS = (
    diagnose,
    fleet,
    formats,
    logs,
    report,
    service,
    simulate,
    tail,
)  # imported to register
