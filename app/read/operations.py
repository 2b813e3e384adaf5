"""Reading operations and phases with everything the public shape shows."""

from sqlmodel import Session, col, select

from app.domain.errors import NotFound
from app.models import (
    Operation,
    OperationAlias,
    OperationStatus,
    Phase,
)
from app.read.asof import PRESENT, Snapshot
from app.schemas.catalog import AliasPublic, OperationPublic, PhasePublic, StartedPublic, StatusPublic
from app.schemas.results import SourceRef


def source_refs(*, session: Session, ids: list[int], snap: Snapshot = PRESENT) -> list[SourceRef]:
    """Source references for ids, in id order."""
    if not ids:
        return []
    s = snap.source
    rows = session.exec(
        select(col(s.id), col(s.title), col(s.published_on), col(s.language))
        .where(col(s.id).in_(ids))
        .order_by(col(s.id))
    ).all()
    return [SourceRef(id=i or 0, title=t, published_on=p, language=lang) for i, t, p, lang in rows]


def operation_public(*, session: Session, op: Operation, snap: Snapshot = PRESENT) -> OperationPublic:
    """An operation with its aliases, status history and sources."""
    aliases = session.exec(
        select(OperationAlias)
        .where(OperationAlias.operation_slug == op.slug)
        .order_by(col(OperationAlias.id))
    ).all()
    statuses = session.exec(
        select(OperationStatus)
        .where(OperationStatus.operation_slug == op.slug)
        .order_by(col(OperationStatus.id))
    ).all()
    linked = snap.operationsource
    src_ids = session.exec(select(col(linked.source_id)).where(col(linked.operation_slug) == op.slug)).all()
    return OperationPublic(
        slug=op.slug,
        name=op.name,
        name_ru=op.name_ru,
        purpose=op.purpose,
        status=op.status,
        aliases=[AliasPublic(alias=a.alias, language=a.language) for a in aliases],
        started=StartedPublic(
            year=op.started_year,
            precision=op.started_precision,
            basis=op.started_basis,
            source_id=op.started_source_id,
            quote=op.started_quote,
        ),
        status_history=[
            StatusPublic(status=s.status, since=s.since, note=s.note, source_id=s.source_id, quote=s.quote)
            for s in statuses
        ],
        sources=source_refs(session=session, ids=list(src_ids), snap=snap),
    )


def list_operations(*, session: Session, snap: Snapshot = PRESENT) -> list[OperationPublic]:
    """Every operation in display order."""
    ops = session.exec(select(Operation).order_by(col(Operation.position), col(Operation.slug))).all()
    return [operation_public(session=session, op=op, snap=snap) for op in ops]


def phase_public(*, session: Session, phase: Phase, snap: Snapshot = PRESENT) -> PhasePublic:
    """A phase with its sources."""
    linked = snap.phasesource
    src_ids = session.exec(select(col(linked.source_id)).where(col(linked.phase_slug) == phase.slug)).all()
    return PhasePublic(
        slug=phase.slug,
        operation=phase.operation_slug,
        name=phase.name,
        kind=phase.kind,
        start_date=phase.start_date,
        end_date=phase.end_date,
        headquarters=phase.headquarters,
        participants=list(phase.participants),
        observers=list(phase.observers),
        note=phase.note,
        sources=source_refs(session=session, ids=list(src_ids), snap=snap),
    )


def list_phases(
    *, session: Session, operation: str | None = None, snap: Snapshot = PRESENT
) -> list[PhasePublic]:
    """Phases (created by `snap`'s instant), optionally of one operation, oldest first (undated last)."""
    p = snap.phase
    stmt = select(p)
    if operation:
        stmt = stmt.where(col(p.operation_slug) == operation)
    rows = session.exec(stmt).all()
    rows = sorted(rows, key=lambda p: (p.start_date is None, p.start_date or "", p.slug))
    return [phase_public(session=session, phase=p, snap=snap) for p in rows]


def find_phase(*, session: Session, slug: str, snap: Snapshot = PRESENT) -> Phase:
    """One phase by slug (case-insensitive, created by `snap`'s instant), or NotFound."""
    p = snap.phase
    phase = session.exec(select(p).where(col(p.slug) == slug.lower())).first()
    if phase is None:
        raise NotFound(f"No phase {slug!r}.", code="phase-not-found")
    return phase
