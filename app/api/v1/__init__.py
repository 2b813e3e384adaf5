"""Every v1 router, collected in one place."""

from fastapi import APIRouter

from app.api.v1 import metrics, operations, phases, results, sources

api_router = APIRouter(prefix="/api/v1")
for module in (operations, phases, metrics, sources, results):
    api_router.include_router(module.router)
