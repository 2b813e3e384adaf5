"""Time series of one metric for dashboards."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from app.api.deps import SessionDep, VersionDep
from app.api.v1.params import AsOfParams, Bom, Format
from app.http.negotiation import cached_value, respond
from app.http.openapi import read_responses
from app.models import Scope
from app.read.results import resolve_metric, resolve_operation_param
from app.read.series import series
from app.schemas.totals import Series, SeriesPoint

router = APIRouter(prefix="/series", tags=["series"])


class SeriesQuery(AsOfParams):
    """Which series `GET /series` draws; any other parameter is refused."""

    metric: str = Field(
        max_length=64, description="Metric slug (see /api/v1/metrics)", examples=["opium_seized"]
    )
    operation: str | None = Field(
        default=None,
        max_length=100,
        description="Operation slug or alias; all operations when absent",
        examples=["channel"],
    )
    scope: Scope = Field(
        default=Scope.phase,
        description="phase: sums of whole-phase figures; cumulative / programme: running totals",
    )
    by: Literal["year", "phase"] = Field(
        default="year", description="Points per year (the year a phase starts) or per phase"
    )
    format: Format = None
    bom: Bom = False


@router.get(
    "",
    summary="A time series of one metric",
    response_model=Series,
    responses=read_responses(
        csv_example="metric,operation,scope,by,period,value_base,base_unit,qualifier,...\r\n"
        "opium_seized,channel,phase,year,2019,8900.0,kg,more_than,...\r\n"
    ),
)
def get_series(
    request: Request, session: SessionDep, version: VersionDep, query: Annotated[SeriesQuery, Query()]
) -> Response:
    """Points with the value in the metric's base unit, the qualifier of the sum and the result ids, e.g.
    `?metric=opium_seized&operation=channel` → 2019: 8900 kg, more_than, [channel-center-2019-opium].
    The same counting rules as the totals: duplicates once, countries' shares and running totals never
    added. `scope=cumulative` (one operation) or `programme` gives the newest running total per year.
    CSV: one row per point, led by metric, operation, scope and by."""
    m, snap = resolve_metric(session=session, metric=query.metric), query.snap
    op = resolve_operation_param(session=session, operation=query.operation)
    scope, by = query.scope, query.by
    key = ("series", m.slug, op, scope.value, by)
    data = cached_value(
        request,
        version,
        key,
        lambda: series(session=session, metric=m, operation=op, scope=scope.value, by=by, snap=snap),
    )
    lead = {"metric": data.metric, "operation": data.operation, "scope": data.scope, "by": data.by}
    return respond(
        request,
        data,
        fmt=query.format,
        bom=query.bom,
        model=SeriesPoint,
        lead=list(lead),
        rows=lambda: [{**lead, **p.model_dump(mode="json")} for p in data.points],
    )
