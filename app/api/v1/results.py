"""Results: every reported figure with its verified quote."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.api.deps import SessionDep
from app.core.etags import result_etag
from app.core.problems import ProblemError
from app.models import Result, Scope
from app.models.schemas import Page, ResultPublic
from app.services.catalog import resolve_operation
from app.services.queries import ResultFilter, list_results, source_ref_map
from app.services.results import to_public

router = APIRouter(prefix="/results", tags=["results"])
ResultIdPath = Annotated[str, Path(max_length=64, examples=["channel-center-2019-opium"])]


@router.get("", summary="List results")
def get_results(
    request: Request,
    response: Response,
    session: SessionDep,
    operation: Annotated[str | None, Query(max_length=100)] = None,
    phase: Annotated[str | None, Query(max_length=100)] = None,
    metric: Annotated[str | None, Query(max_length=64)] = None,
    scope: Scope | None = None,
    include_retracted: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[ResultPublic]:
    """A page of results; follow `next_cursor` or the `Link: rel="next"` header."""
    op_slug = None
    if operation is not None:
        op = resolve_operation(session=session, key=operation)
        if op is None:
            raise ProblemError(
                422,
                f"Unknown operation {operation!r}.",
                code="invalid-input",
                parameter="operation",
            )
        op_slug = op.slug
    filters = ResultFilter(
        operation=op_slug,
        phase=phase,
        metric=metric,
        scope=scope.value if scope else None,
        include_retracted=include_retracted,
    )
    items, nxt, total = list_results(session=session, filters=filters, limit=limit, cursor=cursor)
    if nxt:
        url = request.url.include_query_params(cursor=nxt)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return Page(items=items, next_cursor=nxt, total=total)


@router.get("/{result_id}", summary="One result")
def get_result(session: SessionDep, response: Response, result_id: ResultIdPath) -> ResultPublic:
    """A result stays readable at its URL even when retracted."""
    row = session.get(Result, result_id)
    if row is None:
        raise ProblemError(404, f"No result {result_id!r}.", code="result-not-found")
    response.headers["ETag"] = result_etag(row)
    return to_public(row, source_ref_map(session=session, ids={row.source_id})[row.source_id])
