"""Failed-logon counting and lockouts, after UCM's credential policy.

UCM locks an account when its failed logons reach the policy's *Failed Logon* count (0 = no
limit), forgets the count after *Reset Failed Logon Attempts Every* minutes, and keeps the
account locked for *Lockout Duration* minutes (0: until an administrator unlocks it). The token
service applies that policy (the parameters ``failed_logon``, ``reset_failed_logon_minutes`` and
``lockout_duration_minutes``) to three kinds of keys:

``user``
    an end user at the authorization endpoint (any name tried, known or not, so a lockout
    tells nothing about which names exist);
``admin``
    the administrator name tried at the revoke API;
``address``
    the client address of either (logdoctor's own rule, ``failed_logon_per_address``: UCM
    counts per account only), so spraying one password over many names is cut off too.

The counts live in the data dir's database, so every ``serve`` worker and a restart see the same
lockouts, and ``logdoctor service lockouts`` lists and resets them. A locked key is refused
before its password is checked (no scrypt spent on it). The count starts again after
``reset_failed_logon_minutes`` without a failure, and when a lockout ends; a successful logon
clears its account's count (not its address's). Attempts on one name are checked one at a time
(:class:`OneAtATime`), so twenty guesses sent at once still lock the account after exactly
``failed_logon`` of them; attempts on different names run in parallel, so a client address can
overshoot its count by the attempts it has in flight.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from logdoctor.tokenservice.errors import OAuthError
from logdoctor.tokenservice.records import FailureRow
from logdoctor.tokenservice.store import Store

__all__ = ["SCOPES", "Key", "Lockout", "Lockouts", "OneAtATime", "Policy", "logon_keys"]

SCOPES = ("user", "admin", "address")
"""What a count is kept for: an end user, the revoke API's administrator, a client address."""

Key = tuple[str, str]
"""(scope, name or address)."""


@dataclass(frozen=True)
class Policy:
    """The credential policy in force (from the service's parameters)."""

    failed_logon: int
    """Failures that lock an account (user or admin); 0 = no limit."""
    per_address: int
    """Failures that lock a client address; 0 = no limit."""
    reset_seconds: float
    lockout_seconds: float | None
    """None: a lockout lasts until an administrator resets it."""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Policy:
        """The policy of the parameters ``failed_logon`` ... ``failed_logon_per_address``."""
        lockout = int(params["lockout_duration_minutes"]) * 60.0
        return cls(
            failed_logon=int(params["failed_logon"]),
            per_address=int(params["failed_logon_per_address"]),
            reset_seconds=int(params["reset_failed_logon_minutes"]) * 60.0,
            lockout_seconds=lockout or None,
        )

    def limit(self, scope: str) -> int:
        """Failures that lock a key of ``scope`` (0: that scope is not counted)."""
        return self.per_address if scope == "address" else self.failed_logon

    @property
    def lock_minutes(self) -> str:
        """How long a lockout lasts, for the log: minutes, or ``until_reset``."""
        if self.lockout_seconds is None:
            return "until_reset"
        return str(int(self.lockout_seconds // 60))


@dataclass(frozen=True)
class Lockout:
    """A key that is locked out."""

    scope: str
    key: str
    failures: int
    until: float | None
    """When it ends (None: until an administrator resets it)."""

    def retry_after(self, now: float) -> int | None:
        """Whole seconds until the lockout ends (None: not by itself)."""
        if self.until is None:
            return None
        return max(1, math.ceil(self.until - now))

    @property
    def reason(self) -> str:
        """The refusal's reason word: ``address_locked_out`` or ``locked_out``."""
        return "address_locked_out" if self.scope == "address" else "locked_out"

    def error(self, now: float) -> OAuthError:
        """The 429 refusal of a logon while this lockout lasts (with its ``Retry-After``)."""
        who = "this client address" if self.scope == "address" else "this account"
        retry = self.retry_after(now)
        when = f"retry in {retry} s" if retry is not None else "until an administrator resets it"
        return OAuthError(
            429,
            "access_denied",
            f"{who} is locked after {self.failures} failed logons ({when})",
            self.reason,
            retry_after=retry,
        )


def logon_keys(scope: str, name: str, address: str | None) -> tuple[Key, ...]:
    """What a logon's failure counts against: the name tried, and the client address if known."""
    return ((scope, name),) if address is None else ((scope, name), ("address", address))


def _locked(row: FailureRow | None, now: float) -> bool:
    return row is not None and row.locked and (row.until is None or row.until > now)


class Lockouts:
    """Reads and updates the failed-logon counts of a store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def blocking(
        self, now: float, policy: Policy, keys: Iterable[Key]
    ) -> tuple[Lockout | None, frozenset[Key]]:
        """The first of ``keys`` that is locked out now (scopes without a limit never are), and
        the keys read that have a count (a success must clear its account's)."""
        counted = set()
        for scope, key in keys:
            if not policy.limit(scope):
                continue
            row = self.store.failure(scope, key)
            if row is None:
                continue
            counted.add((scope, key))
            if _locked(row, now):
                return Lockout(scope, key, row.count, row.until), frozenset(counted)
        return None, frozenset(counted)

    def failed(
        self, db: sqlite3.Connection, now: float, policy: Policy, keys: Sequence[Key]
    ) -> list[Lockout]:
        """Count a failed logon against each key (inside a transaction); the keys it locks."""
        out: list[Lockout] = []
        for scope, key in keys:
            limit = policy.limit(scope)
            if not limit:
                continue
            row = self.store.failure_in(db, scope, key)
            if _locked(row, now):
                continue  # refused before its password was checked; nothing more to count
            fresh = row is None or row.locked or now - row.last >= policy.reset_seconds
            count = 1 if fresh or row is None else row.count + 1
            locked = count >= limit
            until = None
            if locked and policy.lockout_seconds is not None:
                until = now + policy.lockout_seconds
            self.store.put_failure(db, FailureRow(scope, key, count, now, locked, until))
            if locked:
                out.append(Lockout(scope, key, count, until))
        return out

    def succeeded(self, db: sqlite3.Connection, scope: str, key: str) -> None:
        """A successful logon clears the account's count."""
        self.store.delete_failures(db, scope, key)

    def prune(self, db: sqlite3.Connection, now: float, policy: Policy) -> int:
        """Forget counts that no longer matter (unlocked and quiet for the reset time)."""
        return self.store.prune_failures(db, now, now - policy.reset_seconds)

    def current(self, now: float, policy: Policy) -> list[tuple[FailureRow, bool]]:
        """The counts that still matter (locked out now, or a failure within the reset time),
        and whether each is locked out now."""
        out = []
        for row in self.store.failures():
            locked = _locked(row, now)
            if locked or (not row.locked and now - row.last < policy.reset_seconds):
                out.append((row, locked))
        return out


class OneAtATime:
    """One logon attempt per name at a time (threads with :meth:`hold`, asyncio tasks of one
    event loop with :meth:`hold_async`); entries exist only while an attempt holds or waits."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._threads: dict[str, tuple[threading.Lock, int]] = {}
        self._tasks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Wait for, then hold, the name (threads)."""
        with self._mutex:
            lock, n = self._threads.get(name) or (threading.Lock(), 0)
            self._threads[name] = (lock, n + 1)
        try:
            with lock:
                yield
        finally:
            with self._mutex:
                lock, n = self._threads[name]
                if n == 1:
                    del self._threads[name]
                else:
                    self._threads[name] = (lock, n - 1)

    @asynccontextmanager
    async def hold_async(self, name: str) -> AsyncIterator[None]:
        """Wait for, then hold, the name (tasks of one event loop)."""
        lock, n = self._tasks.get(name) or (asyncio.Lock(), 0)
        self._tasks[name] = (lock, n + 1)
        try:
            async with lock:
                yield
        finally:
            lock, n = self._tasks[name]
            if n == 1:
                del self._tasks[name]
            else:
                self._tasks[name] = (lock, n - 1)
