"""The ``logdoctor`` click group (every command module registers on :func:`main`).

Commands are thin wrappers over library calls. Errors a user can cause (a missing file, a bad
archive, a bad format folder, a bad option value) end in one line on stderr naming the file or
field and exit status 2, never a traceback. Set LOGDOCTOR_DEBUG=1 to see tracebacks.

The shared options live in :mod:`logdoctor.cli.options` and the typed loading helpers in
:mod:`logdoctor.cli.inputs`.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import click

from logdoctor import __version__

__all__ = ["COMMAND_MODULES", "main"]

COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "check": ("check",),
    "fleet": ("fleet",),
    "formats": ("logs", "formats"),
    "kinds": ("logs",),
    "parse": ("logs",),
    "report": ("report",),
    "rules": ("rules",),
    "serve": ("serve",),
    "service": ("service",),
    "simulate": ("simulate",),
    "stats": ("logs",),
    "tail": ("tail",),
    "timeline": ("timeline",),
}
"""Command -> the modules of :mod:`logdoctor.cli` that register it (and its subcommands):
a run imports only its command's modules."""


class _LazyGroup(click.Group):
    """A group that imports a command's modules when the command is looked up; listing the
    commands (``--help``, :attr:`commands`) imports them all."""

    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        """Every command (all command modules imported)."""
        for name in COMMAND_MODULES:
            _import(name)
        return self._commands

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        self._commands = value

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd`` (without importing the other command modules)."""
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._commands[name] = cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, its modules imported first."""
        _import(cmd_name)
        return self._commands.get(cmd_name)


def _import(command: str) -> None:
    import importlib

    for module in COMMAND_MODULES.get(command, ()):
        importlib.import_module(f"logdoctor.cli.{module}")


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="logdoctor")
def main() -> None:
    """Troubleshoot Cisco UCM OAuth / SSO refresh logins for Jabber from UCM's logs.

    Reads ssoApp.log, the ssosp log4j files and certMgmt*.log (files, folders, .gz files,
    RTMT-style zip / tar bundles with one folder per node).
    """
    from logdoctor.ingest import cacheswitch

    cacheswitch.set_enabled(True)  # commands keep parsed files (--no-cache: not)
