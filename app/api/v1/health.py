"""Liveness and readiness probes (outside /api/v1: they describe the process, not the data)."""

from fastapi import APIRouter
from sqlalchemy import text

from app.api.deps import SessionDep
from app.api.v1.params import NoQuery
from app.db import head_revision
from app.domain.errors import Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz(_: NoQuery) -> dict[str, str]:
    """Answers while the process runs, whatever the database does."""
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and migrated to head")
def readyz(session: SessionDep, _: NoQuery) -> dict[str, str]:
    """503 problem when the database is down or not at the expected migration."""
    try:
        current = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # any driver error means not ready
        raise Unavailable("The database is not reachable or not migrated.") from exc
    head = head_revision()
    if current != head:
        raise Unavailable(f"The database is at migration {current}, not {head}.")
    return {"status": "ready", "migration": str(current)}
