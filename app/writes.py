"""The one write context: what a write shares from its first statement to its one commit.

A write — an HTTP request, a CLI command, the seed loader — gets one `WriteContext` and passes it
explicitly to the unit of work and the curation code. It holds the session and the actor, takes the
write lock visibly (`lock`), fixes the one instant every row, revision and audit entry of the write
is stamped with (`instant`, read once the lock is held, so instants are in commit order), keeps the
steps to run just before the commit (the idempotency record, ...) and the data version the write
set, and has the one `commit(answer)`.

Who commits is part of the context, not a flag on the session: the HTTP edge makes contexts with
`edge_commits=True` (the request's answer is rendered, stored on its idempotency record and
committed with its rows), everything else with False (the unit of work commits when it ends).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app.models import ApiKey
from app.models.tables import utcnow

Step = Callable[[Any], None]  # run on the write's rendered answer (None outside HTTP) before the commit
VERSION_LOCK = "SELECT version FROM dataversion WHERE id = 1 FOR UPDATE"


def lock_for_write(session: Session) -> None:
    """Take the write lock: SQLite's BEGIN IMMEDIATE (writers queue in a bounded busy wait instead of
    failing 'locked'); PostgreSQL's lock on the data version row, which every write that publishes
    takes anyway, here first, so writes are serialised from their first row and their instants are
    in commit order."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        conn.execute(text(VERSION_LOCK))
        return
    raw: Any = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(eq=False)
class WriteContext:
    """One write: its session, actor, lock, instant, before-commit steps and the version it set."""

    session: Session
    actor: str = "anonymous"
    edge_commits: bool = False  # True: the HTTP edge commits with the answer; False: the unit of work
    before_lock: Callable[[], None] | None = None  # what must hold before the first statement (a slot)
    keys: dict[str, ApiKey | None] = field(default_factory=dict)  # keys this write has looked up
    locked: bool = False
    version: int | None = None  # the data version this write set: announced once committed
    closed: bool = False
    _instant: datetime | None = None
    _steps: list[Step] = field(default_factory=list)
    _on_lock: list[Callable[[], None]] = field(default_factory=list)

    def lock(self) -> None:
        """Take the write lock, once, before the write's first statement; then run what must be
        checked under it (`when_locked`: the idempotency claim)."""
        if self.locked:
            return
        if self.before_lock is not None:
            self.before_lock()
        lock_for_write(self.session)
        self.locked = True
        steps, self._on_lock = self._on_lock, []
        for step in steps:
            step()

    def when_locked(self, step: Callable[[], None]) -> None:
        """Run `step` as soon as the write lock is held, in the hop that takes it (before any other
        statement of the write), so work done before the lock (a page fetch) is re-checked under it."""
        self._on_lock.append(step)

    @property
    def instant(self) -> datetime:
        """The one instant this write is stamped with, read once the write lock is held."""
        if self._instant is None:
            self.lock()
            self._instant = utcnow()
        return self._instant

    def before_commit(self, step: Step) -> None:
        """Run `step` on the answer just before the commit, in the commit's own thread hop."""
        self._steps.append(step)

    def commit(self, answer: object = None) -> int | None:
        """Run the before-commit steps on `answer`, commit, and say which data version to announce;
        the lock is given back, so a context outside HTTP can run its next write."""
        version, steps = self.version, self._steps
        self._reset()
        try:
            for step in steps:
                step(answer)
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
        return version

    def rollback(self) -> None:
        """Undo everything this write did."""
        self._reset()
        self.session.rollback()

    def _reset(self) -> None:
        self.closed, self.locked, self.version, self._instant = True, False, None, None
        self._steps, self._on_lock = [], []
