"""Reading sources: pages without text (its length computed in SQL), one with text and its results."""

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.models import Result, Source
from app.read.results import bad
from app.schemas.common import MAX_ID
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
)


def _summary(row: Any) -> SourceSummary:
    sid, title, publisher, published_on, basis, url, file_name, digest, length = row
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
    )


def encode_source_cursor(last_id: int) -> str:
    """An opaque cursor after source `last_id`."""
    return base64.urlsafe_b64encode(f"s:{last_id}".encode()).decode().rstrip("=")


def decode_source_cursor(cursor: str) -> int:
    """The last source id of the previous page; 422 naming `cursor` when it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, num = raw.partition(":")
        value = int(num)
        if kind != "s" or not 0 <= value <= MAX_ID:
            raise ValueError(raw)
        return value
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad("cursor", "The cursor is not one this API issued.") from exc


def count_sources(*, session: Session) -> int:
    """How many sources there are."""
    return int(session.exec(select(func.count()).select_from(Source)).one())


def list_sources(
    *, session: Session, limit: int, cursor: str | None
) -> tuple[list[SourceSummary], str | None]:
    """One page of sources by id, without their text."""
    stmt = sa_select(*SUMMARY_COLUMNS).order_by(col(Source.id))
    if cursor:
        stmt = stmt.where(col(Source.id) > decode_source_cursor(cursor))
    rows = [_summary(r) for r in session.execute(stmt.limit(limit + 1)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_source_cursor(rows[-1].id) if more else None


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
    )
    return SourceDetail(
        **_summary(row).model_dump(),
        text=source.text,
        results=source_results(session=session, source_id=source.id or 0),
    )
