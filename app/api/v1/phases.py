"""Phases by slug."""

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import SessionDep
from app.core.problems import ProblemError
from app.models import Phase
from app.models.schemas import Page, PhasePublic
from app.services.operations import list_phases, phase_public

router = APIRouter(prefix="/phases", tags=["phases"])


@router.get("", summary="List every phase")
def get_phases(session: SessionDep) -> Page[PhasePublic]:
    """All phases of all operations."""
    items = list_phases(session=session)
    return Page(items=items, next_cursor=None, total=len(items))


@router.get("/{slug}", summary="One phase")
def get_phase(
    session: SessionDep,
    slug: Annotated[str, Path(max_length=100, examples=["channel-center-2019"])],
) -> PhasePublic:
    """A phase with headquarters, participants, observers and sources."""
    phase = session.get(Phase, slug.lower())
    if phase is None:
        raise ProblemError(404, f"No phase {slug!r}.", code="phase-not-found")
    return phase_public(session=session, phase=phase)
