"""Reading sources: pages without text (its length computed in SQL), one with text and its results."""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.domain.cursors import decode_id_cursor, encode_id_cursor
from app.domain.errors import NotFound
from app.models import Result, Source
from app.read.asof import PRESENT, Snapshot
from app.read.results import past_results
from app.schemas.sources import SourceDetail, SourceResult, SourceSummary


def summary_columns(s: type[Source]) -> tuple[Any, ...]:
    """A source's summary (its text's length, not the text), over sources `s`."""
    return (
        s.id,
        s.title,
        s.publisher,
        s.published_on,
        s.date_basis,
        s.url,
        s.file_name,
        s.content_hash,
        func.length(s.text),
        s.language,
        s.retrieved_at,
        s.raw_hash,
    )


SUMMARY_COLUMNS = summary_columns(Source)


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


def count_sources(*, session: Session, snap: Snapshot = PRESENT) -> int:
    """How many sources there are."""
    return int(session.exec(select(func.count()).select_from(snap.source)).one())


def list_sources(
    *, session: Session, limit: int, cursor: str | None, snap: Snapshot = PRESENT
) -> tuple[list[SourceSummary], str | None]:
    """One page of sources by id, without their text."""
    s = snap.source
    stmt = sa_select(*summary_columns(s)).order_by(col(s.id))
    if cursor:
        stmt = stmt.where(col(s.id) > decode_id_cursor(cursor, "sources"))
    rows = [_summary(r) for r in session.execute(stmt.limit(limit + 1)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_id_cursor("sources", rows[-1].id) if more else None


def iter_sources(*, session: Session, batch: int = 500, snap: Snapshot = PRESENT) -> Iterator[SourceSummary]:
    """Every source without text, in id order (for CSV)."""
    s = snap.source
    after = 0
    while True:
        stmt = sa_select(*summary_columns(s)).where(col(s.id) > after).order_by(col(s.id)).limit(batch)
        rows = [_summary(r) for r in session.execute(stmt).all()]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def _results_of(session: Session, source_id: int, snap: Snapshot) -> list[Result]:
    """The results of one source in `snap`, in the order their quotes appear."""
    if snap.past:
        found = past_results(session, snap, col(snap.result.source_id) == source_id)
        return sorted(found, key=lambda r: (r.quote_start, r.id))
    stmt = select(Result).where(Result.source_id == source_id)
    return list(session.exec(stmt.order_by(col(Result.quote_start), col(Result.id))).all())


def source_results(*, session: Session, source_id: int, snap: Snapshot = PRESENT) -> list[SourceResult]:
    """The results a source supports, in the order their quotes appear."""
    rows = _results_of(session, source_id, snap)
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


def source_detail(*, session: Session, source: Source, snap: Snapshot = PRESENT) -> SourceDetail:
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
        results=source_results(session=session, source_id=source.id or 0, snap=snap),
    )


def find_source(*, session: Session, source_id: int, snap: Snapshot = PRESENT) -> Source:
    """One source by id (created by `snap`'s instant), or NotFound."""
    s = snap.source
    src = (
        session.exec(select(s).where(col(s.id) == source_id)).first()
        if snap.past
        else session.get(Source, source_id)
    )
    if src is None:
        raise NotFound(f"No source {source_id}.", code="source-not-found")
    return src
