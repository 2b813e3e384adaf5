"""What changed: the audit trail of one entity, oldest first, and the data version every write bumps."""

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.domain.citations import CitedFigure
from app.domain.errors import NotFound
from app.models import AuditLog, Metric, Result
from app.read.asof import PRESENT, Snapshot
from app.schemas.results import HistoryEntry
from app.versions import STATE_SQL, DataState, state_of


def read_data_version(*, session: Session) -> int:
    """The current data version: a primary-key lookup of one row, never a scan."""
    value = session.execute(text("SELECT version FROM dataversion WHERE id = 1")).scalar()
    return int(value or 0)


def read_data_state(*, session: Session) -> DataState:
    """The database epoch, data version and time of the last write: one query of two single-row tables."""
    return state_of(session.execute(text(STATE_SQL)).first())


def read_epoch(*, session: Session) -> str:
    """The database epoch (a random id made with the schema; new after a reset)."""
    value = session.execute(text("SELECT epoch FROM databaseepoch WHERE id = 1")).scalar()
    return str(value or "")


def history(*, session: Session, entity: str, entity_id: str) -> list[AuditLog]:
    """Every change of one entity, oldest first (an indexed range, not a scan)."""
    stmt = (
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
        .order_by(col(AuditLog.id))
    )
    return list(session.exec(stmt))


def result_history(*, session: Session, result_id: str) -> list[HistoryEntry]:
    """Every recorded change of a result, oldest first; NotFound for an unknown id."""
    if session.get(Result, result_id) is None:
        raise NotFound(f"No result {result_id!r}.", code="result-not-found")
    return [
        HistoryEntry(at=e.at, actor=e.actor, action=e.action, reason=e.reason, before=e.before, after=e.after)
        for e in history(session=session, entity="result", entity_id=result_id)
    ]


def cited_figure(
    *, session: Session, row: Result, url: str, at: datetime, snap: Snapshot = PRESENT
) -> CitedFigure:
    """What a citation of a result states: the figure, its source document and its permanent URL."""
    s = snap.source
    source = session.exec(select(s).where(col(s.id) == row.source_id)).first()
    metric = session.get(Metric, row.metric_slug)
    assert source is not None and metric is not None  # foreign keys
    return CitedFigure(
        result_id=row.id,
        revision=row.revision,
        metric_label=metric.label,
        operation=row.operation_slug,
        phase=row.phase_slug,
        number_text=row.number_text,
        unit=row.unit,
        qualifier=row.qualifier,
        as_of=row.as_of,
        quote=row.quote,
        source_title=source.title,
        publisher=source.publisher,
        published_on=source.published_on,
        source_url=source.url,
        url=url,
        at=at,
    )
