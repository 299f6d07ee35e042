"""How UCM names its log files when it rotates them, and how other writers do.

UCM's log4j appenders number their files (``ssosp00012.log``, ``certMgmt00003.log``; an RTMT
download may compress them, ``.gz``); logrotate-style writers add a suffix (``x.log.1``, the
older file has the higher number). Coverage (a missing rotated file is a gap) and the live tail
(which file came before which) read names through this module.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

__all__ = ["NUMBERED", "SUFFIXED", "rotated_number", "suffix_rank"]

NUMBERED = re.compile(r"^(?P<stem>[A-Za-z]+)(?P<num>\d{3,})(?P<ext>\.log)(?:\.gz|\.bz2|\.xz)?$")
"""A rotated UCM log name: letters, a zero-padded number, .log (ssosp00012.log)."""

SUFFIXED = re.compile(r"\.(\d+)$")
"""A rotation suffix: ``x.log.1``."""


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
