"""Sources: the documents figures come from, with their full text."""

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import func
from sqlmodel import col, select

from app.api.deps import SessionDep
from app.core.problems import ProblemError
from app.models import Source
from app.models.schemas import MAX_ID, Page, SourcePublic, SourceSummary

router = APIRouter(prefix="/sources", tags=["sources"])


def summary(src: Source) -> SourceSummary:
    """A source without its text."""
    return SourceSummary(
        id=src.id or 0,
        title=src.title,
        publisher=src.publisher,
        published_on=src.published_on,
        date_basis=src.date_basis,
        url=src.url,
        file_name=src.file_name,
        content_hash=src.content_hash,
        length=len(src.text),
    )


@router.get("", summary="List the sources (without text)")
def get_sources(session: SessionDep) -> Page[SourceSummary]:
    """Every document, oldest id first."""
    rows = session.exec(select(Source).order_by(col(Source.id))).all()
    return Page(
        items=[summary(s) for s in rows],
        next_cursor=None,
        total=session.exec(select(func.count()).select_from(Source)).one(),
    )


@router.get("/{source_id}", summary="One source with its full text")
def get_source(
    session: SessionDep, source_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[3])]
) -> SourcePublic:
    """The stored text is the evidence: quote offsets of results index into it."""
    src = session.get(Source, source_id)
    if src is None:
        raise ProblemError(404, f"No source {source_id}.", code="source-not-found")
    return SourcePublic(**summary(src).model_dump(), text=src.text)
