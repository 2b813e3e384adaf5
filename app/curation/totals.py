"""Maintained totals, written: every write recomputes the stored totals it touched, in its own
transaction, and keeps their history.

The stored totals (app/read/aggregates.py reads them) are recomputed with the same counting functions
a GET without them uses (app/read/totals.py over app/domain/counting.py), so they always equal a
recompute. `recompute_totals` is the one entry: the totals these audit entries touched, or all of
them; bulk loads that bypass the write path (bench/make_million.py) and repairs recompute all
(`opstats db rebuild-aggregates`).

Every change of a stored total closes its open `TotalsRevision` at the write's instant and opens
the new one, so `at=` totals are read as they stood (app/read/aggregates.py); `history_from` on the
state row says since when that history is complete (a bulk load past the write path breaks it, the
next full recompute starts it again).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col
from sqlmodel import select as select_models

from app.domain.counting import Fig
from app.models import (
    AggregateState,
    AuditLog,
    Operation,
    PhaseChoiceAggregate,
    Result,
    TotalsAggregate,
    TotalsRevision,
)
from app.progress import SILENT, Progress
from app.read.aggregates import ChoiceKey, Key, body_hash, operation_key, stored_choices, totals_built
from app.read.checks import metric_findings, warned
from app.read.figures import PhaseChoice, ranked_phase_figures
from app.read.totals import metric_totals_of, operation_totals, programme_totals
from app.schemas.totals import MetricTotals


@dataclass
class Touched:
    """What a write may have changed: per-phase choices, then the totals assembled from them."""

    choices: set[ChoiceKey] = field(default_factory=set)
    totals: set[Key] = field(default_factory=set)


def _dump(totals: MetricTotals) -> str:
    return orjson.dumps(totals.model_dump(mode="json")).decode()


def _stored_row(operation: str | None, metric: str, totals: MetricTotals) -> TotalsAggregate:
    body = _dump(totals)
    return TotalsAggregate(
        operation_key=operation_key(operation), metric_slug=metric, body=body, body_hash=body_hash(body)
    )


def _fig_json(f: Fig) -> list[Any]:
    return [f.id, f.operation, f.phase, f.metric, f.value, f.unit, f.value_base, f.base_unit,
            f.qualifier, f.scope, f.country, f.as_of.isoformat(), f.period_start, f.duplicate_of]  # fmt: skip


def _choice_body(choice: PhaseChoice) -> str:
    figures = [_fig_json(f) for f in (choice.used, *choice.others)]
    return orjson.dumps({"figures": figures, "competing": choice.competing}).decode()


def _recompute_choices(*, session: Session, keys: Iterable[ChoiceKey]) -> None:
    """Re-rank the whole figures of these (operation, phase, metric) groups (one phase each)."""
    for operation, phase, metric in sorted(set(keys)):
        found = ranked_phase_figures(session=session, operation=operation, metric=metric, phase=phase)
        row = session.get(PhaseChoiceAggregate, (operation, phase, metric))
        if not found:
            if row is not None:
                session.delete(row)
            continue
        body = _choice_body(found[0])
        if row is None:
            row = PhaseChoiceAggregate(
                operation_slug=operation, phase_slug=phase, metric_slug=metric, body=body
            )
        row.body = body
        session.add(row)
    session.flush()


def _revise(session: Session, key: str, metric: str, row: TotalsAggregate | None, instant: datetime) -> None:
    """Record that the total of (`key`, `metric`) is `row` from `instant` on (None: there is none):
    its open revision ends then and a new one begins; one write revises a total at most once."""
    is_open = (
        (col(TotalsRevision.operation_key) == key)
        & (col(TotalsRevision.metric_slug) == metric)
        & col(TotalsRevision.valid_to).is_(None)
    )
    session.execute(delete(TotalsRevision).where(is_open, col(TotalsRevision.valid_from) == instant))
    session.execute(update(TotalsRevision).where(is_open).values(valid_to=instant))
    if row is not None:
        session.add(
            TotalsRevision(
                operation_key=key,
                metric_slug=metric,
                valid_from=instant,
                body=row.body,
                body_hash=row.body_hash,
            )
        )


def _recompute_keys(*, session: Session, keys: Iterable[Key], instant: datetime) -> int:
    """Recompute the stored totals of these (operation, metric) pairs from the results; how many."""
    done = 0
    for operation, metric in sorted(set(keys), key=lambda k: (k[0] or "", k[1])):
        choices = stored_choices(session=session, operation=operation, metric=metric) if operation else None
        totals = metric_totals_of(session=session, operation=operation, metric=metric, choices=choices)
        if totals is not None:
            totals.warnings = metric_findings(session, operation, totals)
        key = operation_key(operation)
        row = session.get(TotalsAggregate, (key, metric))
        fresh = None if totals is None else _stored_row(operation, metric, totals)
        if (row and row.body_hash) != (fresh and fresh.body_hash):
            _revise(session, key, metric, fresh, instant)
        if fresh is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(fresh)
        else:
            row.body, row.body_hash = fresh.body, fresh.body_hash
            session.add(row)
        done += 1
    session.flush()
    return done


def _revise_all(session: Session, rows: list[TotalsAggregate], instant: datetime) -> None:
    """After a full recompute: revise every total whose body changed, appeared or went away."""
    stmt = select(
        col(TotalsRevision.operation_key), col(TotalsRevision.metric_slug), col(TotalsRevision.body_hash)
    ).where(col(TotalsRevision.valid_to).is_(None))
    current = {(k, m): h for k, m, h in session.execute(stmt)}
    fresh = {(r.operation_key, r.metric_slug): r for r in rows}
    for key, metric in sorted(current.keys() | fresh.keys()):
        row = fresh.get((key, metric))
        if current.get((key, metric)) != (row and row.body_hash):
            _revise(session, key, metric, row, instant)


def recompute_all_totals(*, session: Session, instant: datetime, progress: Progress = SILENT) -> int:
    """Recompute every stored total from the results (after a bulk load, or to repair) as of the
    write's `instant`; how many.

    Progress counts passes over the results: each operation's phase choices, then each operation's
    totals, then the programme's."""
    session.execute(delete(TotalsAggregate))
    session.execute(delete(PhaseChoiceAggregate))
    operations = session.exec(select_models(Operation)).all()
    progress.expect(2 * len(operations) + 1)
    for op in operations:
        session.add_all(
            PhaseChoiceAggregate(
                operation_slug=op.slug,
                phase_slug=c.used.phase or "",
                metric_slug=c.used.metric,
                body=_choice_body(c),
            )
            for c in ranked_phase_figures(session=session, operation=op.slug)
        )
        progress.advance()
    rows = []
    for op in operations:
        rows += [
            _stored_row(op.slug, m.metric, m)
            for m in warned(session, operation_totals(session=session, operation=op)).metrics
        ]
        progress.advance()
    rows += [
        _stored_row(None, m.metric, m) for m in warned(session, programme_totals(session=session)).metrics
    ]
    progress.advance()
    session.add_all(rows)
    _revise_all(session, rows, instant)
    state = session.get(AggregateState, 1) or AggregateState(id=1)
    state.totals_built = True
    state.history_from = state.history_from or instant
    session.add(state)
    session.flush()
    return len(rows)


def mark_stale(*, session: Session) -> None:
    """Say the stored totals, and their history, no longer cover every result (a bulk load wrote
    past the write path)."""
    state = session.get(AggregateState, 1) or AggregateState(id=1)
    state.totals_built = False
    state.history_from = None
    session.add(state)
    session.flush()


def touched_keys(*, session: Session, entries: Sequence[AuditLog]) -> Touched | None:
    """The phase choices and totals these audit entries may change; None: all of them.

    A result's own (operation, phase, metric) before and after, and those of the reports it is
    linked with by duplicate_of (a retracted canonical report lets its duplicate stand in for it)."""
    if any(e.entity in ("seeds", "metric") for e in entries):
        return None
    ops: set[str | None] = set()
    phases: set[str | None] = set()
    metrics: set[str] = set()
    ids: set[str] = set()
    linked: set[str] = set()
    for e in entries:
        if e.entity != "result":
            continue
        ids.add(e.entity_id)
        for snap in (e.before, e.after):
            if snap:
                ops.add(snap.get("operation_slug"))
                phases.add(snap.get("phase_slug"))
                metrics.add(str(snap.get("metric_slug")))
                if snap.get("duplicate_of"):
                    linked.add(str(snap["duplicate_of"]))
    if not ids:
        return Touched()
    stmt = select(col(Result.operation_slug), col(Result.phase_slug), col(Result.metric_slug)).where(
        or_(col(Result.id).in_(linked), col(Result.duplicate_of).in_(ids))
    )
    for op, phase, metric in session.execute(stmt):
        ops.add(op)
        phases.add(phase)
        metrics.add(metric)
    return Touched(
        choices={(o, p, m) for o in ops if o for p in phases if p for m in metrics},
        totals={(o, m) for o in ops for m in metrics},
    )


def recompute_totals(*, session: Session, entries: Sequence[AuditLog], instant: datetime) -> None:
    """Bring the stored totals up to date with what these entries changed (inside their
    transaction, whose instant the new totals are valid from)."""
    if not totals_built(session=session):
        return  # nothing to keep up: the next full recompute does everything
    touched = touched_keys(session=session, entries=entries)
    if touched is None:
        recompute_all_totals(session=session, instant=instant)
    else:
        _recompute_choices(session=session, keys=touched.choices)
        _recompute_keys(session=session, keys=touched.totals, instant=instant)
