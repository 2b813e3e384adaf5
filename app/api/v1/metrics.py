"""Metrics: what is counted or weighed."""

from fastapi import APIRouter
from sqlmodel import col, select

from app.api.deps import SessionDep
from app.models import Metric
from app.models.schemas import MetricPublic, Page

router = APIRouter(prefix="/metrics", tags=["metrics"])


@router.get("", summary="List the metrics")
def get_metrics(session: SessionDep) -> Page[MetricPublic]:
    """Every metric with its dimension and base unit."""
    rows = session.exec(select(Metric).order_by(col(Metric.slug))).all()
    items = [MetricPublic.model_validate(m, from_attributes=True) for m in rows]
    return Page(items=items, next_cursor=None, total=len(items))
