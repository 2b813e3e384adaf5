"""Liveness and readiness probes (outside /api/v1: they describe the process, not the data)."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from app.api.v1.params import NoQuery
from app.config import get_settings
from app.db import head_revision
from app.domain.errors import Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz(_: NoQuery) -> dict[str, str]:
    """Answers while the process runs, whatever the database does."""
    return {"status": "ok"}


def _migration(request: Request) -> str | None:
    """The database's migration, read through a pooled connection like any request."""
    with request.app.state.sessions() as session:
        value = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if value is None else str(value)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, _: NoQuery) -> Response:
    """Prometheus metrics of this process (app/http/edge/observability.py names them)."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz", summary="The database answers in time and is migrated to head")
async def readyz(request: Request, _: NoQuery) -> dict[str, Any]:
    """503 problem when the database is down, stalled (no answer within READY_TIMEOUT seconds, e.g.
    an exhausted pool) or not at the expected migration."""
    timeout = get_settings().ready_timeout
    try:
        current = await asyncio.wait_for(run_in_threadpool(_migration, request), timeout)
    except TimeoutError as exc:
        raise Unavailable(f"The database did not answer within {timeout:g} s.") from exc
    except Exception as exc:  # any driver error means not ready
        raise Unavailable("The database is not reachable or not migrated.") from exc
    head = head_revision()
    if current != head:
        raise Unavailable(f"The database is at migration {current}, not {head}.")
    replica = getattr(request.app.state, "replica", None)
    if replica is None:
        return {"status": "ready", "migration": str(current)}
    standby = await run_in_threadpool(replica.status, _known_version(request))
    status = "ready" if standby["state"] != "down" else "degraded"  # reads go to the primary
    return {"status": status, "migration": str(current), "standby": standby}


def _known_version(request: Request) -> int | None:
    """The primary's data version as this process knows it (the listener's, or a query)."""
    try:
        return int(request.app.state.versions.read().version)
    except Exception:  # the primary is checked above; a version is only for the lag
        return None
