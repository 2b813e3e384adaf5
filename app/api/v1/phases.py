"""Phases by slug."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.api.deps import CuratorWriteDep, SessionDep
from app.api.v1.params import FormatQuery, ListQuery, short_list
from app.curation.phases import add_phase
from app.http.edge.writes import WriteRoute
from app.http.idempotency import idempotent_post
from app.http.negotiation import respond
from app.http.openapi import read_responses
from app.read.operations import find_phase, list_phases, phase_public
from app.schemas.catalog import PhaseCreate, PhasePublic
from app.schemas.common import Page

router = APIRouter(prefix="/phases", tags=["phases"], route_class=WriteRoute)


@router.get(
    "",
    summary="List every phase",
    response_model=Page[PhasePublic],
    responses=read_responses(
        csv_example="slug,operation,name,kind,start_date,end_date,...\r\n"
        "channel-center-2019,channel,Channel-Center,international,2019-02-26,2019-03-01,...\r\n"
    ),
)
def get_phases(request: Request, session: SessionDep, query: ListQuery) -> Response:
    """All phases of all operations, oldest first (undated last)."""
    items = list_phases(session=session, snap=query.snap)
    return short_list(request, query, PhasePublic, items, lambda p: p.slug)


@router.get(
    "/{slug}",
    summary="One phase",
    response_model=PhasePublic,
    responses=read_responses(not_found="No such phase"),
)
def get_phase(
    request: Request,
    session: SessionDep,
    slug: Annotated[str, Path(max_length=100, examples=["channel-center-2019"])],
    query: FormatQuery,
) -> Response:
    """A phase with its dates (the precision the source gives), headquarters, participants,
    observers and sources."""
    phase = find_phase(session=session, slug=slug, snap=query.snap)
    public = phase_public(session=session, phase=phase, snap=query.snap)
    return respond(request, public, fmt=query.format, bom=query.bom)


# ---------------------------------------------------------------- writes (curation)


@idempotent_post(router, "", status_code=201, summary="Add a phase (curator)")
def post_phase(
    session: SessionDep, response: Response, write: CuratorWriteDep, data: PhaseCreate
) -> PhasePublic:
    """The slug is derived from the name and start year when not given; 409 when it is taken."""
    phase = add_phase(write=write, data=data)
    response.headers["Location"] = f"/api/v1/phases/{phase.slug}"
    return phase_public(session=session, phase=phase)
