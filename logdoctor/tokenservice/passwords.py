"""Password checks: the same scrypt for every failure, off the event loop, at low priority.

A wrong password costs one scrypt whoever the user is: a known user's stored hash, or for a name
that does not exist a dummy hash made with the cost the stored users have, so the time of an
answer does not tell which names exist. Only a *correct* password can be cheaper: a verified
(user, password) is remembered as an HMAC under a per-process key (the repeated logins of a
simulation, or of a Jabber that signs in again, cost one HMAC), and the stored hash must still
be the one it was verified against.

The HTTP layer checks passwords with :meth:`PasswordChecker.check_async`: scrypt runs in a small
pool of its own threads (never the event loop's, never while the service lock is held), at most
two at once (one on a single core), at a lowered CPU priority (``nice`` +10 on Linux, where a
thread has its own), so a storm of logins slows logins and not the refresh grants and
validations the event loop serves. When more than ``max_waiting`` checks are queued the check
is refused at once (:class:`Busy`, answered 503) rather than queued without bound. In-process
callers (simulations, the CLI) use :meth:`PasswordChecker.check` in their own thread.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

__all__ = [
    "Busy",
    "Check",
    "PasswordChecker",
    "hash_password",
    "typical_cost",
    "verify_password",
]

DEFAULT_COST = 1 << 14
_DUMMY_PASSWORD = "logdoctor-dummy"
_NICE = 10


def hash_password(password: str, *, n: int = 1 << 14, salt: bytes | None = None) -> str:
    """An scrypt hash, self-describing: ``scrypt$n$r$p$salt$hash`` (base64)."""
    salt = salt if salt is not None else os.urandom(16)
    r, p = 8, 1
    dk = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(dk).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Check ``password`` against an scrypt hash in constant time."""
    try:
        scheme, n, r, p, salt, dk = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(dk)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


class Busy(Exception):
    """Too many password checks are waiting already; the caller should retry later."""


@dataclass(frozen=True)
class Check:
    """One password to check: what to compare it with, taken while the service lock was held."""

    user: str | None
    """The user's name, or None when no such user exists."""
    stored: str = field(repr=False)
    """The user's scrypt hash, or a dummy hash of the same cost."""
    password: str = field(repr=False)


def _cost(pw_hash: str) -> int | None:
    parts = pw_hash.split("$")
    if len(parts) == 6 and parts[0] == "scrypt" and parts[1].isdigit():
        return int(parts[1])
    return None


def typical_cost(hashes: Iterable[str], default: int = DEFAULT_COST) -> int:
    """The scrypt cost (N) most stored hashes use: what an unknown user's check must cost."""
    counts = Counter(c for c in map(_cost, hashes) if c is not None)
    return counts.most_common(1)[0][0] if counts else default


def _lower_priority() -> None:
    # On Linux setpriority(PRIO_PROCESS, tid) renices this thread only; elsewhere it would
    # renice a process, so leave the priority alone there.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICE)


class PasswordChecker:
    """Checks passwords against scrypt hashes at equal cost (see the module docstring)."""

    def __init__(self, *, workers: int | None = None, max_waiting: int = 256) -> None:
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self.max_waiting = max_waiting
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, tuple[str, bytes]] = {}
        self._dummies: dict[int, str] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._waiting = 0

    # -- preparing -------------------------------------------------------------------------------

    def dummy(self, cost: int) -> str:
        """A hash no password matches in practice, of scrypt cost ``cost`` (made once)."""
        with self._lock:
            found = self._dummies.get(cost)
        if found is None:
            found = hash_password(_DUMMY_PASSWORD, n=cost, salt=b"\0" * 16)
            with self._lock:
                self._dummies[cost] = found
        return found

    def prepare(self, user: str | None, stored: str | None, password: str, cost: int) -> Check:
        """The check of ``password`` for ``user`` (its hash ``stored``), or, for a name that does
        not exist (``stored`` None), against a dummy hash of cost ``cost``."""
        if stored is None:
            return Check(None, self.dummy(cost), password)
        return Check(user, stored, password)

    # -- checking --------------------------------------------------------------------------------

    def _mac(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode("utf-8", "surrogatepass"), "sha256").digest()

    def _remembered(self, c: Check) -> bool:
        if c.user is None:
            return False
        with self._lock:
            hit = self._verified.get(c.user)
        if hit is None or hit[0] != c.stored:
            return False
        return hmac.compare_digest(hit[1], self._mac(c.password))

    def _scrypt(self, c: Check) -> bool:
        ok = verify_password(c.password, c.stored)  # always: the same cost for any name
        if not ok or c.user is None:
            return False
        with self._lock:
            self._verified[c.user] = (c.stored, self._mac(c.password))
        return True

    def check(self, c: Check) -> bool:
        """Check in the calling thread."""
        return self._remembered(c) or self._scrypt(c)

    async def check_async(self, c: Check) -> bool:
        """Check without blocking the event loop (scrypt in the checker's own threads).

        Raises :class:`Busy` when ``max_waiting`` checks are queued already.
        """
        if self._remembered(c):
            return True
        with self._lock:
            if self._waiting >= self.max_waiting:
                raise Busy(f"{self._waiting} password checks are waiting")
            self._waiting += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.workers, thread_name_prefix="password-check", initializer=_lower_priority
                )
            pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, self._scrypt, c)
        finally:
            with self._lock:
                self._waiting -= 1

    @property
    def waiting(self) -> int:
        """Asynchronous checks queued or running now."""
        with self._lock:
            return self._waiting

    def close(self) -> None:
        """Stop the threads (after the checks already started)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
