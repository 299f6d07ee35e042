"""logdoctor: troubleshoot Cisco UCM OAuth / SSO refresh logins for Jabber from UCM's logs.

The public API is this module's namespace (everything else may move between releases)::

    import logdoctor
    result = logdoctor.load("bundle.zip")  # LoadResult
    result.events          # pandas DataFrame, columns in logdoctor.table.COLUMNS
    result.stats           # one ParseStats per file
    report = logdoctor.check(["bundle.zip"], config="deployment.toml")  # CheckReport
    report.status, report.exit_code
    for f in report.findings:  # Finding: rule, severity, title, message, evidence, fix
        print(f.rule, f.severity, f.title)

``load`` parses ssoApp.log, ssosp log4j, certMgmt, CiscoSyslog and audit logs, Jabber PRT logs
and Expressway diagnostic logs (files, folders, gzip files, RTMT-style bundles) into one event
table; ``check`` runs the diagnostic rules on logs and / or a deployment file. The names are
imported lazily, so ``import logdoctor`` (and the CLI's ``--help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["CheckReport", "Finding", "LoadResult", "__version__", "check", "load"]

if TYPE_CHECKING:
    from logdoctor.ingest.load import LoadResult, load
    from logdoctor.model import Finding
    from logdoctor.pipeline import check
    from logdoctor.verdict import CheckReport

_LAZY = {
    "load": ("logdoctor.ingest.load", "load"),
    "LoadResult": ("logdoctor.ingest.load", "LoadResult"),
    "check": ("logdoctor.pipeline", "check"),
    "CheckReport": ("logdoctor.verdict", "CheckReport"),
    "Finding": ("logdoctor.model", "Finding"),
}


def __getattr__(name: str) -> object:
    """The public names, imported on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'logdoctor' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy public ones included."""
    return sorted({*globals(), *__all__})
