"""Errors of the command line: exit codes, :class:`CliError`, :func:`fail`, :func:`warn` and
:func:`handle_errors`, which turns every error a user can cause into one line on stderr and
exit status 2 (never a traceback; LOGDOCTOR_DEBUG=1 shows them). The lowest module of
``cli/``: the shared options (:mod:`.options`) and the commands stand on it.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An error to report as one line and exit status ``code`` (2: bad usage or input; 1:
    nothing matched, as ``grep``)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``logdoctor: error: message`` to stderr and exit ``code`` (2 by default)."""
    click.echo(f"logdoctor: error: {one_line(message)}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    """Print ``logdoctor: warning: message`` to stderr."""
    click.echo(f"logdoctor: warning: {one_line(message)}", err=True)


def one_line(message: str) -> str:
    """A message on one line (newlines and runs of blanks become one space)."""
    return " ".join(str(message).split())


def console(stream: IO[str] | None = None) -> Console:
    """A rich console for ``stream`` (stdout by default), coloured when it is a terminal."""
    from logdoctor.cli.term import terminal

    return terminal("auto", stream).console()


def broken_pipe(exc: BaseException) -> bool:
    """True for a write to a reader that left (also as polars reports it)."""
    if isinstance(exc, BrokenPipeError):
        return True
    return isinstance(exc, OSError) and (
        exc.errno == errno.EPIPE or "Broken pipe" in str(exc) or "os error 32" in str(exc)
    )


def handle_errors(fn: F) -> F:
    """Turn library errors into one line on stderr and exit 2 (LOGDOCTOR_DEBUG=1: traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from logdoctor.ingest.formats.types import FormatError
        from logdoctor.ingest.inputs import SourceError

        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except CliError as exc:
            if os.environ.get("LOGDOCTOR_DEBUG"):
                raise
            fail(str(exc), exc.code)
        except (FormatError, SourceError, ValueError) as exc:
            if os.environ.get("LOGDOCTOR_DEBUG"):
                raise
            fail(str(exc))
        except OSError as exc:
            if broken_pipe(exc):
                # `logdoctor parse ... | head`: the reader left; that is not an error.
                from logdoctor.cli.term import quiet_exit

                quiet_exit()
            if os.environ.get("LOGDOCTOR_DEBUG"):
                raise
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            fail(f"{where}{exc.strerror or exc}")
        except KeyboardInterrupt:
            click.echo("logdoctor: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # the last resort: still one line, with a way to see more
            if os.environ.get("LOGDOCTOR_DEBUG"):
                raise
            fail(
                f"internal error: {type(exc).__name__}: {exc} (LOGDOCTOR_DEBUG=1 shows the "
                "traceback; please report it)"
            )

    return wrapper  # type: ignore[return-value]
