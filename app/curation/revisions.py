"""Result revisions: every state a result had, with the instants it stood, so `at=` answers exactly."""

from sqlmodel import Session, col, select

from app.curation.unit_of_work import UnitOfWork
from app.models import Result, ResultRevision

COPIED = tuple(c.name for c in Result.__table__.columns if c.name != "id")  # type: ignore[attr-defined]


def open_revision(session: Session, result_id: str) -> ResultRevision | None:
    """The revision of a result that stands now (valid_to null)."""
    stmt = select(ResultRevision).where(
        ResultRevision.result_id == result_id, col(ResultRevision.valid_to).is_(None)
    )
    return session.exec(stmt).first()


def write_revision(uow: UnitOfWork, result: Result) -> None:
    """Close the standing revision and open the result's current state, both at the write's instant."""
    stamp = uow.instant
    current = open_revision(uow.session, result.id)
    if current is not None and current.revision == result.revision:
        return
    if current is not None:
        current.valid_to = stamp
        uow.session.add(current)
    fields = {name: getattr(result, name) for name in COPIED}
    uow.session.add(ResultRevision(result_id=result.id, valid_from=stamp, valid_to=None, **fields))


def track(uow: UnitOfWork, result: Result) -> None:
    """Record the result's state as it is when the write ends (once per result and write)."""
    uow.at_end(lambda u: write_revision(u, result))
