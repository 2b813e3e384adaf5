"""One audited unit of work per write: its rows, their audit entries and one data-version bump, or nothing."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import Session, SQLModel

from app.db import write_transaction
from app.models import AuditLog, DataVersion
from app.models.tables import utcnow

M = TypeVar("M", bound=SQLModel)


def bump_data_version(*, session: Session) -> None:
    """Mark that the data changed; runs inside the write's own transaction."""
    session.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)  # type: ignore[arg-type]
        .values(version=DataVersion.version + 1, updated_at=utcnow())
    )


class UnitOfWork:
    """What one write does: rows added or locked, and the audit entries that say why."""

    def __init__(self, session: Session, actor: str) -> None:
        self.session, self.actor = session, actor
        self.entries: list[AuditLog] = []
        self.hooks: list[Callable[[UnitOfWork], None]] = []

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
        self.session.add(row)
        self.session.flush()
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
        """One audit entry of this write: who, what, before, after and why."""
        entry = AuditLog(
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            reason=reason,
        )
        self.session.add(entry)
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
        if uow.entries and versioned:
            bump_data_version(session=session)
