"""How UCM names its log files when it rotates them, and how other writers do.

UCM's log4j appenders number their files (``ssosp00012.log``, ``certMgmt00003.log``; an RTMT
download may compress them, ``.gz``); logrotate-style writers add a suffix (``x.log.1``, the
older file has the higher number). Coverage (a missing rotated file is a gap) and the live tail
(which file came before which) read names through this module.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

__all__ = [
    "NUMBERED",
    "SUFFIXED",
    "UCM_DIGITS",
    "numbered_name",
    "rotated_number",
    "suffix_number",
    "suffix_rank",
    "suffixed_name",
]

NUMBERED = re.compile(r"^(?P<stem>[A-Za-z]+)(?P<num>\d{3,})(?P<ext>\.log)(?:\.gz|\.bz2|\.xz)?$")
"""A rotated UCM log name: letters, a zero-padded number, .log (ssosp00012.log)."""

SUFFIXED = re.compile(r"\.(\d+)$")
"""A rotation suffix: ``x.log.1``."""

UCM_DIGITS = 5
"""Digits of the number UCM's log4j appenders give a file (``ssosp00012.log``)."""


def numbered_name(stem: str, n: int) -> str:
    """The name UCM gives file ``n`` of a numbered log: ``numbered_name("ssosp", 12)`` ->
    ``ssosp00012.log``."""
    return f"{stem}{n:0{UCM_DIGITS}d}.log"


def suffixed_name(name: str, n: int) -> str:
    """The name of rotated file ``n`` of a suffix-rotated log: ``ssoApp.log.2``."""
    return f"{name}.{n}"


def rotated_number(file: str) -> tuple[str, int | None, int]:
    """(stem, rotation number, digits) of a file's name (archive members as ``a.zip!m``):
    ssosp00012.log -> (ssosp, 12, 5); a name that is not numbered -> (name, None, 0)."""
    name = PurePosixPath(file.split("!")[-1].replace("\\", "/")).name
    m = NUMBERED.match(name)
    if m is None:
        return name, None, 0
    return m.group("stem"), int(m.group("num")), len(m.group("num"))


def suffix_rank(path: str) -> int:
    """Sort key of a logrotate-suffixed name: ``x.log`` 0, ``x.log.1`` -1, ``x.log.2`` -2."""
    m = SUFFIXED.search(path)
    return -int(m.group(1)) if m else 0


def suffix_number(file: str, base: str) -> int | None:
    """``n`` when ``file`` is rotated file ``n`` of the suffix-rotated log ``base``
    (``ssoApp.log.2`` of ``ssoApp.log`` -> 2), else None."""
    if not file.startswith(base + "."):
        return None
    m = SUFFIXED.search(file)
    if m is None or m.start() != len(base):
        return None
    return int(m.group(1))
