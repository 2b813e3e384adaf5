"""Consistency checks: figures that cannot all be right (newer running totals below older ones, ...)."""

from fastapi import APIRouter, Request, Response

from app.api.deps import SessionDep, VersionDep
from app.api.v1.params import FormatQuery
from app.api.v1.totals import all_totals_body
from app.http.negotiation import respond
from app.http.openapi import read_responses
from app.read.checks import all_findings
from app.schemas.changes import Finding, Findings
from app.schemas.totals import AllTotals

router = APIRouter(prefix="/checks", tags=["checks"])


@router.get(
    "",
    summary="Consistency findings over every operation",
    response_model=Findings,
    responses=read_responses(
        csv_example="kind,operation,metric,result_ids,detail\r\n"
        "cumulative_decreased,channel,heroin_seized,channel-2023-heroin; r-1a2b3c4d5e6f,...\r\n"
    ),
)
def get_checks(request: Request, session: SessionDep, version: VersionDep, query: FormatQuery) -> Response:
    """`cumulative_decreased` (a running total reported later below one reported earlier),
    `cumulative_below_phase_sum` (a running total below the lower-bound sum of the whole-phase figures
    reported by its date) and `duplicate_reports_differ` (reports of one figure that state different
    values). The totals of each metric carry the same findings under `warnings`. Retracted results are
    not checked; nothing is changed automatically."""
    body = all_totals_body(request, session, version, query.snap)
    findings = Findings(items=all_findings(AllTotals.model_validate_json(body)))
    rows = lambda: [f.model_dump(mode="json") for f in findings.items]  # noqa: E731
    return respond(request, findings, fmt=query.format, bom=query.bom, model=Finding, rows=rows)
