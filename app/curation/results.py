"""Curator writes of results: one transaction each (row, audit entry, data version), all or nothing."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlmodel import Session, SQLModel

from app.curation.audit import history
from app.curation.result_rows import create_result, retract_result, update_result
from app.curation.verify import CheckedFigure, FigureRejected, check_figure
from app.http.etags import etag_matches, result_etag
from app.http.problems import ProblemError
from app.models import Result, Source
from app.schemas.results import HistoryEntry, ResultBase, ResultCreate, ResultUpdate

M = TypeVar("M", bound=SQLModel)


def lock_for_write(session: Session) -> None:
    """On SQLite take the write lock first (BEGIN IMMEDIATE): writers queue instead of failing 'locked'."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw: Any = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write is one transaction: committed once at the end, rolled back entirely on any error."""
    try:
        lock_for_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def locked(session: Session, model: type[M], key: Any) -> M | None:
    """A row read fresh inside the write transaction (and locked on PostgreSQL)."""
    return session.get(model, key, with_for_update=True, populate_existing=True)


def figure_problem(exc: FigureRejected) -> ProblemError:
    """The 422 answer to a figure that does not check out, naming the field."""
    return ProblemError(
        422,
        f"The figure does not check out: {exc.field} {exc.message}.",
        code="figure-rejected",
        field=exc.field,
    )


def invalid_problem(exc: ValidationError) -> ProblemError:
    """The 422 answer to a merged draft that is not a valid figure (e.g. a required field set to null)."""
    errors = [{"name": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
    names = ", ".join(sorted({e["name"] for e in errors}))
    return ProblemError(422, f"Invalid input: {names}.", code="invalid-input", errors=errors)


def checked_figure(
    *, session: Session, draft: ResultBase, source: Source, occurrence: int | None = None
) -> CheckedFigure:
    """check_figure with its refusal turned into the 422 problem."""
    try:
        return check_figure(session=session, draft=draft, source=source, occurrence=occurrence)
    except FigureRejected as exc:
        raise figure_problem(exc) from exc


def result_not_found(result_id: str) -> ProblemError:
    """The 404 for an unknown result id."""
    return ProblemError(404, f"No result {result_id!r}.", code="result-not-found")


def add_result(*, session: Session, data: ResultCreate, actor: str) -> Result:
    """A new result straight from a curator, verified like a seed entry."""
    with write_transaction(session):
        source = session.get(Source, data.source_id)
        if source is None:
            raise ProblemError(
                422, f"No source {data.source_id}.", code="source-not-found", field="source_id"
            )
        checked = checked_figure(session=session, draft=data, source=source)
        return create_result(session=session, checked=checked, actor=actor)


def patch_result(
    *, session: Session, result_id: str, changes: ResultUpdate, if_match: str | None, actor: str
) -> Result:
    """Correct a result when the client saw its current state (If-Match); re-verified, audited."""
    if not if_match:
        raise ProblemError(
            428, "A PATCH needs If-Match with the result's current ETag.", code="precondition-required"
        )
    with write_transaction(session):
        row = locked(session, Result, result_id)
        if row is None:
            raise result_not_found(result_id)
        if not etag_matches(if_match, result_etag(row)):
            raise ProblemError(
                412, "The result changed since you read it; GET it again.", code="precondition-failed"
            )
        try:
            return update_result(session=session, result=row, changes=changes, actor=actor)
        except FigureRejected as exc:
            raise figure_problem(exc) from exc
        except ValidationError as exc:
            raise invalid_problem(exc) from exc


def retract(*, session: Session, result_id: str, reason: str, actor: str) -> Result:
    """Hide a result from lists and totals; it stays readable and is never deleted."""
    with write_transaction(session):
        row = locked(session, Result, result_id)
        if row is None:
            raise result_not_found(result_id)
        return retract_result(session=session, result=row, actor=actor, reason=reason)


def result_history(*, session: Session, result_id: str) -> list[HistoryEntry]:
    """Every recorded change of a result, oldest first."""
    if session.get(Result, result_id) is None:
        raise result_not_found(result_id)
    return [
        HistoryEntry(at=e.at, actor=e.actor, action=e.action, reason=e.reason, before=e.before, after=e.after)
        for e in history(session=session, entity="result", entity_id=result_id)
    ]
