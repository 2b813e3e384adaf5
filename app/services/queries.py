"""Listing results: filters and keyset (cursor) pagination that never skips or repeats a row."""

import base64
import binascii
from dataclasses import dataclass

import orjson
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.problems import ProblemError
from app.models import Result, Source
from app.models.schemas import ResultPublic, SourceRef
from app.services.results import to_public


@dataclass(frozen=True)
class ResultFilter:
    """The filters of GET /api/v1/results, already resolved (operation slug, not alias)."""

    operation: str | None = None
    phase: str | None = None
    metric: str | None = None
    scope: str | None = None
    include_retracted: bool = False


def encode_cursor(last_id: str) -> str:
    """An opaque cursor naming the last row of a page."""
    return base64.urlsafe_b64encode(orjson.dumps({"id": last_id})).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The last id of the previous page; a 400 problem for a malformed cursor."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return str(data["id"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ProblemError(
            400, "The cursor is not one this API issued.", code="bad-cursor", parameter="cursor"
        ) from exc


def _filtered(f: ResultFilter):  # type: ignore[no-untyped-def]
    stmt = select(Result)
    if not f.include_retracted:
        stmt = stmt.where(col(Result.retracted).is_(False))
    for column, value in (
        (Result.operation_slug, f.operation),
        (Result.phase_slug, f.phase),
        (Result.metric_slug, f.metric),
        (Result.scope, f.scope),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def list_results(
    *, session: Session, filters: ResultFilter, limit: int, cursor: str | None
) -> tuple[list[ResultPublic], str | None, int]:
    """One page of results in id order, the next cursor and the total matching."""
    stmt = _filtered(filters)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    if cursor:
        stmt = stmt.where(col(Result.id) > decode_cursor(cursor))
    rows = list(session.exec(stmt.order_by(col(Result.id)).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    refs = source_ref_map(session=session, ids={r.source_id for r in rows})
    items = [to_public(r, refs[r.source_id]) for r in rows]
    return items, encode_cursor(rows[-1].id) if more else None, total


def source_ref_map(*, session: Session, ids: set[int]) -> dict[int, SourceRef]:
    """Source references by id, fetched in one query."""
    if not ids:
        return {}
    rows = session.exec(
        select(Source.id, Source.title, Source.published_on).where(col(Source.id).in_(ids))
    ).all()
    return {i or 0: SourceRef(id=i or 0, title=t, published_on=p) for i, t, p in rows}
