"""Operations: the four standing operations, by slug or any alias, with phases and totals."""

from fastapi import APIRouter, Request, Response

from app.api.deps import OperationDep, SessionDep, VersionDep
from app.api.v1.params import FormatQuery, ListQuery, short_list
from app.http.negotiation import JSON_TYPE, cached_value, csv_response, representation, respond
from app.http.openapi import read_responses
from app.read.aggregates import operation_totals_json, operation_totals_rows
from app.read.operations import list_operations, list_phases, operation_public
from app.schemas.catalog import OperationPublic, PhasePublic
from app.schemas.common import Page
from app.schemas.totals import MetricTotals, OperationTotals

router = APIRouter(prefix="/operations", tags=["operations"])
NOT_FOUND = "No such operation (problem+json listing the valid slugs under `valid_operations`)"


@router.get(
    "",
    summary="List the operations",
    response_model=Page[OperationPublic],
    responses=read_responses(
        csv_example="slug,name,name_ru,aliases,purpose,...\r\nchannel,Channel,Канал,...\r\n"
    ),
)
def get_operations(request: Request, session: SessionDep, query: ListQuery) -> Response:
    """Every operation with its aliases, how its start is known, its dated status history and sources."""
    items = list_operations(session=session, snap=query.snap)
    return short_list(request, query, OperationPublic, items, lambda o: o.slug)


@router.get(
    "/{key}",
    summary="One operation by slug or alias",
    response_model=OperationPublic,
    responses=read_responses(not_found=NOT_FOUND),
)
def get_operation(
    request: Request, session: SessionDep, operation: OperationDep, query: FormatQuery
) -> Response:
    """`/operations/Kanal` (or `KANAL`, `Канал`) answers the `channel` operation."""
    public = operation_public(session=session, op=operation, snap=query.snap)
    return respond(request, public, fmt=query.format, bom=query.bom)


@router.get(
    "/{key}/phases",
    summary="The phases of one operation",
    response_model=Page[PhasePublic],
    responses=read_responses(not_found=NOT_FOUND),
)
def get_operation_phases(
    request: Request, session: SessionDep, operation: OperationDep, query: ListQuery
) -> Response:
    """Phases in date order (undated last), e.g. `channel-center-2019` for `channel`."""
    items = list_phases(session=session, operation=operation.slug, snap=query.snap)
    return short_list(request, query, PhasePublic, items, lambda p: p.slug)


@router.get(
    "/{key}/totals",
    summary="Totals of one operation, per metric",
    response_model=OperationTotals,
    responses=read_responses(
        not_found=NOT_FOUND,
        csv_example="operation,metric,label,base_unit,cumulative_result_id,...\r\n"
        "channel,drugs_seized,Drugs seized (all kinds),kg,channel-2023-drugs-seized,...\r\n",
    ),
)
def get_operation_totals(
    request: Request,
    session: SessionDep,
    version: VersionDep,
    operation: OperationDep,
    query: FormatQuery,
) -> Response:
    """Per metric: the latest cumulative figure (e.g. Channel's "more than 427 t" = 427000 kg, 2023-05-18),
    the sum over phases of one whole-phase figure each (with the qualifier of the sum: "more than" parts
    make a lower bound), countries' shares listed apart, and the reports that disagree with the one used.
    Cumulative figures, country shares and duplicate reports are never added. CSV: one row per metric."""
    snap = query.snap
    if representation(request, query.format, query.bom) != "json":
        rows = operation_totals_rows(session=session, operation=operation, snap=snap)
        return csv_response(MetricTotals, rows, lead=["operation"], bom=query.bom)
    body = cached_value(
        request,
        version,
        ("totals", operation.slug),
        lambda: operation_totals_json(
            session=session, operation=operation, kept=request.app.state.caches.totals, snap=snap
        ),
    )
    return Response(body, media_type=JSON_TYPE)
