"""Sources: the documents figures come from, with their full text."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import CuratorBeforeLockDep, CuratorWriteDep, SessionDep, VersionDep
from app.api.v1.params import AsOfParams, Bom, Format, FormatQuery
from app.config import get_settings
from app.curation.candidates import candidate_public, extract_for_source
from app.curation.pages import fetch_limits
from app.curation.sources import Document, add_source, resolve_document
from app.http.edge.writes import WriteRoute
from app.http.idempotency import idempotent_post, replay_before_lock
from app.http.negotiation import (
    cached_value,
    csv_response,
    json_response,
    representation,
    respond,
)
from app.http.openapi import fetch_responses, read_responses
from app.http.pagination import next_link
from app.read.sources import count_sources, find_source, iter_sources, list_sources, source_detail
from app.schemas.common import MAX_ID, Page
from app.schemas.curation import CandidatePublic
from app.schemas.sources import SourceCreate, SourceDetail, SourceSummary

router = APIRouter(prefix="/sources", tags=["sources"], route_class=WriteRoute)


class SourceQuery(AsOfParams):
    """The page of `GET /sources`; any other parameter is refused."""

    limit: int = Field(default=50, ge=1, le=500, description="Page size")
    cursor: str | None = Field(default=None, max_length=200, description="`next_cursor` of the previous page")
    format: Format = None
    bom: Bom = False


@router.get(
    "",
    summary="List the sources (without text)",
    openapi_extra={"x-etag": "data-version"},
    response_model=Page[SourceSummary],
    responses=read_responses(
        csv_example="id,title,publisher,published_on,date_basis,url,file_name,content_hash,length\r\n"
        "3,The results of the international operation of the CSTO ...,CSTO,2024-06-28,...\r\n"
    ),
)
def get_sources(
    request: Request, session: SessionDep, version: VersionDep, query: Annotated[SourceQuery, Query()]
) -> Response:
    """Documents by id, without their text (its `length` in characters is given); paged like every
    list. As CSV, every source."""
    snap = query.snap
    if representation(request, query.format, query.bom) != "json":
        rows = (s.model_dump(mode="json") for s in iter_sources(session=session, snap=snap))
        return csv_response(SourceSummary, rows, bom=query.bom)
    items, nxt = list_sources(session=session, limit=query.limit, cursor=query.cursor, snap=snap)
    total = cached_value(
        request, version, ("count", "sources"), lambda: count_sources(session=session, snap=snap)
    )
    return json_response(
        Page[SourceSummary](items=items, next_cursor=nxt, total=total), next_link(request, nxt)
    )


@router.get(
    "/{source_id}",
    summary="One source with its full text and the results it supports",
    openapi_extra={"x-etag": "data-version"},
    response_model=SourceDetail,
    responses=read_responses(not_found="No such source"),
)
def get_source(
    request: Request,
    session: SessionDep,
    source_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[3])],
    query: FormatQuery,
) -> Response:
    """The stored text is the evidence: every result's `quote` is `text[quote_start:quote_end]`.
    `results` lists the results the source supports (retracted ones flagged)."""
    src = find_source(session=session, source_id=source_id, snap=query.snap)
    detail = source_detail(session=session, source=src, snap=query.snap)
    return respond(request, detail, fmt=query.format, bom=query.bom)


# ---------------------------------------------------------------- writes (curation)


async def resolved_document(request: Request, key: CuratorBeforeLockDep, data: SourceCreate) -> Document:
    """The document a request describes, its page fetched before the write takes its slot and lock
    (a slow page holds no other writer); a replay of an Idempotency-Key answers without a fetch."""
    await replay_before_lock(request, key.name)
    return await run_in_threadpool(resolve_document, data, fetch_limits(get_settings()))


DocumentDep = Annotated[Document, Depends(resolved_document)]


@idempotent_post(
    router,
    "",
    status_code=201,
    summary="Add a source document (curator)",
    responses={
        200: {"description": "The same text is already stored: that source", "model": SourceDetail},
        **fetch_responses(),
    },
)
def post_source(
    document: DocumentDep, session: SessionDep, response: Response, write: CuratorWriteDep
) -> SourceDetail:
    """201 with the new source; the same text again is recognised (content hash): 200 with the stored one.
    Send `text`, a saved page as `html`, or only a `url` to have the page fetched (guarded)."""
    src, created = add_source(write=write, document=document)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/sources/{src.id}"
    return source_detail(session=session, source=src)


@idempotent_post(router, "/{source_id}/candidates", status_code=201, summary="Extract candidates (curator)")
def post_candidates(
    write: CuratorWriteDep,
    source_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[3])],
) -> Page[CandidatePublic]:
    """Every figure found in the stored text, stored pending; a re-run returns them with no duplicates."""
    rows = extract_for_source(write=write, source_id=source_id)
    return Page(items=[candidate_public(c) for c in rows], next_cursor=None, total=len(rows))
