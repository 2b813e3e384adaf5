"""Writing results: one place that creates, corrects and retracts them, audited and versioned."""

import secrets
from dataclasses import asdict
from typing import Any

from sqlmodel import Session

from app.curation.audit import record
from app.curation.verify import CheckedFigure, FigureRejected, check_figure
from app.curation.version import bump_data_version
from app.models import OperationSource, Result, Source
from app.models.enums import Qualifier, Scope
from app.models.tables import utcnow
from app.schemas.results import ResultBase, ResultPublic, ResultUpdate, SourceRef

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


def _link_source(session: Session, result: Result) -> None:
    """Record that the result's source speaks of its operation."""
    if (
        result.operation_slug
        and session.get(OperationSource, (result.operation_slug, result.source_id)) is None
    ):
        session.add(OperationSource(operation_slug=result.operation_slug, source_id=result.source_id))


def create_result(
    *,
    session: Session,
    checked: CheckedFigure,
    actor: str,
    result_id: str | None = None,
    reason: str | None = None,
) -> Result:
    """Insert a verified figure with its audit entry; the caller commits."""
    result = Result(id=result_id or new_result_id())  # type: ignore[call-arg]
    _apply(result, checked)
    check_duplicate_link(session=session, result=result)
    session.add(result)
    session.flush()
    _link_source(session, result)
    record(
        session=session,
        actor=actor,
        action="create",
        entity="result",
        entity_id=result.id,
        after=snapshot(result),
        reason=reason,
    )
    bump_data_version(session=session)
    return result


def draft_of(result: Result) -> dict[str, Any]:
    """The curator-facing fields of a stored result (to merge a PATCH into)."""
    return {
        "operation": result.operation_slug,
        "phase": result.phase_slug,
        "metric": result.metric_slug,
        "value": result.value,
        "unit": result.unit,
        "qualifier": result.qualifier,
        "scope": result.scope,
        "country": result.country,
        "period_start": result.period_start,
        "period_end": result.period_end,
        "as_of": result.as_of,
        "quote": result.quote,
        "duplicate_of": result.duplicate_of,
        "note": result.note,
    }


def update_result(*, session: Session, result: Result, changes: ResultUpdate, actor: str) -> Result:
    """Apply a correction through the same validation as a new figure; audited."""
    fields = changes.model_dump(exclude_unset=True, exclude={"reason"})
    draft = ResultBase.model_validate({**draft_of(result), **fields})
    source = session.get(Source, result.source_id)
    assert source is not None
    occurrence = _occurrence(source.text, result) if draft.quote == result.quote else None
    checked = check_figure(
        session=session, draft=draft, source=source, occurrence=occurrence, self_id=result.id
    )
    update_result_checked(session=session, result=result, checked=checked, actor=actor, reason=changes.reason)
    return result


def update_result_checked(
    *, session: Session, result: Result, checked: CheckedFigure, actor: str, reason: str | None
) -> bool:
    """Write verified fields onto a result when they differ; audited. True when it changed."""
    before = snapshot(result)
    with session.no_autoflush:
        _apply(result, checked)
        after = snapshot(result)
        if after == before:
            return False
        check_duplicate_link(session=session, result=result)
    result.revision += 1
    result.updated_at = utcnow()
    session.add(result)
    session.flush()
    _link_source(session, result)
    record(
        session=session,
        actor=actor,
        action="update",
        entity="result",
        entity_id=result.id,
        before=before,
        after=after,
        reason=reason,
    )
    bump_data_version(session=session)
    return True


def _occurrence(text: str, result: Result) -> int:
    """Which occurrence of its quote a stored result points at (keeps offsets on a re-check)."""
    return text.count(result.quote, 0, result.quote_start) + 1


def retract_result(*, session: Session, result: Result, actor: str, reason: str) -> Result:
    """Hide a result from lists and totals without deleting it; audited."""
    if result.retracted:
        return result
    before = snapshot(result)
    result.retracted, result.retracted_reason = True, reason
    result.revision += 1
    result.updated_at = utcnow()
    session.add(result)
    record(
        session=session,
        actor=actor,
        action="retract",
        entity="result",
        entity_id=result.id,
        before=before,
        after=snapshot(result),
        reason=reason,
    )
    bump_data_version(session=session)
    return result


def to_public(result: Result, source: SourceRef) -> ResultPublic:
    """The public shape of a result."""
    return ResultPublic(
        id=result.id,
        operation=result.operation_slug,
        phase=result.phase_slug,
        metric=result.metric_slug,
        value=result.value,
        unit=result.unit,
        number_text=result.number_text,
        value_base=result.value_base,
        base_unit=result.base_unit,
        qualifier=Qualifier(result.qualifier),
        scope=Scope(result.scope),
        country=result.country,
        period_start=result.period_start,
        period_end=result.period_end,
        as_of=result.as_of,
        source=source,
        quote=result.quote,
        quote_start=result.quote_start,
        quote_end=result.quote_end,
        duplicate_of=result.duplicate_of,
        note=result.note,
        retracted=result.retracted,
        retracted_reason=result.retracted_reason,
        updated_at=result.updated_at,
    )
