"""Results: every reported figure with its verified quote."""

from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import Field

from app.api.deps import AdminWriteDep, CuratorWriteDep, SessionDep, VersionDep
from app.api.v1.params import AsOfParams, Bom, Format, FormatQuery, NoQuery
from app.config import get_settings
from app.curation.results import add_result, patch_result, retract
from app.domain.citations import bibtex, csl_item, plain_text, ris
from app.domain.revisions import result_etag
from app.http.conditional import none_match
from app.http.edge.writes import WriteRoute
from app.http.idempotency import idempotent_post
from app.http.negotiation import (
    IMMUTABLE,
    cache_control,
    cached_value,
    csv_response,
    json_response,
    representation,
    respond,
)
from app.http.openapi import read_responses
from app.http.pagination import next_link
from app.models import Qualifier, Result, Scope
from app.read.history import cited_figure, read_epoch, result_history
from app.read.results import (
    count_results,
    find_result,
    iter_result_cells,
    list_page,
    parse_sort,
    result_filter,
    source_ref_map,
    to_public,
)
from app.schemas.common import IsoDate, Page, Reason
from app.schemas.results import HistoryEntry, ResultCreate, ResultPublic, ResultUpdate

router = APIRouter(prefix="/results", tags=["results"], route_class=WriteRoute)
ResultIdPath = Annotated[str, Path(max_length=64, examples=["channel-center-2019-opium"])]


class ResultQuery(AsOfParams):
    """The filters, order and page of `GET /results`; any other parameter is refused."""

    operation: str | None = Field(
        default=None, max_length=100, description="Operation slug or alias", examples=["channel"]
    )
    phase: str | None = Field(default=None, max_length=100, examples=["channel-center-2019"])
    metric: str | None = Field(default=None, max_length=64, examples=["opium_seized"])
    scope: Scope | None = None
    country: str | None = Field(
        default=None, max_length=64, description="Case-insensitive", examples=["Iran"]
    )
    qualifier: Qualifier | None = None
    year: int | None = Field(default=None, ge=1900, le=2100, description="Year of as_of", examples=[2019])
    from_: IsoDate | None = Field(
        default=None, alias="from", description="as_of on or after (YYYY-MM-DD)", examples=["2019-01-01"]
    )
    to: IsoDate | None = Field(
        default=None, description="as_of on or before (YYYY-MM-DD)", examples=["2023-12-31"]
    )
    q: str | None = Field(
        default=None,
        max_length=200,
        description="Text in the quote, case-insensitive (any script); the page's total then counts "
        "at most QUOTE_COUNT_LIMIT matches and says so (total_lower_bound)",
        examples=["opium"],
    )
    sort: str | None = Field(
        default=None,
        max_length=200,
        description="Comma list of id, as_of, value_base, value, metric, operation, phase; '-' for "
        "descending; ties broken by id",
        examples=["-value_base,as_of"],
    )
    include_retracted: bool = Field(default=False, description="Also list retracted results")
    limit: int = Field(default=50, ge=1, le=500, description="Page size")
    cursor: str | None = Field(
        default=None, max_length=1000, description="`next_cursor` of the previous page"
    )
    format: Format = None
    bom: Bom = False


@router.get(
    "",
    summary="List results",
    response_model=Page[ResultPublic],
    responses=read_responses(
        csv_example="id,operation,phase,metric,value,unit,number_text,value_base,base_unit,qualifier,scope,"
        "country,period_start,period_end,as_of,source_id,source_title,source_published_on,source_language,quote,...\r\n"
        "channel-center-2019-opium,channel,channel-center-2019,opium_seized,8.9,t,8.9,8900.0,kg,more_than,"
        "phase,,2019-02-26,2019-03-01,2019-03-01,3,...\r\n"
    ),
)
def get_results(
    request: Request, session: SessionDep, version: VersionDep, query: Annotated[ResultQuery, Query()]
) -> Response:
    """A page of results in a stable order; follow `next_cursor` or the `Link: rel="next"` header
    (keyset cursors: rows added between pages never make a page skip or repeat a row). Retracted
    results are left out unless `include_retracted=true`. As CSV, every matching row (not one page)."""
    snap = query.snap
    filters = result_filter(
        session=session,
        snap=snap,
        operation=query.operation,
        phase=query.phase,
        metric=query.metric,
        scope=query.scope.value if query.scope else None,
        country=query.country,
        qualifier=query.qualifier.value if query.qualifier else None,
        year=query.year,
        date_from=query.from_,
        date_to=query.to,
        q=query.q,
        include_retracted=query.include_retracted,
    )
    keys = parse_sort(query.sort)
    if representation(request, query.format, query.bom) != "json":
        return csv_response(
            ResultPublic,
            iter_result_cells(session=session, filters=filters, sort=keys, snap=snap),
            bom=query.bom,
        )
    listing = list_page(
        session=session, filters=filters, sort=keys, limit=query.limit, cursor=query.cursor, snap=snap
    )
    limit = get_settings().quote_count_limit
    count = cached_value(
        request,
        version,
        ("count", filters, limit),
        lambda: count_results(
            session=session, filters=filters, snap=snap, limit=limit, matched=listing.matched
        ),
    )
    nxt = listing.next_cursor
    page = {
        "items": listing.items,
        "next_cursor": nxt,
        "total": count.total,
        "total_lower_bound": count.lower_bound,
    }
    return json_response(page, next_link(request, nxt))


@router.get(
    "/{result_id}",
    summary="One result",
    openapi_extra={"x-etag": "own"},
    response_model=ResultPublic,
    responses=read_responses(not_found="No such result"),
)
def get_result(
    request: Request, session: SessionDep, result_id: ResultIdPath, query: FormatQuery
) -> Response:
    """A result stays readable at its URL even when retracted (`"retracted": true`). Its ETag changes
    exactly when the result does: send it as `If-Match` to PATCH it."""
    row = find_result(session=session, result_id=result_id, snap=query.snap)
    rep = representation(request, query.format, query.bom)
    etag = result_etag(row.id, row.revision, rep, epoch=read_epoch(session=session))
    control = IMMUTABLE if query.at else cache_control()
    headers = {"ETag": etag, "Cache-Control": control, "Vary": "Accept"}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    sources = source_ref_map(session=session, ids={row.source_id}, snap=query.snap)
    response = respond(request, to_public(row, sources[row.source_id]), fmt=query.format, bom=query.bom)
    response.headers.update(headers)
    return response


# ---------------------------------------------------------------- writes (curation)


def _answer(session: SessionDep, response: Response, row: Result) -> ResultPublic:
    """A written result with its new ETag."""
    response.headers["ETag"] = result_etag(row.id, row.revision, epoch=read_epoch(session=session))
    return to_public(row, source_ref_map(session=session, ids={row.source_id})[row.source_id])


@idempotent_post(router, "", status_code=201, summary="Add a result (curator)")
def post_result(
    session: SessionDep, response: Response, write: CuratorWriteDep, data: ResultCreate
) -> ResultPublic:
    """Verified like a seed entry (quote verbatim, number and unit in it); 422 names what fails."""
    row = add_result(write=write, data=data)
    response.headers["Location"] = f"/api/v1/results/{row.id}"
    return _answer(session, response, row)


@router.patch("/{result_id}", summary="Correct a result (curator; needs If-Match)")
def patch_result_route(
    session: SessionDep,
    response: Response,
    write: CuratorWriteDep,
    result_id: ResultIdPath,
    changes: ResultUpdate,
    if_match: Annotated[str | None, Header(description="The result's current ETag")] = None,
) -> ResultPublic:
    """Re-verified and audited; 428 without If-Match, 412 when the result changed since it was read."""
    row = patch_result(write=write, result_id=result_id, changes=changes, if_match=if_match)
    return _answer(session, response, row)


@idempotent_post(router, "/{result_id}/retract", summary="Retract a result (admin)")
def retract_result_route(
    session: SessionDep, response: Response, write: AdminWriteDep, result_id: ResultIdPath, body: Reason
) -> ResultPublic:
    """Hidden from lists and totals, never deleted: it stays readable here, flagged `retracted`."""
    row = retract(write=write, result_id=result_id, reason=body.reason)
    return _answer(session, response, row)


CiteFormat = Literal["csl-json", "bibtex", "ris", "text"]
CITE_TYPES: dict[str, str] = {
    "csl-json": "application/vnd.citationstyles.csl+json",
    "bibtex": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "text": "text/plain",
}


CSL_SCHEMA = {"type": "array", "minItems": 1, "maxItems": 1, "items": {"type": "object"}}


class CiteQuery(AsOfParams):
    """Which citation format; `at=` cites the figure as it stood then."""

    format: CiteFormat | None = Field(
        default=None, description="csl-json (default), bibtex, ris or text; overrides `Accept`"
    )


def cite_format(fmt: str | None, accept: str | None) -> str:
    """The asked-for format: `?format=`, else the first media type of `Accept` that names one."""
    if fmt:
        return fmt
    by_type = {media: name for name, media in CITE_TYPES.items()}
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in by_type:
            return by_type[media]
    return "csl-json"


def instant_text(at: datetime) -> str:
    """An instant as the `at=` of a permanent URL (RFC 3339, UTC, microseconds)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@router.get(
    "/{result_id}/cite",
    summary="Cite a result (CSL-JSON, BibTeX, RIS or text)",
    openapi_extra={"x-etag": "body-hash"},
    responses={
        200: {
            "description": "The citation, with the permanent URL of the figure as it stood (`at=`)",
            "content": {
                media: {"schema": CSL_SCHEMA if name == "csl-json" else {"type": "string"}}
                for name, media in CITE_TYPES.items()
            },
        },
        404: {"description": "No such result"},
    },
)
def get_citation(
    request: Request, session: SessionDep, result_id: ResultIdPath, query: Annotated[CiteQuery, Query()]
) -> Response:
    """Names the source document (title, publisher, date, URL when known), the figure in words with its
    qualifier ("More than 8.9 t of opium seized"), the verbatim quote, and a permanent URL of the figure
    with `at=` set to the time of the citation (or to the `at` asked for): that URL answers the figure
    exactly as cited, forever. Format by `?format=` or `Accept` (`application/vnd.citationstyles.csl+json`,
    `application/x-bibtex`, `application/x-research-info-systems`, `text/plain`)."""
    at = query.at or datetime.now(UTC)
    row = find_result(session=session, result_id=result_id, snap=query.snap)
    url = request.url_for("get_result", result_id=row.id).include_query_params(at=instant_text(at))
    figure = cited_figure(session=session, row=row, url=str(url), at=at, snap=query.snap)
    fmt = cite_format(query.format, request.headers.get("accept"))
    media = CITE_TYPES[fmt]
    headers = {"Vary": "Accept", **({"Cache-Control": IMMUTABLE} if query.at else {})}
    if fmt == "csl-json":
        return Response(orjson.dumps([csl_item(figure)]), media_type=media, headers=headers)
    body = {"bibtex": bibtex, "ris": ris, "text": plain_text}[fmt](figure)
    return Response(body, media_type=f"{media}; charset=utf-8", headers=headers)


@router.get("/{result_id}/history", summary="Every change of a result", openapi_extra={"x-etag": "body-hash"})
def get_result_history(session: SessionDep, result_id: ResultIdPath, _: NoQuery) -> Page[HistoryEntry]:
    """Oldest first: who (the key's name), when, what it was before and after, and why."""
    items = result_history(session=session, result_id=result_id)
    return Page(items=items, next_cursor=None, total=len(items))
