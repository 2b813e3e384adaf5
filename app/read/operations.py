"""Reading operations and phases with everything the public shape shows."""

from sqlmodel import Session, col, select

from app.domain.errors import NotFound
from app.models import (
    Operation,
    OperationAlias,
    OperationSource,
    OperationStatus,
    Phase,
    PhaseSource,
    Source,
)
from app.schemas.catalog import AliasPublic, OperationPublic, PhasePublic, StartedPublic, StatusPublic
from app.schemas.results import SourceRef


def source_refs(*, session: Session, ids: list[int]) -> list[SourceRef]:
    """Source references for ids, in id order."""
    if not ids:
        return []
    rows = session.exec(
        select(col(Source.id), col(Source.title), col(Source.published_on), col(Source.language))
        .where(col(Source.id).in_(ids))
        .order_by(col(Source.id))
    ).all()
    return [SourceRef(id=i or 0, title=t, published_on=p, language=lang) for i, t, p, lang in rows]


def operation_public(*, session: Session, op: Operation) -> OperationPublic:
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
    src_ids = session.exec(
        select(OperationSource.source_id).where(OperationSource.operation_slug == op.slug)
    ).all()
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
        sources=source_refs(session=session, ids=list(src_ids)),
    )


def list_operations(*, session: Session) -> list[OperationPublic]:
    """Every operation in display order."""
    ops = session.exec(select(Operation).order_by(col(Operation.position), col(Operation.slug))).all()
    return [operation_public(session=session, op=op) for op in ops]


def phase_public(*, session: Session, phase: Phase) -> PhasePublic:
    """A phase with its sources."""
    src_ids = session.exec(select(PhaseSource.source_id).where(PhaseSource.phase_slug == phase.slug)).all()
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
        sources=source_refs(session=session, ids=list(src_ids)),
    )


def list_phases(*, session: Session, operation: str | None = None) -> list[PhasePublic]:
    """Phases, optionally of one operation, oldest first (undated last)."""
    stmt = select(Phase)
    if operation:
        stmt = stmt.where(Phase.operation_slug == operation)
    rows = session.exec(stmt).all()
    rows = sorted(rows, key=lambda p: (p.start_date is None, p.start_date or "", p.slug))
    return [phase_public(session=session, phase=p) for p in rows]


def find_phase(*, session: Session, slug: str) -> Phase:
    """One phase by slug (case-insensitive), or NotFound."""
    phase = session.get(Phase, slug.lower())
    if phase is None:
        raise NotFound(f"No phase {slug!r}.", code="phase-not-found")
    return phase
