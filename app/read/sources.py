"""Reading sources: pages without text (its length computed in SQL), one with text and its results."""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.domain.cursors import decode_id_cursor, encode_id_cursor
from app.domain.errors import NotFound
from app.models import Result, Source
from app.schemas.sources import SourceDetail, SourceResult, SourceSummary

SUMMARY_COLUMNS: tuple[Any, ...] = (
    Source.id,
    Source.title,
    Source.publisher,
    Source.published_on,
    Source.date_basis,
    Source.url,
    Source.file_name,
    Source.content_hash,
    func.length(Source.text),
    Source.language,
    Source.retrieved_at,
    Source.raw_hash,
)


def _summary(row: Any) -> SourceSummary:
    sid, title, publisher, published_on, basis, url, file_name, digest, length, language, retrieved, raw = row
    return SourceSummary(
        id=sid,
        title=title,
        publisher=publisher,
        published_on=published_on,
        date_basis=basis,
        url=url,
        file_name=file_name,
        content_hash=digest,
        length=length or 0,
        language=language,
        retrieved_at=retrieved,
        raw_hash=raw,
    )


def count_sources(*, session: Session) -> int:
    """How many sources there are."""
    return int(session.exec(select(func.count()).select_from(Source)).one())


def list_sources(
    *, session: Session, limit: int, cursor: str | None
) -> tuple[list[SourceSummary], str | None]:
    """One page of sources by id, without their text."""
    stmt = sa_select(*SUMMARY_COLUMNS).order_by(col(Source.id))
    if cursor:
        stmt = stmt.where(col(Source.id) > decode_id_cursor(cursor, "sources"))
    rows = [_summary(r) for r in session.execute(stmt.limit(limit + 1)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_id_cursor("sources", rows[-1].id) if more else None


def iter_sources(*, session: Session, batch: int = 500) -> Iterator[SourceSummary]:
    """Every source without text, in id order (for CSV)."""
    after = 0
    while True:
        stmt = sa_select(*SUMMARY_COLUMNS).where(col(Source.id) > after).order_by(col(Source.id)).limit(batch)
        rows = [_summary(r) for r in session.execute(stmt).all()]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def source_results(*, session: Session, source_id: int) -> list[SourceResult]:
    """The results a source supports, in the order their quotes appear."""
    rows = session.exec(
        select(Result).where(Result.source_id == source_id).order_by(col(Result.quote_start), col(Result.id))
    ).all()
    return [
        SourceResult(
            id=r.id,
            operation=r.operation_slug,
            phase=r.phase_slug,
            metric=r.metric_slug,
            value=r.value,
            unit=r.unit,
            value_base=r.value_base,
            base_unit=r.base_unit,
            qualifier=r.qualifier,  # type: ignore[arg-type]
            scope=r.scope,  # type: ignore[arg-type]
            country=r.country,
            as_of=r.as_of,
            quote_start=r.quote_start,
            quote_end=r.quote_end,
            retracted=r.retracted,
        )
        for r in rows
    ]


def source_detail(*, session: Session, source: Source) -> SourceDetail:
    """A source with its full text and the results it supports."""
    row = (
        source.id,
        source.title,
        source.publisher,
        source.published_on,
        source.date_basis,
        source.url,
        source.file_name,
        source.content_hash,
        len(source.text),
        source.language,
        source.retrieved_at,
        source.raw_hash,
    )
    return SourceDetail(
        **_summary(row).model_dump(),
        text=source.text,
        results=source_results(session=session, source_id=source.id or 0),
    )


def find_source(*, session: Session, source_id: int) -> Source:
    """One source by id, or NotFound."""
    src = session.get(Source, source_id)
    if src is None:
        raise NotFound(f"No source {source_id}.", code="source-not-found")
    return src
