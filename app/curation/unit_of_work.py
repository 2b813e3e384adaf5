"""One audited unit of work per write: its rows, their audit entries and one data-version bump, or nothing.

A unit of work runs inside a `WriteContext` (app/writes.py), which the caller passes: the context
holds the write lock and the one instant every row, revision and audit entry is stamped with; the
unit of work commits it when it ends, unless the HTTP edge commits it with the request's answer.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, update
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, SQLModel

from app.domain.scopes import changes_content
from app.models import AuditLog, DataVersion
from app.writes import WriteContext

M = TypeVar("M", bound=SQLModel)
STAMPS = ("created_at", "updated_at")  # set on every new row to the write's instant


def bump_data_version(*, session: Session, at: datetime, content: bool = True) -> int:
    """Mark that the data changed (and the content too, unless `content` is False) at `at`, the
    write's instant; runs inside the write's transaction, which holds the version row's lock."""
    table = version_table()
    new = table.c.version + 1
    bumped = session.execute(
        update(table)
        .where(table.c.id == 1)
        .values(
            version=new,
            content_version=new if content else table.c.content_version,
            updated_at=at,
        )
        .returning(table.c.version)
    )
    return int(bumped.scalar_one())


def version_table() -> Table:
    """The data version's table, for Core statements (the ORM's bulk update would look for session
    objects to synchronise on every write)."""
    table: Table = DataVersion.__table__  # type: ignore[attr-defined]
    return table


class UnitOfWork:
    """What one write does: rows added or locked, and the audit entries that say why."""

    def __init__(self, write: WriteContext) -> None:
        self.write, self.session, self.actor = write, write.session, write.actor
        self.entries: list[AuditLog] = []
        self.hooks: list[Callable[[UnitOfWork], None]] = []
        self.stamped: list[Callable[[UnitOfWork], None]] = []
        self.added: list[SQLModel] = []

    @property
    def instant(self) -> datetime:
        """The one instant this write is stamped with (rows, revisions, audit entries, Last-Modified)."""
        return self.write.instant

    def at_end(self, hook: Callable[["UnitOfWork"], None]) -> None:
        """Run `hook` last, after the version bump, when every row of the write is known."""
        self.stamped.append(hook)

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
        """Stage a row stamped with the write's instant and flush it, so its id and constraints are
        known now."""
        if not sa_inspect(row).has_identity:  # a new row: made at the write's instant
            for stamp in STAMPS:
                if hasattr(row, stamp):
                    setattr(row, stamp, self.instant)
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
        """One audit entry of this write: who, what, before, after and why (inserted at its end)."""
        entry = AuditLog(
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            reason=reason,
            at=self.instant,
        )
        self.entries.append(entry)
        return entry


@contextmanager
def unit_of_work(write: WriteContext, *, versioned: bool = True) -> Iterator[UnitOfWork]:
    """Run one write: one version bump when it recorded anything; committed when it ends (or by the
    HTTP edge with the answer), rolled back whole on any error.

    `versioned=False` is for audited writes that change no published data (API keys)."""
    write.lock()
    try:
        uow = UnitOfWork(write)
        yield uow
        uow.run_hooks()
        finish(uow, versioned=versioned)
    except BaseException:
        if not write.edge_commits:
            write.rollback()
        raise
    if not write.edge_commits:
        write.commit()


def finish(uow: UnitOfWork, *, versioned: bool = True) -> None:
    """Bump the version, then run the last hooks and insert the audit entries: all of the write
    carries its one instant."""
    session, write = uow.session, uow.write
    content = changes_content((e.action, e.entity) for e in uow.entries)
    if uow.entries and versioned:
        write.version = bump_data_version(session=session, content=content, at=uow.instant)
    for hook in uow.stamped:
        hook(uow)
    for entry in uow.entries:
        entry.version = write.version
    session.add_all(uow.entries)
    session.flush()
