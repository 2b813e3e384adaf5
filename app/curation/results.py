"""Curator writes of results: create, correct, retract — each verified, audited and versioned."""

import secrets
from dataclasses import asdict
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.curation.revisions import track
from app.curation.totals import recompute_totals
from app.curation.unit_of_work import UnitOfWork, unit_of_work
from app.curation.verify import CheckedFigure, check_figure
from app.domain.errors import (
    Conflict,
    FigureRejected,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.domain.provenance import occurrence_at
from app.domain.revisions import result_etag, tag_matches
from app.models import OperationSource, PhaseSource, Result, Source
from app.read.history import read_epoch
from app.schemas.results import ResultBase, ResultCreate, ResultUpdate
from app.writes import WriteContext

AUDITED = (
    "operation_slug",
    "phase_slug",
    "metric_slug",
    "value",
    "unit",
    "number_text",
    "value_base",
    "base_unit",
    "qualifier",
    "scope",
    "country",
    "period_start",
    "period_end",
    "as_of",
    "source_id",
    "quote",
    "quote_start",
    "quote_end",
    "duplicate_of",
    "note",
    "retracted",
    "retracted_reason",
)
RENAMED = {"operation": "operation_slug", "phase": "phase_slug", "metric": "metric_slug"}


def snapshot(result: Result) -> dict[str, Any]:
    """The audited state of a result as JSON-able data."""
    out = {}
    for name in AUDITED:
        v = getattr(result, name)
        out[name] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


def new_result_id() -> str:
    """An id for a result created through the API (seeded results carry curated ids)."""
    return f"r-{secrets.token_hex(6)}"


def result_not_found(result_id: str) -> NotFound:
    """The error for an unknown result id."""
    return NotFound(f"No result {result_id!r}.", code="result-not-found")


def _apply(result: Result, checked: CheckedFigure) -> None:
    """Copy verified fields onto the row."""
    for key, value in asdict(checked).items():
        setattr(result, RENAMED.get(key, key), value)


def check_duplicate_link(*, session: Session, result: Result) -> None:
    """A duplicate must point at an existing report of the same metric that is not itself a copy."""
    if result.duplicate_of is None:
        return
    target = session.get(Result, result.duplicate_of)
    if target is None:
        raise FigureRejected("duplicate_of", f"unknown result {result.duplicate_of!r}")
    if target.metric_slug != result.metric_slug or target.operation_slug != result.operation_slug:
        raise FigureRejected("duplicate_of", "a duplicate reports the same metric of the same operation")
    if target.duplicate_of is not None:
        raise FigureRejected(
            "duplicate_of", f"{target.id!r} is itself a duplicate; link to {target.duplicate_of!r}"
        )


def _link_source(uow: UnitOfWork, result: Result) -> None:
    """Record that the result's source speaks of its operation (a concurrent writer may link it first)."""
    if (
        result.operation_slug
        and uow.session.get(OperationSource, (result.operation_slug, result.source_id)) is None
    ):
        try:
            with uow.session.begin_nested():
                uow.add(OperationSource(operation_slug=result.operation_slug, source_id=result.source_id))
        except IntegrityError:  # linked by a concurrent write of the same source: the link stands
            pass


def _recompute(uow: UnitOfWork) -> None:
    """Bring the maintained totals up to date with this write's result changes (in its transaction)."""
    recompute_totals(session=uow.session, entries=uow.entries, instant=uow.instant)


def recompute_totals_on(uow: UnitOfWork) -> None:
    """Have this write refresh the maintained totals it touches, once, just before its commit."""
    if _recompute not in uow.hooks:
        uow.before_commit(_recompute)


def create_result(
    uow: UnitOfWork, checked: CheckedFigure, *, result_id: str | None = None, reason: str | None = None
) -> Result:
    """Insert a verified figure with its audit entry, inside the caller's unit of work."""
    result = Result(id=result_id or new_result_id())  # type: ignore[call-arg]
    _apply(result, checked)
    check_duplicate_link(session=uow.session, result=result)
    uow.add(result)
    _link_source(uow, result)
    uow.record("create", "result", result.id, after=snapshot(result), reason=reason)
    track(uow, result)
    recompute_totals_on(uow)
    return result


def update_result_checked(
    uow: UnitOfWork, result: Result, checked: CheckedFigure, *, reason: str | None, always: bool = False
) -> bool:
    """Write verified fields onto a result when they differ (or `always`: a curator's PATCH is a write
    even when it confirms the values); audited. True when it was written."""
    before = snapshot(result)
    with uow.session.no_autoflush:
        _apply(result, checked)
        after = snapshot(result)
        if after == before and not always:
            return False
        check_duplicate_link(session=uow.session, result=result)
    result.revision += 1
    result.updated_at = uow.instant
    uow.add(result)
    _link_source(uow, result)
    uow.record("update", "result", result.id, before=before, after=after, reason=reason)
    track(uow, result)
    recompute_totals_on(uow)
    return True


def draft_of(result: Result) -> dict[str, Any]:
    """The curator-facing fields of a stored result (to merge a PATCH into)."""
    fields = ("value", "unit", "qualifier", "scope", "country", "period_start", "period_end", "as_of")
    return {
        "operation": result.operation_slug,
        "phase": result.phase_slug,
        "metric": result.metric_slug,
        **{f: getattr(result, f) for f in fields},
        "quote": result.quote,
        "duplicate_of": result.duplicate_of,
        "note": result.note,
    }


def merged_draft(base: dict[str, Any], changes: dict[str, Any]) -> ResultBase:
    """A stored or proposed figure with a curator's changes applied; InvalidInput when it is no figure."""
    from pydantic import ValidationError

    try:
        return ResultBase.model_validate({**base, **changes})
    except ValidationError as exc:
        errors = [{"name": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        names = ", ".join(sorted({e["name"] for e in errors}))
        raise InvalidInput(f"Invalid input: {names}.", errors=errors) from exc


def same_figure(session: Session, checked: CheckedFigure) -> Result | None:
    """A non-retracted result stating the same figure (any source or date), if there is one."""
    stmt = select(Result).where(
        col(Result.retracted).is_(False),
        col(Result.metric_slug) == checked.metric,
        col(Result.scope) == checked.scope,
        col(Result.qualifier) == checked.qualifier,
        col(Result.value_base) == checked.value_base,
    )
    for column, value in (
        (col(Result.operation_slug), checked.operation),
        (col(Result.phase_slug), checked.phase),
        (col(Result.country), checked.country),
    ):
        stmt = stmt.where(column.is_(None) if value is None else column == value)
    return session.exec(stmt.order_by(col(Result.created_at), col(Result.id))).first()


def create_new_figure(
    uow: UnitOfWork, checked: CheckedFigure, *, not_duplicate: bool, reason: str | None = None
) -> Result:
    """Create a curator's figure: a 409 possible-duplicate when an equal one stands, unless it is linked
    to it (`duplicate_of`, audited as link_duplicate) or declared distinct (`not_duplicate`, audited)."""
    same = same_figure(uow.session, checked)
    if same is not None and checked.duplicate_of is None and not not_duplicate:
        raise Conflict(
            f"Result {same.id!r} already states this figure ({checked.value:g} {checked.unit}, "
            f"{checked.qualifier}). Set duplicate_of to {same.id!r} to add it as another report of that "
            "figure, or not_duplicate: true to keep both.",
            code="possible-duplicate",
            result_id=same.id,
        )
    kept = f"kept beside {same.id} (not_duplicate)" if same is not None and not_duplicate else None
    result = create_result(uow, checked, reason="; ".join(r for r in (reason, kept) if r) or None)
    if kept:
        uow.entries[-1].after = {**(uow.entries[-1].after or {}), "not_duplicate": True}
    if result.duplicate_of is not None:
        uow.record("link_duplicate", "result", result.id, after={"duplicate_of": result.duplicate_of})
    link_phase_source(uow, result)
    return result


def link_phase_source(uow: UnitOfWork, result: Result) -> None:
    """A source that reports a phase's figure speaks of the phase: it joins the phase's sources."""
    key = (result.phase_slug, result.source_id)
    if result.phase_slug and uow.session.get(PhaseSource, key) is None:
        uow.add(PhaseSource(phase_slug=result.phase_slug, source_id=result.source_id))


def add_result(*, write: WriteContext, data: ResultCreate) -> Result:
    """A new result straight from a curator, verified like a seed entry."""
    session = write.session
    with unit_of_work(write) as uow:
        source = session.get(Source, data.source_id)
        if source is None:
            raise InvalidInput(f"No source {data.source_id}.", code="source-not-found", field="source_id")
        checked = check_figure(session=session, draft=data, source=source)
        return create_new_figure(uow, checked, not_duplicate=data.not_duplicate)


def patch_result(
    *, write: WriteContext, result_id: str, changes: ResultUpdate, if_match: str | None
) -> Result:
    """Correct a result when the client saw its current state (If-Match); re-verified, audited."""
    session = write.session
    if not if_match:
        raise PreconditionRequired(
            "A PATCH needs If-Match with the result's current ETag.", parameter="if-match"
        )
    with unit_of_work(write) as uow:
        row = uow.locked(Result, result_id)
        if row is None:
            raise result_not_found(result_id)
        refuse_retracted(row, "corrected")
        if not tag_matches(if_match, result_etag(row.id, row.revision, epoch=read_epoch(session=session))):
            raise PreconditionFailed(
                "The result changed since you read it; GET it again.", parameter="if-match"
            )
        draft = merged_draft(draft_of(row), changes.model_dump(exclude_unset=True, exclude={"reason"}))
        source = session.get(Source, row.source_id)
        assert source is not None
        same_quote = draft.quote == row.quote
        occurrence = occurrence_at(source.text, row.quote, row.quote_start) if same_quote else None
        checked = check_figure(
            session=session, draft=draft, source=source, occurrence=occurrence, self_id=row.id
        )
        update_result_checked(uow, row, checked, reason=changes.reason, always=True)
        return row


def refuse_retracted(row: Result, what: str) -> None:
    """A retracted result is history: it cannot be changed (409)."""
    if row.retracted:
        raise Conflict(
            f"Result {row.id!r} is retracted ({row.retracted_reason}): it cannot be {what}. "
            "Add a new result instead.",
            code="result-retracted",
        )


def retract_row(uow: UnitOfWork, row: Result, *, reason: str) -> Result:
    """Flag a result retracted (never deleted), audited; a retracted one is left as it is."""
    if row.retracted:
        return row
    before = snapshot(row)
    row.retracted, row.retracted_reason = True, reason
    row.revision += 1
    row.updated_at = uow.instant
    uow.add(row)
    uow.record("retract", "result", row.id, before=before, after=snapshot(row), reason=reason)
    track(uow, row)
    recompute_totals_on(uow)
    return row


def retract(*, write: WriteContext, result_id: str, reason: str) -> Result:
    """Hide a result from lists and totals; it stays readable and is never deleted."""
    with unit_of_work(write) as uow:
        row = uow.locked(Result, result_id)
        if row is None:
            raise result_not_found(result_id)
        refuse_retracted(row, "retracted again")
        return retract_row(uow, row, reason=reason)
