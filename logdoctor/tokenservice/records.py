"""What the token service's database holds: its schema, and the rows read from it.

The schema is one SQLite script (every table ``IF NOT EXISTS``, so opening an older file adds
what it lacks); columns added after schema version 1 first shipped are listed in
:data:`MIGRATIONS` and added to an older file by :class:`~logdoctor.tokenservice.store.Store`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "INDEXES",
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "CodeRow",
    "FailureRow",
    "RefreshRow",
    "StoreError",
    "User",
]

SCHEMA_VERSION = 1
"""The version a new file is written with; a file of a newer one is refused."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clusters (
  name TEXT PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, cluster TEXT NOT NULL,
  clock_offset REAL NOT NULL DEFAULT 0, trace_level TEXT NOT NULL DEFAULT 'info',
  seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
  cluster TEXT NOT NULL, use TEXT NOT NULL, version INTEGER NOT NULL, material BLOB NOT NULL,
  checksum TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (cluster, use, version));
CREATE TABLE IF NOT EXISTS node_keys (
  node TEXT NOT NULL, use TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (node, use));
CREATE TABLE IF NOT EXISTS service_keys (
  node TEXT NOT NULL, service TEXT NOT NULL, use TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (node, service, use));
CREATE TABLE IF NOT EXISTS params (
  cluster TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (cluster, name));
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, pw_hash TEXT NOT NULL, active INTEGER NOT NULL, roles TEXT NOT NULL,
  groups TEXT NOT NULL, rank INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, first_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
  code_hash TEXT PRIMARY KEY, user TEXT NOT NULL, client_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL, device TEXT NOT NULL, expires REAL NOT NULL,
  challenge TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0, node TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  idx TEXT PRIMARY KEY, tid TEXT NOT NULL UNIQUE, user TEXT NOT NULL, client_id TEXT NOT NULL,
  device TEXT NOT NULL, issued REAL NOT NULL, expires REAL NOT NULL, state TEXT NOT NULL,
  revoked_at REAL, cause TEXT, code TEXT);
CREATE INDEX IF NOT EXISTS refresh_user ON refresh_tokens (user, client_id);
CREATE INDEX IF NOT EXISTS refresh_expires ON refresh_tokens (expires);
CREATE TABLE IF NOT EXISTS revocations (
  id INTEGER PRIMARY KEY, time REAL NOT NULL, admin TEXT NOT NULL, user TEXT NOT NULL,
  client_id TEXT NOT NULL, count INTEGER NOT NULL, cause TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, last_run REAL NOT NULL);
CREATE TABLE IF NOT EXISTS logon_failures (
  scope TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL, last REAL NOT NULL,
  locked INTEGER NOT NULL DEFAULT 0, until REAL, PRIMARY KEY (scope, key));
"""
"""The tables and indexes of schema version 1."""

MIGRATIONS = (("refresh_tokens", "code", "TEXT"),)
"""(table, column, its definition) of each column added after schema version 1 first shipped."""
INDEXES = "CREATE INDEX IF NOT EXISTS refresh_code ON refresh_tokens (code);"
"""Indexes on migrated columns (made once the columns exist)."""


class StoreError(ValueError):
    """The data dir's database cannot be used (not ours, newer schema, locked too long)."""


@dataclass(frozen=True)
class User:
    """An end user of the directory."""

    name: str
    pw_hash: str
    active: bool
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    rank: int


@dataclass(frozen=True)
class CodeRow:
    """A stored authorization code (by hash)."""

    user: str
    client_id: str
    redirect_uri: str
    device: str
    expires: float
    challenge: str
    used: bool
    node: str


@dataclass(frozen=True)
class RefreshRow:
    """A stored refresh token (by hash: ``idx``)."""

    idx: str
    tid: str
    user: str
    client_id: str
    device: str
    issued: float
    expires: float
    state: str
    cause: str | None
    code: str | None = None
    """Hash of the authorization code the token was issued for (None: not from a code)."""


@dataclass(frozen=True)
class FailureRow:
    """Failed logons counted for one account or client address."""

    scope: str
    key: str
    count: int
    last: float
    locked: bool
    until: float | None
    """End of the lockout (None while ``locked``: until an administrator resets it)."""
