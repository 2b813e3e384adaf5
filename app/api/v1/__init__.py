"""Every v1 router, collected in one place."""

from fastapi import APIRouter

from app.api import datapackage  # a download of the whole dataset: beside the v1 resources' routers
from app.api.v1 import (
    candidates,
    changes,
    checks,
    metrics,
    operations,
    phases,
    results,
    series,
    sources,
    totals,
)

api_router = APIRouter(prefix="/api/v1")
for module in (operations, phases, metrics, sources, results, totals, series, changes, checks, candidates):
    api_router.include_router(module.router)
api_router.include_router(datapackage.router)
