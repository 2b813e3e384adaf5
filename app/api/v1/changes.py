"""The change feed: what changed since an instant or after a change, for mirrors and dashboards."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from app.api.deps import SessionDep
from app.api.v1.params import AsOf, Bom, Format, QueryParams
from app.domain.cursors import decode_id_cursor, encode_id_cursor
from app.http.negotiation import csv_response, json_response, representation
from app.http.openapi import read_responses
from app.http.pagination import next_link
from app.read.changes import iter_changes, list_changes
from app.schemas.changes import Change
from app.schemas.common import MAX_ID, Page

router = APIRouter(prefix="/changes", tags=["changes"])


class ChangeQuery(QueryParams):
    """Where the feed starts, and its page; any other parameter is refused."""

    since: AsOf = Field(
        default=None,
        description="Changes committed after this instant (RFC 3339): exactly what an `at=` answer of "
        "that instant does not hold yet",
        examples=["2026-12-01T10:00:00Z"],
    )
    after: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Changes after the change with this id", examples=[412]
    )
    limit: int = Field(default=100, ge=1, le=500, description="Page size")
    cursor: str | None = Field(default=None, max_length=200, description="`next_cursor` of the previous page")
    format: Format = None
    bom: Bom = False


@router.get(
    "",
    summary="Every change of the data, oldest first",
    openapi_extra={"x-etag": "data-version"},
    response_model=Page[Change],
    responses=read_responses(),
)
def get_changes(request: Request, session: SessionDep, query: Annotated[ChangeQuery, Query()]) -> Response:
    """Every audited write (create, update, retract, link_duplicate, accept, ...) appears once, in
    commit order, with the data version it made and its before/after under the public field names.
    Follow `next_cursor` (or `Link: rel="next"`); keep the last `id` and ask `?after=` next time."""
    if representation(request, query.format, query.bom) != "json":
        rows = iter_changes(session=session, since=query.since, after=query.after)
        return csv_response(Change, (c.model_dump(mode="json") for c in rows), bom=query.bom)
    cursor_after = decode_id_cursor(query.cursor, "changes") if query.cursor else None
    items, last, total = list_changes(
        session=session, since=query.since, after=query.after, cursor_after=cursor_after, limit=query.limit
    )
    nxt = encode_id_cursor("changes", last) if last is not None else None
    return json_response(Page[Change](items=items, next_cursor=nxt, total=total), next_link(request, nxt))
