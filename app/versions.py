"""The data version, read in microseconds: what every conditional GET and cached body is keyed by.

A `VersionSource` answers `peek()` without a session or a network round trip when it can, and
`read()` (blocking: a query) when it cannot; the HTTP layer calls `read()` in a worker thread only
when `peek()` returns None.

- SQLite: `PRAGMA data_version` on one kept connection changes whenever any other connection, in
  any process, commits; only then is the version row read again (a few microseconds otherwise).
- PostgreSQL: a kept connection LISTENs on `opstats_data_version`, which a trigger NOTIFYs with
  the new version at every bump's commit (migration 9a4f1c2e7b60); `peek()` drains the socket
  without blocking. While the listener is down `peek()` says None (every GET then reads the
  version row through a session, as before) and one background thread reconnects, LISTENing
  before it reads the version so no bump is missed in between.
- Anything else (tests' own session scopes): `QueryVersion`, a query per request.
Folding in another part of the validator (e.g. a database epoch) is a wrapper around `peek/read`.
"""

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.engine import make_url

CHANNEL = "opstats_data_version"
VERSION_SQL = "SELECT version FROM dataversion WHERE id = 1"
RETRY_SECONDS = 1.0
LISTENER_NAME = "opstats-version-listener"


class VersionSource(Protocol):
    """Where the HTTP layer gets the data version."""

    def peek(self) -> int | None:
        """The current version without blocking I/O, or None when it must be read with `read()`."""

    def read(self) -> int:
        """The current version, by a query if need be (blocking: call it off the event loop)."""


class QueryVersion:
    """A version read by a query every time (the fallback, and tests' own session scopes)."""

    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read

    def peek(self) -> int | None:
        return None

    def read(self) -> int:
        return self._read()


class SqliteVersion:
    """PRAGMA data_version on a kept connection: the version row is re-read only after a commit."""

    def __init__(self, path: str, fallback: Callable[[], int]) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._fallback = fallback
        self._lock = threading.Lock()
        self._seen: int | None = None
        self._version = 0

    def peek(self) -> int | None:
        with self._lock:
            try:
                changed = self._conn.execute("PRAGMA data_version").fetchone()[0]
                if changed != self._seen:  # read after the pragma: a commit in between is seen next time
                    row = self._conn.execute(VERSION_SQL).fetchone()
                    self._version, self._seen = int(row[0] if row else 0), changed
            except sqlite3.Error:  # e.g. busy or not migrated yet: let the caller read it the slow way
                self._seen = None
                return None
            return self._version

    def read(self) -> int:
        peeked = self.peek()
        return peeked if peeked is not None else self._fallback()

    def close(self) -> None:
        self._conn.close()


class PostgresVersion:
    """LISTEN/NOTIFY on a kept connection, drained without blocking; a session query while it is down."""

    def __init__(self, conninfo: str, fallback: Callable[[], int]) -> None:
        self._conninfo, self._fallback = conninfo, fallback
        self._lock = threading.Lock()
        self._conn: Any = None
        self._version = 0
        self._reconnecting = False
        if not self._connect():
            with self._lock:
                self._drop()

    def _connect(self) -> bool:
        """LISTEN first, then read the version: a bump committed in between arrives as a notification."""
        import psycopg

        try:
            conn = psycopg.connect(
                self._conninfo, autocommit=True, connect_timeout=5, application_name=LISTENER_NAME
            )
            conn.execute(f"LISTEN {CHANNEL}")
            row = conn.execute(VERSION_SQL).fetchone()
        except psycopg.Error:
            return False
        with self._lock:
            self._conn, self._version = conn, int(row[0] if row else 0)
        return True

    def _drop(self) -> None:
        """Forget a broken listener (lock held) and reconnect in the background."""
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                conn.close()
        except Exception:  # already broken: nothing more to release
            pass
        if not self._reconnecting:
            self._reconnecting = True
            threading.Thread(target=self._reconnect, name=LISTENER_NAME, daemon=True).start()

    def _reconnect(self) -> None:
        while not self._connect():
            time.sleep(RETRY_SECONDS)
        self._reconnecting = False

    def peek(self) -> int | None:
        with self._lock:
            if self._conn is None:
                return None
            pgconn = self._conn.pgconn
            try:
                pgconn.consume_input()
                while (note := pgconn.notifies()) is not None:
                    self._version = int(note.extra)
            except Exception:  # the server went away: fall back until the listener is back
                self._drop()
                return None
            if pgconn.status != 0:  # CONNECTION_OK
                self._drop()
                return None
            return self._version

    def read(self) -> int:
        peeked = self.peek()
        return peeked if peeked is not None else self._fallback()

    @property
    def listening(self) -> bool:
        """True while notifications are being received (for health checks and tests)."""
        return self._conn is not None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def version_source(url: str, fallback: Callable[[], int]) -> VersionSource:
    """The cheapest version source for a database URL (`fallback` reads it through a session)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return SqliteVersion(parsed.database or "", fallback)
    if parsed.get_backend_name() == "postgresql":
        conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresVersion(conninfo, fallback)
    return QueryVersion(fallback)
