"""Maintained totals: what GET totals serve for the current data, kept up to date by every write.

Each (operation, metric) — '' for the programme — holds its MetricTotals as JSON text. A write
recomputes the entries it touched, inside its own transaction, with the same counting functions a
full recompute uses (app/read/totals.py over app/domain/counting.py), so the stored totals always
equal a recompute and a GET reads a few rows instead of the results. Bulk loads that bypass the
write path (bench/make_million.py) and repairs use `rebuild_totals` (`opstats db rebuild-aggregates`).
"""

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import delete, or_, select
from sqlmodel import Session, col
from sqlmodel import select as select_models

from app.models import AggregateState, AuditLog, Operation, Result, TotalsAggregate
from app.read.totals import all_totals, metric_totals_of, operation_totals, programme_totals
from app.schemas.totals import MetricTotals

PROGRAMME = ""  # the operation key of organisation-wide figures
Key = tuple[str | None, str]  # (operation slug or None for the programme, metric slug)


def operation_key(operation: str | None) -> str:
    """The stored key of an operation (the programme's is '')."""
    return operation or PROGRAMME


def _dump(totals: MetricTotals) -> str:
    return orjson.dumps(totals.model_dump(mode="json")).decode()


def refresh_totals(*, session: Session, keys: Iterable[Key]) -> int:
    """Recompute the stored totals of these (operation, metric) pairs from the results; how many."""
    done = 0
    for operation, metric in sorted(set(keys), key=lambda k: (k[0] or "", k[1])):
        totals = metric_totals_of(session=session, operation=operation, metric=metric)
        row = session.get(TotalsAggregate, (operation_key(operation), metric))
        if totals is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(
                TotalsAggregate(
                    operation_key=operation_key(operation), metric_slug=metric, body=_dump(totals)
                )
            )
        else:
            row.body = _dump(totals)
            session.add(row)
        done += 1
    session.flush()
    return done


def rebuild_totals(*, session: Session) -> int:
    """Recompute every stored total from the results (after a bulk load, or to repair); how many."""
    session.execute(delete(TotalsAggregate))
    rows = [
        TotalsAggregate(operation_key=op.slug, metric_slug=m.metric, body=_dump(m))
        for op in session.exec(select_models(Operation)).all()
        for m in operation_totals(session=session, operation=op).metrics
    ]
    rows += [
        TotalsAggregate(operation_key=PROGRAMME, metric_slug=m.metric, body=_dump(m))
        for m in programme_totals(session=session).metrics
    ]
    session.add_all(rows)
    state = session.get(AggregateState, 1) or AggregateState(id=1)
    state.totals_built = True
    session.add(state)
    session.flush()
    return len(rows)


def totals_built(*, session: Session) -> bool:
    """True when the stored totals cover every result (false after a bulk load until a rebuild)."""
    state = session.get(AggregateState, 1)
    return bool(state and state.totals_built)


def mark_stale(*, session: Session) -> None:
    """Say the stored totals no longer cover every result (a bulk load wrote past the write path)."""
    state = session.get(AggregateState, 1) or AggregateState(id=1)
    state.totals_built = False
    session.add(state)
    session.flush()


def stored_totals(*, session: Session, operation: str | None) -> list[dict[str, Any]] | None:
    """The maintained totals of one operation (None: the programme), per metric; None when not built."""
    if not totals_built(session=session):
        return None
    stmt = (
        select(col(TotalsAggregate.body))
        .where(col(TotalsAggregate.operation_key) == operation_key(operation))
        .order_by(col(TotalsAggregate.metric_slug))
    )
    return [orjson.loads(body) for body in session.execute(stmt).scalars()]


def stored_all_totals(*, session: Session) -> dict[str, list[dict[str, Any]]] | None:
    """Every operation's maintained totals by operation key ('' the programme); None when not built."""
    if not totals_built(session=session):
        return None
    out: dict[str, list[dict[str, Any]]] = {}
    stmt = select(col(TotalsAggregate.operation_key), col(TotalsAggregate.body)).order_by(
        col(TotalsAggregate.operation_key), col(TotalsAggregate.metric_slug)
    )
    for key, body in session.execute(stmt):
        out.setdefault(key, []).append(orjson.loads(body))
    return out


def touched_keys(*, session: Session, entries: Sequence[AuditLog]) -> set[Key] | None:
    """The (operation, metric) pairs whose totals these audit entries may change; None: all of them.

    A result's own pairs before and after, and those of the reports it is linked with by
    duplicate_of (a retracted canonical report lets its duplicate stand in for it)."""
    if any(e.entity in ("seeds", "metric") for e in entries):
        return None
    ops: set[str | None] = set()
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
                metrics.add(str(snap.get("metric_slug")))
                if snap.get("duplicate_of"):
                    linked.add(str(snap["duplicate_of"]))
    if not ids:
        return set()
    stmt = select(col(Result.operation_slug), col(Result.metric_slug)).where(
        or_(col(Result.id).in_(linked), col(Result.duplicate_of).in_(ids))
    )
    for op, metric in session.execute(stmt):
        ops.add(op)
        metrics.add(metric)
    return {(op, m) for op in ops for m in metrics}


def maintain_totals(*, session: Session, entries: Sequence[AuditLog]) -> None:
    """Bring the stored totals up to date with what these entries changed (inside their transaction)."""
    if not totals_built(session=session):
        return  # nothing to keep up: the next rebuild computes everything
    keys = touched_keys(session=session, entries=entries)
    if keys is None:
        rebuild_totals(session=session)
    else:
        refresh_totals(session=session, keys=keys)


def current_operation_totals(*, session: Session, operation: Operation) -> dict[str, Any]:
    """An operation's current totals (the OperationTotals shape, JSON-ready) from the maintained rows."""
    metrics = stored_totals(session=session, operation=operation.slug)
    if metrics is None:
        return operation_totals(session=session, operation=operation).model_dump(mode="json")
    return {"operation": operation.slug, "name": operation.name, "metrics": metrics}


def current_all_totals(*, session: Session) -> dict[str, Any]:
    """Every operation's current totals and the programme's (the AllTotals shape, JSON-ready)."""
    stored = stored_all_totals(session=session)
    if stored is None:
        return all_totals(session=session).model_dump(mode="json")
    ops = session.exec(select_models(Operation).order_by(col(Operation.position), col(Operation.slug))).all()
    return {
        "operations": [
            {"operation": op.slug, "name": op.name, "metrics": stored.get(op.slug, [])} for op in ops
        ],
        "programme": {"metrics": stored.get(PROGRAMME, [])},
    }
