"""The change feed: every audited write to the data once, in the order the writes committed.

Writes are stamped with their commit time while they hold the data version's lock
(app/curation/unit_of_work.py), so ordering by (at, id) is commit order: a change that commits
after a page was read sorts after that page's last change, and keyset paging on (at, id) never
skips or repeats one. API-key entries are not data and are left out.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.domain.errors import BadParameter
from app.models import AuditLog
from app.schemas.changes import Change

PRIVATE = ("apikey",)
PUBLIC_NAMES = {"operation_slug": "operation", "phase_slug": "phase", "metric_slug": "metric"}


def public_state(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """A recorded before/after with the field names of the public API."""
    if state is None:
        return None
    return {PUBLIC_NAMES.get(k, k): v for k, v in state.items()}


def _position(session: Session, change_id: int, parameter: str) -> tuple[datetime, int]:
    """Where a change stands in the feed; a BadParameter when there is no such change."""
    row = session.get(AuditLog, change_id)
    if row is None or row.entity in PRIVATE:
        raise BadParameter(parameter, f"No change {change_id} in the feed.")
    return row.at, change_id


def _feed(since: datetime | None, after: tuple[datetime, int] | None) -> SelectOfScalar[AuditLog]:
    stmt = select(AuditLog).where(col(AuditLog.entity).not_in(PRIVATE))
    if since is not None:
        stmt = stmt.where(col(AuditLog.at) > since)
    if after is not None:
        at, cid = after
        stmt = stmt.where(or_(col(AuditLog.at) > at, and_(col(AuditLog.at) == at, col(AuditLog.id) > cid)))
    return stmt


def to_change(e: AuditLog) -> Change:
    """The public shape of one audit entry."""
    return Change(
        id=e.id or 0,
        at=e.at,
        version=e.version,
        action=e.action,
        entity=e.entity,
        entity_id=e.entity_id,
        actor=e.actor,
        reason=e.reason,
        before=public_state(e.before),
        after=public_state(e.after),
    )


def list_changes(
    *,
    session: Session,
    since: datetime | None,
    after: int | None,
    cursor_after: int | None,
    limit: int,
) -> tuple[list[Change], int | None, int]:
    """One page of changes after `since` (an instant) and/or after change `after`, oldest first;
    the id to continue after (None on the last page) and how many changes match in all."""
    start = _position(session, after, "after") if after is not None else None
    total = int(session.exec(select(func.count()).select_from(_feed(since, start).subquery())).one())
    if cursor_after is not None:
        start = _position(session, cursor_after, "cursor")
    stmt = _feed(since, start).order_by(col(AuditLog.at), col(AuditLog.id)).limit(limit + 1)
    rows = list(session.exec(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return [to_change(e) for e in rows], (rows[-1].id if more and rows else None), total


def iter_changes(*, session: Session, since: datetime | None, after: int | None) -> Iterator[Change]:
    """Every matching change in feed order, fetched in keyset batches (for CSV); a bad `after` is
    refused now, before anything is streamed."""
    if after is not None:
        _position(session, after, "after")
    return _batches(session, since, after)


def _batches(
    session: Session, since: datetime | None, after: int | None, batch: int = 1000
) -> Iterator[Change]:
    cursor: int | None = None
    while True:
        items, cursor, _ = list_changes(
            session=session, since=since, after=after, cursor_after=cursor, limit=batch
        )
        yield from items
        if cursor is None:
            return
