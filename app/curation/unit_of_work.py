"""One audited unit of work per write: its rows, their audit entries and one data-version bump, or nothing."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, update
from sqlmodel import Session, SQLModel

from app.db import BUMPED, write_transaction
from app.domain.scopes import changes_content
from app.models import AuditLog, DataVersion, OperationSource, Phase, PhaseSource, Source
from app.models.tables import utcnow

M = TypeVar("M", bound=SQLModel)
STAMPED = (Source, Phase, PhaseSource, OperationSource)


def bump_data_version(*, session: Session, content: bool = True, at: datetime | None = None) -> int:
    """Mark that the data changed (and the content too, unless `content` is False) at `at` (default
    now); runs inside the write's transaction and holds the version row's lock until the commit, so
    writes are stamped (commit_time) in the order they commit."""
    table = version_table()
    new = table.c.version + 1
    bumped = session.execute(
        update(table)
        .where(table.c.id == 1)
        .values(
            version=new,
            content_version=new if content else table.c.content_version,
            updated_at=at or utcnow(),
        )
        .returning(table.c.version)
    )
    version = int(bumped.scalar_one())
    session.info[BUMPED] = version  # announced to readers after the commit (app/http/edge/writes.py)
    return version


def stamp_data_version(*, session: Session, at: datetime) -> None:
    """The time of the write that set the version (Last-Modified): its commit time."""
    table = version_table()
    session.execute(update(table).where(table.c.id == 1).values(updated_at=at))


def version_table() -> Table:
    """The data version's table, for Core statements (the ORM's bulk update would look for session
    objects to synchronise on every write)."""
    table: Table = DataVersion.__table__  # type: ignore[attr-defined]
    return table


class UnitOfWork:
    """What one write does: rows added or locked, and the audit entries that say why."""

    def __init__(self, session: Session, actor: str) -> None:
        self.session, self.actor = session, actor
        self.entries: list[AuditLog] = []
        self.hooks: list[Callable[[UnitOfWork], None]] = []
        self.stamped: list[Callable[[UnitOfWork], None]] = []
        self.added: list[SQLModel] = []
        # SQLite: the write lock is held since BEGIN IMMEDIATE, so this instant is in commit order
        # already and rows are inserted stamped; PostgreSQL: stamped once the version lock is held
        self._stamp: datetime | None = utcnow() if session.get_bind().dialect.name == "sqlite" else None

    def at_commit_time(self, hook: Callable[["UnitOfWork"], None]) -> None:
        """Run `hook` last, once the write holds the version lock and commit_time() is its commit's."""
        self.stamped.append(hook)

    def commit_time(self) -> datetime:
        """The one instant this write is stamped with (revisions, audit entries, Last-Modified)."""
        if self._stamp is None:
            self._stamp = utcnow()
        return self._stamp

    def before_commit(self, hook: Callable[["UnitOfWork"], None]) -> None:
        """Run `hook` inside this write's transaction, after its rows and before the commit."""
        self.hooks.append(hook)

    def run_hooks(self) -> None:
        """Flush the write's rows, then run its before-commit hooks (once each) and flush what they did."""
        self.session.flush()
        hooks, self.hooks = self.hooks, []
        for hook in hooks:
            hook(self)
        self.session.flush()

    def locked(self, model: type[M], key: Any) -> M | None:
        """A row read fresh inside the write (and locked on PostgreSQL)."""
        return self.session.get(model, key, with_for_update=True, populate_existing=True)

    def add(self, row: M) -> M:
        """Stage a row and flush it, so its id and constraints are known now."""
        if self._stamp is not None and isinstance(row, STAMPED):
            row.created_at = self._stamp
        self.session.add(row)
        self.session.flush()
        self.added.append(row)
        return row

    def record(
        self,
        action: str,
        entity: str,
        entity_id: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> AuditLog:
        """One audit entry of this write: who, what, before, after and why (inserted once stamped)."""
        entry = AuditLog(
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            reason=reason,
        )
        self.entries.append(entry)
        return entry


@contextmanager
def unit_of_work(session: Session, actor: str, *, versioned: bool = True) -> Iterator[UnitOfWork]:
    """Run one write: committed with one version bump when it recorded anything, else rolled back whole.

    `versioned=False` is for audited writes that change no published data (API keys)."""
    with write_transaction(session):
        uow = UnitOfWork(session, actor)
        yield uow
        uow.run_hooks()
        finish_stamped(uow, versioned=versioned)


def finish_stamped(uow: UnitOfWork, *, versioned: bool = True) -> None:
    """Bump the version (taking its lock), then stamp the write: its revisions, audit entries and
    Last-Modified all carry the one commit time, in commit order."""
    session = uow.session
    early = uow._stamp  # known before the bump (SQLite): the bump stamps Last-Modified too
    content = changes_content((e.action, e.entity) for e in uow.entries)
    bump = bool(uow.entries) and versioned
    version = bump_data_version(session=session, content=content, at=early) if bump else None
    stamp = uow.commit_time()
    for hook in uow.stamped:
        hook(uow)
    for row in uow.added:  # what `at=` filters by creation time appears when the write commits
        if isinstance(row, STAMPED) and row.created_at != stamp:
            row.created_at = stamp
    for entry in uow.entries:
        entry.at, entry.version = stamp, version
    session.add_all(uow.entries)
    if version is not None and early is None:
        stamp_data_version(session=session, at=stamp)
    session.flush()
