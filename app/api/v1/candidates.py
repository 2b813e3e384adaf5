"""Candidates: figures extraction found, reviewed by a curator (accept → a result, or reject)."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import Field

from app.api.deps import CuratorWriteDep, SessionDep
from app.api.v1.params import NoQuery, QueryParams
from app.curation.candidates import (
    accept_candidate,
    candidate_public,
    get_candidate,
    list_candidates,
    reject_candidate,
)
from app.domain.revisions import result_etag
from app.http.edge.writes import WriteRoute
from app.http.idempotency import idempotent_post
from app.http.pagination import next_link
from app.models import CandidateStatus
from app.read.history import read_epoch
from app.read.results import source_ref_map, to_public
from app.schemas.common import MAX_ID, Page, Reason
from app.schemas.curation import CandidateAccept, CandidatePublic
from app.schemas.results import ResultPublic

router = APIRouter(prefix="/candidates", tags=["candidates"], route_class=WriteRoute)
CandidateIdPath = Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])]


class CandidateQuery(QueryParams):
    """The filters and page of `GET /candidates`; any other parameter is refused."""

    source: int | None = Field(default=None, ge=1, le=MAX_ID, description="Only this source's")
    status: CandidateStatus | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=500)


@router.get("", summary="List candidates", openapi_extra={"x-etag": "body-hash"})
def get_candidates(
    request: Request, response: Response, session: SessionDep, query: Annotated[CandidateQuery, Query()]
) -> Page[CandidatePublic]:
    """A page of candidates in id order; follow `next_cursor` or the `Link: rel="next"` header."""
    items, nxt, total = list_candidates(
        session=session,
        source_id=query.source,
        status=query.status.value if query.status else None,
        limit=query.limit,
        cursor=query.cursor,
    )
    response.headers.update(next_link(request, nxt) or {})
    return Page(items=items, next_cursor=nxt, total=total)


@router.get("/{candidate_id}", summary="One candidate", openapi_extra={"x-etag": "body-hash"})
def get_one_candidate(session: SessionDep, candidate_id: CandidateIdPath, _: NoQuery) -> CandidatePublic:
    """A candidate with its decision, if any (the result it became, or why it was rejected)."""
    return candidate_public(get_candidate(session=session, candidate_id=candidate_id))


@idempotent_post(router, "/{candidate_id}/accept", status_code=201, summary="Accept a candidate (curator)")
def post_accept(
    session: SessionDep,
    response: Response,
    write: CuratorWriteDep,
    candidate_id: CandidateIdPath,
    corrections: Annotated[CandidateAccept | None, Body()] = None,
) -> ResultPublic:
    """201 with the new result, verified like a seed entry; 422 names what does not check out."""
    row = accept_candidate(
        write=write,
        candidate_id=candidate_id,
        corrections=corrections or CandidateAccept(),
    )
    response.headers["Location"] = f"/api/v1/results/{row.id}"
    response.headers["ETag"] = result_etag(row.id, row.revision, epoch=read_epoch(session=session))
    return to_public(row, source_ref_map(session=session, ids={row.source_id})[row.source_id])


@idempotent_post(router, "/{candidate_id}/reject", summary="Reject a candidate (curator)")
def post_reject(write: CuratorWriteDep, candidate_id: CandidateIdPath, body: Reason) -> CandidatePublic:
    """The candidate, now `rejected` with the reason; 409 when it was already decided."""
    return candidate_public(reject_candidate(write=write, candidate_id=candidate_id, reason=body.reason))
