"""logdoctor: troubleshoot Cisco UCM OAuth / SSO refresh logins for Jabber from UCM's logs.

``logdoctor.load(paths)`` parses ssoApp.log, ssosp log4j, certMgmt, CiscoSyslog and audit logs,
Jabber PRT logs and Expressway diagnostic logs (files, folders, gzip files, RTMT-style bundles)
into one event table::

    import logdoctor
    result = logdoctor.load("bundle.zip")
    result.events          # pandas DataFrame, columns in logdoctor.table.COLUMNS
    result.stats           # one ParseStats per file
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def __getattr__(name: str) -> object:
    # Imported lazily so that `import logdoctor` (and the CLI's --help) stays fast.
    if name == "load":
        from logdoctor.ingest.load import load

        return load
    raise AttributeError(name)
