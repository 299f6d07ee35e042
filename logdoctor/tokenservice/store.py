"""State in one SQLite file (WAL): deployment, keys, parameters, users, codes, refresh tokens,
failed-logon counts (the schema and the row values: :mod:`.records`).

Refresh tokens are kept as their SHA-256 (the 64-hex ``index`` the revoke API answers with),
never as tokens, with the hash of the authorization code they were issued for; authorization
codes likewise (``used``: 0 fresh, 1 exchanged, 2 presented again). Passwords are scrypt
hashes (:mod:`.passwords`). Columns added since schema version 1 are added to an older file when
it is opened (older logdoctor versions read such a file as before). Every change is one
transaction; with ``durable=True`` (the default) a commit is on disk before the call returns
(WAL + ``synchronous=FULL``), so a crash loses nothing acknowledged. A simulation that throws
its database away may pass ``durable=False``.

The file may be shared by several processes (``logdoctor serve`` and ``logdoctor service ...``
commands): :meth:`Store.data_version` changes when another connection commits, which tells a
long-running service to reload what it caches.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from logdoctor.tokenservice.cluster import Node
from logdoctor.tokenservice.records import (
    INDEXES,
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    CodeRow,
    FailureRow,
    RefreshRow,
    StoreError,
    User,
)
from logdoctor.ucm.topology import Role

__all__ = ["Store"]


def _failure(r: tuple[Any, ...]) -> FailureRow:
    until = None if r[5] is None else float(r[5])
    return FailureRow(str(r[0]), str(r[1]), int(r[2]), float(r[3]), bool(r[4]), until)


def _join(items: tuple[str, ...]) -> str:
    return "\n".join(items)


def _split(text: str) -> tuple[str, ...]:
    return tuple(x for x in text.split("\n") if x)


class Store:
    """The SQLite state of one data dir (thread-safe: one connection behind a lock)."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self.path = path
        self._lock = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        try:
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
            if new:
                os.chmod(path, 0o600)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
            self._migrate()
            version = self.meta("schema_version")
            if version is None:
                self.set_meta("schema_version", str(SCHEMA_VERSION))
            elif int(version) > SCHEMA_VERSION:
                raise StoreError(f"{path}: schema version {version} is newer than this logdoctor")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a logdoctor token-service database ({exc})") from None

    def _migrate(self) -> None:
        for table, column, decl in MIGRATIONS:
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        self._db.executescript(INDEXES)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
            return row

    def data_version(self) -> int:
        """Changes whenever another connection (another process) commits."""
        row = self._one("PRAGMA data_version")
        assert row is not None
        return int(row[0])

    # -- meta, clusters, nodes -------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A value of the meta table."""
        row = self._one("SELECT v FROM meta WHERE k = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the meta table."""
        with self.tx() as db:
            db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (key, value))

    def clusters(self) -> dict[str, tuple[str, str]]:
        """name -> (uuid, kind)."""
        return {r[0]: (r[1], r[2]) for r in self._all("SELECT name, uuid, kind FROM clusters")}

    def add_cluster(self, db: sqlite3.Connection, name: str, uuid: str, kind: str) -> None:
        """Insert a cluster (inside a transaction)."""
        db.execute("INSERT INTO clusters (name, uuid, kind) VALUES (?, ?, ?)", (name, uuid, kind))

    def nodes(self) -> list[Node]:
        """All nodes, in the order they were added."""
        rows = self._all(
            "SELECT name, role, cluster, clock_offset, trace_level FROM nodes ORDER BY seq"
        )
        return [Node(r[0], Role(r[1]), r[2], float(r[3]), r[4]) for r in rows]

    def add_node(self, db: sqlite3.Connection, node: Node) -> None:
        """Insert a node (inside a transaction)."""
        seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM nodes").fetchone()[0]
        db.execute(
            "INSERT INTO nodes (name, role, cluster, clock_offset, trace_level, seq) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (node.name, node.role.value, node.cluster, node.clock_offset, node.trace_level, seq),
        )

    def set_node_field(self, db: sqlite3.Connection, name: str, field: str, value: Any) -> None:
        """Update one column of a node (clock_offset or trace_level)."""
        if field not in ("clock_offset", "trace_level"):
            raise ValueError(field)
        db.execute(f"UPDATE nodes SET {field} = ? WHERE name = ?", (value, name))

    # -- keys ------------------------------------------------------------------------------------

    def add_key(
        self,
        db: sqlite3.Connection,
        cluster: str,
        use: str,
        version: int,
        material: bytes,
        checksum: str,
        created: float,
    ) -> None:
        """Store a key version (inside a transaction)."""
        db.execute(
            "INSERT INTO keys (cluster, use, version, material, checksum, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (cluster, use, version, material, checksum, created),
        )

    def key_versions(self) -> list[tuple[str, str, int, bytes]]:
        """(cluster, use, version, material) of every key version."""
        return [
            (r[0], r[1], int(r[2]), bytes(r[3]))
            for r in self._all("SELECT cluster, use, version, material FROM keys")
        ]

    def node_keys(self) -> dict[tuple[str, str], int]:
        """(node, use) -> version of the key copy the node stores."""
        return {(r[0], r[1]): int(r[2]) for r in self._all("SELECT * FROM node_keys")}

    def set_node_key(self, db: sqlite3.Connection, node: str, use: str, version: int) -> None:
        """Record the key version a node stores."""
        db.execute(
            "INSERT OR REPLACE INTO node_keys (node, use, version) VALUES (?, ?, ?)",
            (node, use, version),
        )

    def service_keys(self) -> dict[tuple[str, str, str], int]:
        """(node, service, use) -> version a running service has loaded."""
        return {(r[0], r[1], r[2]): int(r[3]) for r in self._all("SELECT * FROM service_keys")}

    def set_service_key(
        self, db: sqlite3.Connection, node: str, service: str, use: str, version: int
    ) -> None:
        """Record the key version a service loaded."""
        db.execute(
            "INSERT OR REPLACE INTO service_keys (node, service, use, version) VALUES (?, ?, ?, ?)",
            (node, service, use, version),
        )

    # -- parameters ------------------------------------------------------------------------------

    def params(self, cluster: str) -> dict[str, str]:
        """Stored parameter values of a cluster."""
        return {
            r[0]: r[1]
            for r in self._all("SELECT name, value FROM params WHERE cluster = ?", (cluster,))
        }

    def set_param(self, db: sqlite3.Connection, cluster: str, name: str, value: str) -> None:
        """Store a parameter value."""
        db.execute(
            "INSERT OR REPLACE INTO params (cluster, name, value) VALUES (?, ?, ?)",
            (cluster, name, value),
        )

    # -- users and clients -----------------------------------------------------------------------

    def users(self) -> dict[str, User]:
        """Every user by name."""
        rows = self._all("SELECT name, pw_hash, active, roles, groups, rank FROM users")
        return {
            r[0]: User(r[0], r[1], bool(r[2]), _split(r[3]), _split(r[4]), int(r[5])) for r in rows
        }

    def put_user(self, db: sqlite3.Connection, user: User, *, new: bool) -> None:
        """Insert (``new``) or replace a user."""
        verb = "INSERT" if new else "INSERT OR REPLACE"
        db.execute(
            f"{verb} INTO users (name, pw_hash, active, roles, groups, rank) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                user.name,
                user.pw_hash,
                int(user.active),
                _join(user.roles),
                _join(user.groups),
                user.rank,
            ),
        )

    def touch_client(self, db: sqlite3.Connection, client_id: str, t: float) -> None:
        """Remember a client id the first time it is seen."""
        db.execute(
            "INSERT OR IGNORE INTO clients (client_id, first_seen) VALUES (?, ?)", (client_id, t)
        )

    # -- authorization codes ---------------------------------------------------------------------

    def add_code(self, db: sqlite3.Connection, code_hash: str, row: CodeRow) -> None:
        """Store an authorization code by its hash."""
        db.execute(
            "INSERT INTO codes (code_hash, user, client_id, redirect_uri, device, expires, "
            "challenge, used, node) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (
                code_hash,
                row.user,
                row.client_id,
                row.redirect_uri,
                row.device,
                row.expires,
                row.challenge,
                row.node,
            ),
        )

    def take_code(self, db: sqlite3.Connection, code_hash: str) -> CodeRow | None:
        """The code's row (``used`` as it was) and mark it used (1), or reused (2) if it was
        used already; None if unknown."""
        r = db.execute(
            "SELECT user, client_id, redirect_uri, device, expires, challenge, used, node "
            "FROM codes WHERE code_hash = ?",
            (code_hash,),
        ).fetchone()
        if r is None:
            return None
        db.execute("UPDATE codes SET used = ? WHERE code_hash = ?", (2 if r[6] else 1, code_hash))
        return CodeRow(r[0], r[1], r[2], r[3], float(r[4]), r[5], bool(r[6]), r[7])

    def code_reused(self, db: sqlite3.Connection, code_hash: str) -> bool:
        """Whether a second use of the code has been seen (see :meth:`take_code`)."""
        r = db.execute("SELECT used FROM codes WHERE code_hash = ?", (code_hash,)).fetchone()
        return r is not None and int(r[0]) >= 2

    def delete_codes_before(self, db: sqlite3.Connection, t: float) -> None:
        """Forget codes that expired before ``t``."""
        db.execute("DELETE FROM codes WHERE expires < ?", (t,))

    # -- refresh tokens --------------------------------------------------------------------------

    _RCOLS = "idx, tid, user, client_id, device, issued, expires, state, cause"

    @staticmethod
    def _refresh(r: tuple[Any, ...]) -> RefreshRow:
        return RefreshRow(r[0], r[1], r[2], r[3], r[4], float(r[5]), float(r[6]), r[7], r[8])

    def add_refresh(self, db: sqlite3.Connection, row: RefreshRow) -> None:
        """Store a refresh token by its index (SHA-256 of the token)."""
        db.execute(
            "INSERT INTO refresh_tokens (idx, tid, user, client_id, device, issued, expires, "
            "state, code) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?)",
            (
                row.idx,
                row.tid,
                row.user,
                row.client_id,
                row.device,
                row.issued,
                row.expires,
                row.code,
            ),
        )

    def refresh_by_index(self, idx: str) -> RefreshRow | None:
        """The stored refresh token with this index."""
        r = self._one(f"SELECT {self._RCOLS} FROM refresh_tokens WHERE idx = ?", (idx,))
        return None if r is None else self._refresh(r)

    def revoke_refresh(
        self,
        db: sqlite3.Connection,
        t: float,
        cause: str,
        user: str | None = None,
        client_id: str | None = None,
        *,
        code: str | None = None,
    ) -> list[RefreshRow]:
        """Revoke active tokens (of ``user`` / ``client_id`` / issued for the authorization
        code with hash ``code``, or all); return them."""
        where, args = "state = 'active'", []
        if code is not None:
            where += " AND code = ?"
            args.append(code)
        if user is not None:
            where += " AND user = ?"
            args.append(user)
        if client_id is not None:
            where += " AND client_id = ?"
            args.append(client_id)
        rows = [
            self._refresh(r)
            for r in db.execute(
                f"SELECT {self._RCOLS} FROM refresh_tokens WHERE {where} ORDER BY issued, tid",
                tuple(args),
            ).fetchall()
        ]
        db.execute(
            f"UPDATE refresh_tokens SET state = 'revoked', revoked_at = ?, cause = ? WHERE {where}",
            (t, cause, *args),
        )
        return rows

    def add_revocation(
        self, db: sqlite3.Connection, t: float, admin: str, user: str, client_id: str, count: int
    ) -> None:
        """Record a call of the revoke API."""
        db.execute(
            "INSERT INTO revocations (time, admin, user, client_id, count, cause) "
            "VALUES (?, ?, ?, ?, ?, 'revoke_api')",
            (t, admin, user, client_id, count),
        )

    def purge_expired(self, db: sqlite3.Connection, t: float) -> int:
        """Delete refresh tokens that expired before ``t``; how many."""
        cur = db.execute("DELETE FROM refresh_tokens WHERE expires <= ?", (t,))
        return int(cur.rowcount)

    def refresh_count(self, state: str | None = None) -> int:
        """How many refresh tokens are stored (in ``state``, if given)."""
        if state is None:
            row = self._one("SELECT COUNT(*) FROM refresh_tokens")
        else:
            row = self._one("SELECT COUNT(*) FROM refresh_tokens WHERE state = ?", (state,))
        return 0 if row is None else int(row[0])

    # -- failed logons ---------------------------------------------------------------------------

    def failure(self, scope: str, key: str) -> FailureRow | None:
        """The failed-logon count of one account or address."""
        r = self._one(
            "SELECT scope, key, count, last, locked, until FROM logon_failures "
            "WHERE scope = ? AND key = ?",
            (scope, key),
        )
        return None if r is None else _failure(r)

    def failures(self) -> list[FailureRow]:
        """Every failed-logon count, locked ones first."""
        rows = self._all(
            "SELECT scope, key, count, last, locked, until FROM logon_failures "
            "ORDER BY locked DESC, scope, key"
        )
        return [_failure(r) for r in rows]

    def failure_in(self, db: sqlite3.Connection, scope: str, key: str) -> FailureRow | None:
        """:meth:`failure` inside a transaction (read, then write, atomically)."""
        r = db.execute(
            "SELECT scope, key, count, last, locked, until FROM logon_failures "
            "WHERE scope = ? AND key = ?",
            (scope, key),
        ).fetchone()
        return None if r is None else _failure(r)

    def put_failure(self, db: sqlite3.Connection, row: FailureRow) -> None:
        """Store a failed-logon count."""
        db.execute(
            "INSERT OR REPLACE INTO logon_failures (scope, key, count, last, locked, until) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (row.scope, row.key, row.count, row.last, int(row.locked), row.until),
        )

    def delete_failures(self, db: sqlite3.Connection, scope: str, key: str | None = None) -> int:
        """Forget the count of one account or address (every one of ``scope`` if no key)."""
        if key is None:
            cur = db.execute("DELETE FROM logon_failures WHERE scope = ?", (scope,))
        else:
            cur = db.execute("DELETE FROM logon_failures WHERE scope = ? AND key = ?", (scope, key))
        return int(cur.rowcount)

    def prune_failures(self, db: sqlite3.Connection, now: float, quiet_before: float) -> int:
        """Forget counts that are not locked (or whose lockout ended) and saw no failure since
        ``quiet_before``."""
        cur = db.execute(
            "DELETE FROM logon_failures WHERE (locked = 0 OR (until IS NOT NULL AND until <= ?)) "
            "AND last < ?",
            (now, quiet_before),
        )
        return int(cur.rowcount)

    # -- jobs ------------------------------------------------------------------------------------

    def job_last(self, name: str) -> float | None:
        """When a scheduled job last ran."""
        row = self._one("SELECT last_run FROM jobs WHERE name = ?", (name,))
        return None if row is None else float(row[0])

    def set_job(self, db: sqlite3.Connection, name: str, t: float) -> None:
        """Record a job run."""
        db.execute("INSERT OR REPLACE INTO jobs (name, last_run) VALUES (?, ?)", (name, t))
