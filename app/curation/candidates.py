"""Candidates: figures extraction found in a source, stored pending, then accepted or rejected."""

from dataclasses import replace
from enum import Enum
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.curation.results import create_new_figure, merged_draft
from app.curation.unit_of_work import UnitOfWork, unit_of_work
from app.curation.verify import CheckedFigure, check_figure
from app.domain.cursors import decode_id_cursor, encode_id_cursor
from app.domain.errors import Conflict, FigureRejected, NotFound
from app.domain.provenance import occurrence_at
from app.domain.text.dates import statement_date
from app.models import Candidate, CandidateStatus, Phase, Result, Source
from app.schemas.curation import CandidateAccept, CandidatePublic
from app.schemas.results import ResultBase
from app.writes import WriteContext

DRAFT_FIELDS = (
    "value",
    "unit",
    "number_text",
    "number_start",
    "qualifier",
    "metric",
    "operation",
    "phase",
    "country",
    "quote",
    "quote_start",
    "quote_end",
    "confidence",
    "scope",
    "note",
)


def candidate_public(c: Candidate) -> CandidatePublic:
    """The public shape of a candidate."""
    return CandidatePublic.model_validate(c, from_attributes=True)


def _plain(v: Any) -> Any:
    """Enum members and decimals of a draft as plain column values."""
    if isinstance(v, Enum):
        return v.value
    return float(v) if type(v).__name__ == "Decimal" else v


def source_or_404(session: Session, source_id: int) -> Source:
    """The source, or NotFound."""
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound(f"No source {source_id}.", code="source-not-found")
    return source


def _drafts(session: Session, source: Source) -> list[dict[str, Any]]:
    """Run extraction (another module) on a stored text; one dict of column values per figure."""
    from app.extraction.catalog import load_catalog
    from app.extraction.extract import extract_candidates

    drafts = extract_candidates(
        text=source.text, catalog=load_catalog(session=session), language=source.language
    )
    return [{f: _plain(getattr(d, f)) for f in DRAFT_FIELDS} for d in drafts]


def pending_of(*, session: Session, source_id: int) -> list[Candidate]:
    """The pending candidates of one source, in text order."""
    stmt = (
        select(Candidate)
        .where(Candidate.source_id == source_id, Candidate.status == CandidateStatus.pending.value)
        .order_by(col(Candidate.number_start))
    )
    return list(session.exec(stmt))


def extract_for_source(*, write: WriteContext, source_id: int) -> list[Candidate]:
    """Store the figures found in a source as pending candidates; a re-run adds no duplicates."""
    session = write.session
    source = source_or_404(session, source_id)
    drafts = _drafts(session, source)
    try:
        with unit_of_work(write) as uow:
            taken = set(session.exec(select(Candidate.number_start).where(Candidate.source_id == source_id)))
            new = []
            for d in drafts:
                if d["number_start"] not in taken:
                    taken.add(d["number_start"])
                    new.append(
                        uow.add(Candidate(source_id=source_id, status=CandidateStatus.pending.value, **d))
                    )
            if new:
                uow.record("extract", "source", str(source_id), after={"candidates": [c.id for c in new]})
    except IntegrityError:  # a concurrent run stored them first: theirs stand
        pass
    return pending_of(session=session, source_id=source_id)


def list_candidates(
    *, session: Session, source_id: int | None, status: str | None, limit: int, cursor: str | None
) -> tuple[list[CandidatePublic], str | None, int]:
    """One page of candidates in id order, the next cursor and the total matching."""
    stmt = select(Candidate)
    if source_id is not None:
        stmt = stmt.where(Candidate.source_id == source_id)
    if status is not None:
        stmt = stmt.where(Candidate.status == status)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    if cursor:
        stmt = stmt.where(col(Candidate.id) > decode_id_cursor(cursor, "candidates"))
    rows = list(session.exec(stmt.order_by(col(Candidate.id)).limit(limit + 1)))
    nxt = encode_id_cursor("candidates", rows[limit - 1].id or 0) if len(rows) > limit else None
    return [candidate_public(c) for c in rows[:limit]], nxt, total


def get_candidate(*, session: Session, candidate_id: int) -> Candidate:
    """One candidate, or the 404 problem."""
    row = session.get(Candidate, candidate_id)
    if row is None:
        raise NotFound(f"No candidate {candidate_id}.", code="candidate-not-found")
    return row


def _pending(uow: UnitOfWork, candidate_id: int) -> Candidate:
    """The candidate, locked for the decision; NotFound unknown, Conflict when already decided."""
    row = uow.locked(Candidate, candidate_id)
    if row is None:
        raise NotFound(f"No candidate {candidate_id}.", code="candidate-not-found")
    if row.status != CandidateStatus.pending.value:
        raise Conflict(f"Candidate {candidate_id} is already {row.status}.", code="candidate-decided")
    return row


def _state(c: Candidate) -> dict[str, Any]:
    return {"status": c.status, "result_id": c.result_id, "reason": c.reason}


# A figure must have these: a null correction of one keeps the candidate's guess.
GUESS_KEPT_ON_NULL = frozenset({"value", "unit", "qualifier"})


def draft_for(c: Candidate, corrections: CandidateAccept) -> ResultBase:
    """The figure a curator accepts: the candidate's guesses, overridden by the corrections given."""
    fields: dict[str, Any] = {
        "operation": c.operation,
        "phase": c.phase,
        "metric": c.metric,
        "value": c.value,
        "unit": c.unit,
        "qualifier": c.qualifier,
        "country": c.country,
        "quote": c.quote,
    }
    given = corrections.model_dump(exclude_unset=True, exclude={"not_duplicate"})
    fields.update({k: v for k, v in given.items() if v is not None or k not in GUESS_KEPT_ON_NULL})
    if fields.get("metric") is None:
        raise FigureRejected("metric", "is unknown for this candidate: say which one")
    if fields.get("scope") is None and c.scope and "phase" not in corrections.model_fields_set:
        fields["scope"] = c.scope
    if fields.get("scope") is None:
        fields["scope"] = (
            "phase" if fields["phase"] else ("cumulative" if fields["operation"] else "programme")
        )
    return merged_draft({}, fields)


def with_phase_period(session: Session, checked: CheckedFigure) -> CheckedFigure:
    """A phase figure without a period covers its phase's dates."""
    if checked.phase is None or checked.period_start or checked.period_end:
        return checked
    phase = session.get(Phase, checked.phase)
    if phase is None:
        return checked
    return replace(checked, period_start=phase.start_date, period_end=phase.end_date)


def accept_candidate(*, write: WriteContext, candidate_id: int, corrections: CandidateAccept) -> Result:
    """Turn a pending candidate into a result through the seed loader's validation; audited."""
    session = write.session
    with unit_of_work(write) as uow:
        c = _pending(uow, candidate_id)
        before = _state(c)
        source = source_or_404(session, c.source_id)
        draft = draft_for(c, corrections)
        if draft.as_of is None:  # the date of the statement, when the text gives one, not the stream's
            said = statement_date(source.text, c.quote_start, c.quote_end, source.published_on)
            draft = draft.model_copy(update={"as_of": said}) if said else draft
        occurrence = occurrence_at(source.text, c.quote, c.quote_start)
        checked = with_phase_period(
            session, check_figure(session=session, draft=draft, source=source, occurrence=occurrence)
        )
        result = create_new_figure(
            uow, checked, not_duplicate=corrections.not_duplicate, reason=f"accepted candidate {candidate_id}"
        )
        _decide(uow, c, status=CandidateStatus.accepted, result_id=result.id)
        uow.record("accept", "candidate", str(candidate_id), before=before, after=_state(c))
        return result


def reject_candidate(*, write: WriteContext, candidate_id: int, reason: str) -> Candidate:
    """Mark a pending candidate rejected, with the curator's reason; audited."""
    with unit_of_work(write) as uow:
        c = _pending(uow, candidate_id)
        before = _state(c)
        _decide(uow, c, status=CandidateStatus.rejected, reason=reason)
        uow.record("reject", "candidate", str(candidate_id), before=before, after=_state(c), reason=reason)
        return c


def _decide(
    uow: UnitOfWork,
    c: Candidate,
    *,
    status: CandidateStatus,
    result_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Record the decision on the candidate row."""
    c.status, c.result_id, c.reason = status.value, result_id, reason
    c.decided_by, c.decided_at = uow.actor, uow.instant
    uow.add(c)
