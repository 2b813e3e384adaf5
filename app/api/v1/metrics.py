"""Metrics: what is counted or weighed, and the base unit totals use."""

from fastapi import APIRouter, Request, Response
from sqlmodel import col, select

from app.api.deps import SessionDep
from app.http.negotiation import FormatQuery, respond
from app.http.openapi import read_responses
from app.models import Metric
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
def get_metrics(request: Request, session: SessionDep, format: FormatQuery = None) -> Response:
    """Every metric with its dimension and base unit (e.g. `opium_seized`: mass, kg), by slug."""
    rows = session.exec(select(Metric).order_by(col(Metric.slug))).all()
    items = [MetricPublic.model_validate(m, from_attributes=True) for m in rows]
    page = Page[MetricPublic](items=items, next_cursor=None, total=len(items))
    return respond(request, page, model=MetricPublic, rows=lambda: [i.model_dump(mode="json") for i in items])
