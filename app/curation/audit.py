"""The audit trail: every change is recorded with who, when, before, after and why."""

from typing import Any

from sqlmodel import Session, col, select

from app.models import AuditLog


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditLog:
    """Add one audit entry to the current transaction."""
    entry = AuditLog(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(entry)
    return entry


def history(*, session: Session, entity: str, entity_id: str) -> list[AuditLog]:
    """Every change of one entity, oldest first (an indexed range, not a scan)."""
    stmt = (
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
        .order_by(col(AuditLog.id))
    )
    return list(session.exec(stmt))
