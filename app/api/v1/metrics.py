"""Metrics: what is counted or weighed, and the base unit totals use."""

from fastapi import APIRouter, Request, Response

from app.api.deps import SessionDep
from app.api.v1.params import ListQuery, short_list
from app.http.openapi import read_responses
from app.read.catalog import list_metrics
from app.schemas.catalog import MetricPublic
from app.schemas.common import Page

router = APIRouter(prefix="/metrics", tags=["metrics"])


@router.get(
    "",
    summary="List the metrics",
    response_model=Page[MetricPublic],
    responses=read_responses(
        csv_example="slug,label,dimension,base_unit,description\r\nopium_seized,Opium seized,mass,kg,\r\n"
    ),
)
def get_metrics(request: Request, session: SessionDep, query: ListQuery) -> Response:
    """Every metric with its dimension and base unit (e.g. `opium_seized`: mass, kg), by slug."""
    items = list_metrics(session=session)
    return short_list(request, query, MetricPublic, items, lambda m: m.slug)
