"""Totals of every operation, with the organisation-wide programme figures apart."""

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from app.api.deps import SessionDep, VersionDep
from app.api.v1.params import FormatQuery
from app.http.negotiation import JSON_TYPE, cached_value, csv_response, representation
from app.http.openapi import read_responses
from app.read.aggregates import all_totals_json, all_totals_rows
from app.read.asof import Snapshot
from app.schemas.totals import AllTotals, MetricTotals

router = APIRouter(prefix="/totals", tags=["totals"])


@router.get(
    "",
    summary="Totals of every operation, and programme figures apart",
    response_model=AllTotals,
    responses=read_responses(
        csv_example="operation,metric,label,base_unit,cumulative_result_id,...\r\n"
        "channel,drugs_seized,Drugs seized (all kinds),kg,channel-2023-drugs-seized,...\r\n"
        ",drugs_seized,Drugs seized (all kinds),kg,csto-2023-drugs-seized,...\r\n"
    ),
)
def get_totals(request: Request, session: SessionDep, version: VersionDep, query: FormatQuery) -> Response:
    """`operations`: each operation's totals as at `/operations/{key}/totals`. `programme`: the
    organisation-wide figures (e.g. "more than 420 t" of drugs seized by collective efforts, reported
    2023-06-08), whose latest report per metric stands under `cumulative`; they are never added to an
    operation's figures. CSV: one row per metric; programme rows have an empty `operation`."""

    snap = query.snap
    if representation(request, query.format, query.bom) != "json":
        rows = all_totals_rows(session=session, snap=snap)
        return csv_response(MetricTotals, rows, lead=["operation"], bom=query.bom)
    return Response(all_totals_body(request, session, version, snap), media_type=JSON_TYPE)


def all_totals_body(request: Request, session: Session, version: int, snap: Snapshot) -> bytes:
    """Every operation's totals as JSON (cached under one key, which /checks reads too), as they
    stood at `snap`."""
    body: bytes = cached_value(
        request,
        version,
        ("totals", "*"),
        lambda: all_totals_json(session=session, kept=request.app.state.caches.totals, snap=snap),
    )
    return body
