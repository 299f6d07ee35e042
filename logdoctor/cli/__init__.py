"""The ``logdoctor`` command line: the only package that prints or exits.

Commands are thin wrappers over library calls, one module per area (check, rules, timeline,
logs, report, service, tail, simulate, fleet) registered on one click group; the options they
share and their ``--format`` choices come from :mod:`logdoctor.cli.options` (the writers from
:data:`logdoctor.outputs.WRITERS`). Errors a user can cause (a
missing file, a bad archive, a bad format folder, a bad option value) end in one line on stderr
naming the file or field and exit status 2, never a traceback. LOGDOCTOR_DEBUG=1 shows
tracebacks.
"""

from __future__ import annotations

# Each command module registers its commands on `main` when imported; `main` imports a
# command's modules when the command runs (logdoctor.cli._base.COMMAND_MODULES).
from logdoctor.cli import allocator
from logdoctor.cli._base import main
from logdoctor.cli.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CliError

allocator.configure()  # polars is not imported yet: its allocator starts with these options

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "CliError", "main"]
