"""The ``logdoctor`` click group (every command module registers on :func:`main`).

Commands are thin wrappers over library calls. Errors a user can cause (a missing file, a bad
archive, a bad format folder, a bad option value) end in one line on stderr naming the file or
field and exit status 2, never a traceback. Set LOGDOCTOR_DEBUG=1 to see tracebacks.

The shared options live in :mod:`logdoctor.cli.options` and the typed loading helpers in
:mod:`logdoctor.cli.inputs`; the names re-exported below are their old homes, kept for the
branches of this session only.
"""

from __future__ import annotations

import click

from logdoctor import __version__
from logdoctor.cli.errors import F
from logdoctor.cli.inputs import binary_out as _binary_out
from logdoctor.cli.inputs import not_in_logs as _not_in_logs
from logdoctor.cli.inputs import report_check_errors as _report_check_errors
from logdoctor.cli.inputs import report_input_errors as _report_input_errors
from logdoctor.cli.inputs import report_unread as _report_unread
from logdoctor.cli.inputs import require_log_files as _require_log_files
from logdoctor.cli.options import (
    formats_dir_option,
    input_options,
    no_cache_option,
    partial_options,
    set_node_option,
    tz_option,
)
from logdoctor.cli.options import rule_ids as _ids

__all__ = [
    "F",
    "_binary_out",
    "_ids",
    "_not_in_logs",
    "_report_check_errors",
    "_report_input_errors",
    "_report_unread",
    "_require_log_files",
    "formats_dir_option",
    "input_options",
    "main",
    "no_cache_option",
    "partial_options",
    "set_node_option",
    "tz_option",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="logdoctor")
def main() -> None:
    """Troubleshoot Cisco UCM OAuth / SSO refresh logins for Jabber from UCM's logs.

    Reads ssoApp.log, the ssosp log4j files and certMgmt*.log (files, folders, .gz files,
    RTMT-style zip / tar bundles with one folder per node).
    """
    from logdoctor.ingest import cacheswitch

    cacheswitch.set_enabled(True)  # commands keep parsed files (--no-cache: not)
