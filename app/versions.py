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
  before it reads the version so no bump is missed in between. A lost listener also means the
  server went away (a restart): `on_lost` replaces the app's pool, whose connections went with it,
  so no request meets a dead one (the pool pings none: app/db.py).
- Anything else (tests' own session scopes): `QueryVersion`, a query per request.
What is read is the `DataState`: the database epoch (new whenever the database is made anew), the
data version, the time of the write that set it (Last-Modified, and as the instant itself) and the
content version (the version of the last write that changed more than the source registry), in one
query of two rows. The instant says which `at=` answers are settled (`settled`).
"""

import select
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy.engine import make_url

CHANNEL = "opstats_data_version"
STATE_SQL = (
    "SELECT e.epoch, v.version, v.updated_at, v.content_version"
    " FROM dataversion v, databaseepoch e WHERE v.id = 1 AND e.id = 1"
)


class DataState(NamedTuple):
    """What every conditional GET is keyed by: epoch and version (or the content version: the
    version of the last write that changed more than the source registry); and when the data last
    changed."""

    epoch: str
    version: int
    modified: str  # an HTTP date
    content: int = 0
    instant: datetime | None = None  # the instant the last committed write is stamped with


EMPTY = DataState("", 0, "")


def stamp_of(value: Any) -> datetime | None:
    """A stored timestamp (a datetime, or SQLite's text) as an aware UTC datetime (UTC when naive)."""
    if value is None:
        return None
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def http_date(value: Any) -> str:
    """An HTTP date of a stored timestamp (a datetime, or SQLite's text), taken as UTC when naive."""
    at = stamp_of(value)
    return "" if at is None else format_datetime(at, usegmt=True)


def state_of(row: Any) -> DataState:
    """The state a STATE_SQL row says (EMPTY before the schema exists)."""
    if not row:
        return EMPTY
    return DataState(str(row[0]), int(row[1]), http_date(row[2]), int(row[3]), stamp_of(row[2]))


def settled(state: DataState, at: datetime, bound: float, now: datetime | None = None) -> bool:
    """True when every write stamped at or before `at` has committed, so an answer as of `at` never
    changes: `at` is at or before the last committed write's instant (writes are stamped under the
    write lock, so in commit order), or more than `bound` seconds past (no write holds the lock,
    stamped but uncommitted, that long)."""
    if state.instant is not None and at <= state.instant:
        return True
    return at < (now or datetime.now(UTC)) - timedelta(seconds=bound)


RETRY_SECONDS = 1.0
LISTENER_NAME = "opstats-version-listener"
ANNOUNCE_SECONDS = 1.0  # how long a write's answer waits at most for its bump's notification


class VersionSource(Protocol):
    """Where the HTTP layer gets the data version."""

    def peek(self) -> DataState | None:
        """The current version without blocking I/O, or None when it must be read with `read()`."""

    def read(self) -> DataState:
        """The current version, by a query if need be (blocking: call it off the event loop)."""

    def wait_for(self, version: int) -> bool:
        """Block until `version` (just committed) is what `peek()` sees; False if it may not be."""


class QueryVersion:
    """A version read by a query every time (the fallback, and tests' own session scopes)."""

    def __init__(self, read: Callable[[], DataState]) -> None:
        self._read = read

    def peek(self) -> DataState | None:
        return None

    def read(self) -> DataState:
        return self._read()

    def wait_for(self, _version: int) -> bool:
        """Nothing to wait for: every read queries the version."""
        return True


class SqliteVersion:
    """PRAGMA data_version on a kept connection: the version row is re-read only after a commit."""

    def __init__(self, path: str, fallback: Callable[[], DataState]) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._fallback = fallback
        self._lock = threading.Lock()
        self._seen: int | None = None
        self._state = EMPTY

    def peek(self) -> DataState | None:
        with self._lock:
            try:
                changed = self._conn.execute("PRAGMA data_version").fetchone()[0]
                if changed != self._seen:  # read after the pragma: a commit in between is seen next time
                    self._state = state_of(self._conn.execute(STATE_SQL).fetchone())
                    self._seen = changed
            except sqlite3.Error:  # e.g. busy or not migrated yet: let the caller read it the slow way
                self._seen = None
                return None
            return self._state

    def read(self) -> DataState:
        peeked = self.peek()
        return peeked if peeked is not None else self._fallback()

    def wait_for(self, _version: int) -> bool:
        """Nothing to wait for: the next `PRAGMA data_version` sees any commit."""
        return True

    def close(self) -> None:
        self._conn.close()


class PostgresVersion:
    """LISTEN/NOTIFY on a kept connection, drained without blocking; a session query while it is down."""

    def __init__(
        self, conninfo: str, fallback: Callable[[], DataState], on_lost: Callable[[], object] | None = None
    ) -> None:
        self._conninfo, self._fallback, self._on_lost = conninfo, fallback, on_lost
        self._lock = threading.Lock()
        self._conn: Any = None
        self._state = EMPTY
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
            state = state_of(conn.execute(STATE_SQL).fetchone())
        except psycopg.Error:
            return False
        with self._lock:
            self._conn, self._state = conn, state
        return True

    def _drop(self) -> None:
        """Forget a broken listener (lock held), say so (`on_lost`: the app's pool, whose connections
        went with it, is replaced) and reconnect in the background."""
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                conn.close()
        except Exception:  # already broken: nothing more to release
            pass
        if conn is not None and self._on_lost is not None:
            self._on_lost()
        if not self._reconnecting:
            self._reconnecting = True
            threading.Thread(target=self._reconnect, name=LISTENER_NAME, daemon=True).start()

    def _reconnect(self) -> None:
        while not self._connect():
            time.sleep(RETRY_SECONDS)
        self._reconnecting = False

    def peek(self) -> DataState | None:
        with self._lock:
            if self._conn is None:
                return None
            pgconn = self._conn.pgconn
            try:
                pgconn.consume_input()
                notified = False
                while pgconn.notifies() is not None:
                    notified = True
                if notified:  # a bump committed: read the state it left (once for a burst)
                    self._state = state_of(self._conn.execute(STATE_SQL).fetchone())
                else:  # a server going away sends FATAL, then closes: libpq marks the
                    pgconn.consume_input()  # connection bad only when a read meets the end
            except Exception:  # the server went away: fall back until the listener is back
                self._drop()
                return None
            if pgconn.status != 0:  # CONNECTION_OK
                self._drop()
                return None
            return self._state

    def read(self) -> DataState:
        peeked = self.peek()
        return peeked if peeked is not None else self._fallback()

    def wait_for(self, version: int) -> bool:
        """Block (a write's thread, after its commit) until this listener has the notification of
        `version`, for at most ANNOUNCE_SECONDS. PostgreSQL signals every listening session when
        the commit happens, and each sends its notification when it next runs; the write answers
        only once this one has, so a GET sent after the answer, through any worker, finds it on
        its listener's socket (rather than racing a listener the scheduler has not run yet)."""
        deadline = time.monotonic() + ANNOUNCE_SECONDS
        while (state := self.peek()) is not None and state.version < version:
            with self._lock:
                fd = self._conn.pgconn.socket if self._conn is not None else None
            remaining = deadline - time.monotonic()
            if fd is None or remaining <= 0:
                return False
            select.select([fd], [], [], min(remaining, 0.05))
        return state is not None

    @property
    def listening(self) -> bool:
        """True while notifications are being received (for health checks and tests)."""
        return self._conn is not None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def version_source(
    url: str, fallback: Callable[[], DataState], on_lost: Callable[[], object] | None = None
) -> VersionSource:
    """The cheapest version source for a database URL (`fallback` reads it through a session;
    `on_lost` is called when PostgreSQL's listener finds the server gone)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return SqliteVersion(parsed.database or "", fallback)
    if parsed.get_backend_name() == "postgresql":
        conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresVersion(conninfo, fallback, on_lost)
    return QueryVersion(fallback)
