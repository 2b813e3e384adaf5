"""Reads from a PostgreSQL hot standby (DATABASE_READ_URL), only when it is at the version this
process knows.

A GET whose data version the HTTP layer read (the primary's, from the listener) opens a session on
the standby and reads the version row there first: equal, the answer is the primary's at that
version (so the caches and ETags keyed by it stay right); lower (the standby lags) or higher (the
listener has not yet seen a commit the standby replayed), or any error or timeout, and the session
is closed and the request reads from the primary. A standby that failed is not tried again for
DOWN_SECONDS, so a dead one costs one request its timeout, not every request. A standby failing
under a read it was chosen for is marked down too, and that GET is run again on the primary
(app/http/edge/standby.py). Where the GETs read is counted (`ReplicaStats`, /metrics).
"""

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

DOWN_SECONDS = 2.0
VERSION_SQL = text("SELECT version FROM dataversion WHERE id = 1")
LAG_SQL = text(
    "SELECT (SELECT version FROM dataversion WHERE id = 1),"
    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), pg_is_wal_replay_paused()"
)


@dataclass
class ReplicaStats:
    """What the standby did for this process (for /readyz and tests)."""

    used: int = 0  # GETs that read from the standby
    lagging: int = 0  # from the primary: the standby was not at the version (behind, or ahead)
    failed: int = 0  # from the primary: the standby did not answer (and was marked down)
    down: int = 0  # from the primary: the standby was marked down by a failure before
    read_again: int = 0  # read from the standby, which failed under the read: read again from the primary
    last_version: int | None = None

    def counts(self) -> dict[str, float]:
        """Where the GETs read, by outcome (opstats_standby_reads_total in /metrics)."""
        return {
            "standby": self.used,
            "lagging": self.lagging,
            "failed": self.failed,
            "down": self.down,
            "read_again": self.read_again,
        }


class Replica:
    """The standby's engine, tried per GET, skipped while it is down."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.stats = ReplicaStats()
        self._lock = threading.Lock()
        self._down_until = 0.0

    def session_at(self, version: int) -> Session | None:
        """An open session on the standby when it has replayed exactly `version`, else None."""
        if time.monotonic() < self._down_until:
            self.stats.down += 1
            return None
        session = Session(self.engine)
        try:
            seen = session.execute(VERSION_SQL).scalar()
        except Exception:  # down, slow (statement timeout) or not there yet: read from the primary
            session.close()
            self.stats.failed += 1
            self._mark_down()
            return None
        self.stats.last_version = None if seen is None else int(seen)
        if seen != version:
            session.close()
            self.stats.lagging += 1
            return None
        self.stats.used += 1
        return session

    def failed_under_read(self, exc: DBAPIError) -> bool:
        """Whether `exc`, raised by a read on a session of the standby, is the standby failing (gone,
        past its statement timeout, a recovery conflict): then it is marked down, and the read is
        to be made again on the primary."""
        if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
            return False
        self.stats.read_again += 1
        self._mark_down()
        return True

    def _mark_down(self) -> None:
        """Skip the standby for a while; drop its pool, whose connections may be dead."""
        with self._lock:
            self._down_until = time.monotonic() + DOWN_SECONDS
        self.engine.dispose()

    def status(self, known: int | None) -> dict[str, Any]:
        """The standby's state and lag behind `known` (the primary's version), for /readyz."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(LAG_SQL).one()
        except Exception:
            self._mark_down()
            return {"state": "down"}
        version = None if row[0] is None else int(row[0])
        lag = None if known is None or version is None else max(0, known - version)
        return {
            "state": "paused" if row[2] else ("ready" if lag == 0 else "lagging"),
            "version": version,
            "lag_versions": lag,
            "replay_age_seconds": None if row[1] is None else round(float(row[1]), 3),
        }
