"""Maintained totals, read: what GET totals serve, now or as of an instant, from the stored rows.

Each (operation, metric) — '' for the programme — holds its MetricTotals as JSON text, which every
write recomputes (app/curation/totals.py), closing the revision it replaces; a GET reads a few rows
(the current ones, or for `at=` the revisions valid then), and splices the answer from bodies this
process keeps by hash (app/caches.py: `TotalsKept`). Where the stored rows do not answer (not built
after a bulk load; an instant before their history starts) the totals are computed from the results.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVarTuple

import orjson
from sqlalchemy import ColumnElement, Select, literal, or_, select, true
from sqlmodel import Session, col
from sqlmodel import select as select_models

from app.caches import TotalsKept
from app.domain.counting import Fig
from app.models import AggregateState, Operation, PhaseChoiceAggregate, TotalsAggregate, TotalsRevision
from app.read.asof import PRESENT, Snapshot
from app.read.checks import (
    all_totals_rows_of,
    computed_all_totals,
    computed_operation_totals,
    operation_totals_rows_of,
    totals_json,
)
from app.read.figures import PhaseChoice

PROGRAMME = ""  # the operation key of organisation-wide figures
Key = tuple[str | None, str]  # (operation slug or None for the programme, metric slug)
ChoiceKey = tuple[str, str, str]  # (operation, phase, metric) of one phase's whole figure
Ts = TypeVarTuple("Ts")
Listed = list[tuple[str, str]]  # (operation key, body hash) of stored totals, by key and metric


def operation_key(operation: str | None) -> str:
    """The stored key of an operation (the programme's is '')."""
    return operation or PROGRAMME


def body_hash(body: str) -> str:
    """The name of a stored total's body (what readers keep it under)."""
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


def _fig_of(row: list[Any]) -> Fig:
    return Fig(*[*row[:11], date.fromisoformat(row[11]), *row[12:]])


def _choice_of(body: str) -> PhaseChoice:
    data = orjson.loads(body)
    figures = [_fig_of(r) for r in data["figures"]]
    return PhaseChoice(used=figures[0], others=figures[1:], competing=data["competing"])


def stored_choices(*, session: Session, operation: str, metric: str) -> list[PhaseChoice]:
    """The maintained whole-phase figure of every phase of one operation and metric, by phase."""
    stmt = (
        select(col(PhaseChoiceAggregate.body))
        .where(col(PhaseChoiceAggregate.operation_slug) == operation)
        .where(col(PhaseChoiceAggregate.metric_slug) == metric)
        .order_by(col(PhaseChoiceAggregate.phase_slug))
    )
    return [_choice_of(b) for b in session.execute(stmt).scalars()]


def totals_built(*, session: Session) -> bool:
    """True when the stored totals cover every result (false after a bulk load until a rebuild)."""
    state = session.get(AggregateState, 1)
    return bool(state and state.totals_built)


@dataclass(frozen=True)
class _Stored:
    """Where stored totals are read from: the current rows, or the revisions valid at an instant."""

    key: Any
    metric: Any
    hash: Any
    body: Any
    valid: ColumnElement[bool]


def _stored(snap: Snapshot) -> _Stored:
    if not snap.past:
        t: Any = TotalsAggregate
        return _Stored(t.operation_key, t.metric_slug, t.body_hash, t.body, true())
    r: Any = TotalsRevision
    at = literal(snap.at, type_=TotalsRevision.__table__.c.valid_from.type)  # type: ignore[attr-defined]
    return _Stored(
        r.operation_key,
        r.metric_slug,
        r.body_hash,
        r.body,
        (r.valid_from <= at) & or_(r.valid_to.is_(None), r.valid_to > at),
    )


def _stored_bodies(
    session: Session, operation: str | None, kept: TotalsKept | None, snap: Snapshot
) -> list[bytes] | None:
    """The JSON bodies of one operation's (None: the programme's) stored totals, by metric."""
    key = operation_key(operation)
    listed = _listing(session, key, snap)
    return None if listed is None else [body for _, _, body in _read_bodies(session, key, listed, kept, snap)]


def _answers(state: tuple[Any, ...], snap: Snapshot) -> bool:
    """Whether the stored totals answer `snap`: built, for the present; for the past, their history
    reaches back to its instant."""
    if not snap.past:
        return bool(state[0])
    since: datetime | None = state[1]
    return since is not None and snap.at is not None and since <= snap.at


def _listing(session: Session, key: str | None, snap: Snapshot = PRESENT) -> Listed | None:
    """(operation key, body hash) of the stored totals of one operation key (None: all), by key and
    metric, as they stood at `snap`; None when they do not answer it (not built; a past instant
    before their history starts). One statement: the state row outer-joined to the rows."""
    t = _stored(snap)
    rows = t.valid & (t.key == key if key is not None else true())
    stmt = (
        select(col(AggregateState.totals_built), col(AggregateState.history_from), t.key, t.hash)
        .select_from(AggregateState)
        .outerjoin(TotalsRevision if snap.past else TotalsAggregate, rows)
        .where(col(AggregateState.id) == 1)
        .order_by(t.key, t.metric)
    )
    found = session.execute(stmt).all()
    if not found or not _answers(tuple(found[0]), snap):
        return None
    return [(k, h) for _, _, k, h in found if k is not None]


def _read_bodies(
    session: Session, key: str | None, listed: Listed, kept: TotalsKept | None, snap: Snapshot
) -> list[tuple[str, str, bytes]]:
    """(operation key, hash, body) of the stored totals `listed` (those of one operation key, None:
    all) at `snap`. Only bodies whose hash this process has not kept are fetched. A row without a
    hash, or changed since it was listed, has everything read again at once. `kept`: the app's
    cache of bodies (app/caches.py; None: keep nothing)."""
    t = _stored(snap)
    got: dict[str, bytes] = {}
    for _, h in listed:
        hit = kept.bodies.get(0, h) if h and kept else None
        if hit is not None:
            got[h] = hit
    missing = {h for _, h in listed if h and h not in got}
    if missing:
        stmt = select(t.hash, t.body).where(t.valid, t.hash.in_(missing))
        for h, body in session.execute(stmt):
            got[h] = body.encode()
            if kept:
                kept.bodies.put(0, h, got[h])
    if any(h not in got for _, h in listed):
        whole = _ordered(select(t.key, t.hash, t.body).where(t.valid), t, key)
        return [(k, h, body.encode()) for k, h, body in session.execute(whole)]
    return [(k, h, got[h]) for k, h in listed]


def _ordered(stmt: Select[*Ts], t: _Stored, key: str | None) -> Select[*Ts]:
    """`stmt` over one operation key's rows (None: every row), by key and metric."""
    if key is not None:
        stmt = stmt.where(t.key == key)
    return stmt.order_by(t.key, t.metric)


def stored_totals(
    *, session: Session, operation: str | None, kept: TotalsKept | None = None, snap: Snapshot = PRESENT
) -> list[dict[str, Any]] | None:
    """The maintained totals of one operation (None: the programme) at `snap`, per metric; None
    when they do not answer it."""
    bodies = _stored_bodies(session, operation, kept, snap)
    return None if bodies is None else [orjson.loads(b) for b in bodies]


def stored_all_totals(
    *, session: Session, kept: TotalsKept | None = None, snap: Snapshot = PRESENT
) -> dict[str, list[dict[str, Any]]] | None:
    """Every operation's maintained totals at `snap` by operation key ('' the programme); None when
    they do not answer it."""
    listed = _listing(session, None, snap)
    if listed is None:
        return None
    out: dict[str, list[dict[str, Any]]] = {}
    for key, _, body in _read_bodies(session, None, listed, kept, snap):
        out.setdefault(key, []).append(orjson.loads(body))
    return out


def _metrics_parts(bodies: list[bytes]) -> list[bytes]:
    """A JSON list of the bodies, as pieces to join once."""
    parts = [b"["]
    for i, body in enumerate(bodies):
        parts += [b",", body] if i else [body]
    return [*parts, b"]"]


def _operation_parts(op: Operation, bodies: list[bytes]) -> list[bytes]:
    return [
        orjson.dumps({"operation": op.slug, "name": op.name})[:-1],
        b',"metrics":',
        *_metrics_parts(bodies),
        b"}",
    ]


def _spliced(
    session: Session, key: str | None, ops: Sequence[Operation], kept: TotalsKept | None, snap: Snapshot
) -> bytes | None:
    """Stored totals (of one operation key, None: all) at `snap` spliced as the answer the
    operations `ops` make of them (one: OperationTotals, else AllTotals), or None when they do not
    answer it. The same operations and bodies (by hash) give the same answer: it is kept, not
    spliced again."""
    listed = _listing(session, key, snap)
    if listed is None:
        return None
    names = tuple((op.slug, op.name) for op in ops)
    hit: bytes | None = kept.assembled.get(0, (key, names, tuple(listed))) if kept else None
    if hit is not None:
        return hit
    by_key: dict[str, list[bytes]] = {}
    read = _read_bodies(session, key, listed, kept, snap)
    for k, _, body in read:
        by_key.setdefault(k, []).append(body)
    if key is not None:
        answer = b"".join(_operation_parts(ops[0], by_key.get(key, [])))
    else:
        parts = [b'{"operations":[']
        for i, op in enumerate(ops):
            parts += [b","] * bool(i) + _operation_parts(op, by_key.get(op.slug, []))
        parts += [b'],"programme":{"metrics":', *_metrics_parts(by_key.get(PROGRAMME, [])), b"}}"]
        answer = b"".join(parts)
    if kept and all(h for _, h, _ in read):  # rows without a hash are read anew each time
        kept.assembled.put(0, (key, names, tuple((k, h) for k, h, _ in read)), answer)
    return answer


def operation_totals_json(
    *, session: Session, operation: Operation, kept: TotalsKept | None = None, snap: Snapshot = PRESENT
) -> bytes:
    """An operation's totals at `snap` as JSON bytes (OperationTotals): spliced from the stored rows
    (or their history), computed from the results where those do not answer."""
    spliced = _spliced(session, operation.slug, [operation], kept, snap)
    if spliced is not None:
        return spliced
    return totals_json(computed_operation_totals(session=session, operation=operation, snap=snap))


def all_totals_json(*, session: Session, kept: TotalsKept | None = None, snap: Snapshot = PRESENT) -> bytes:
    """Every operation's totals and the programme's at `snap` as JSON bytes (AllTotals)."""
    spliced = _spliced(session, None, _operations(session), kept, snap)
    if spliced is not None:
        return spliced
    return totals_json(computed_all_totals(session=session, snap=snap))


def _operations(session: Session) -> list[Operation]:
    return list(session.exec(select_models(Operation).order_by(col(Operation.position), col(Operation.slug))))


def operation_totals_rows(
    *, session: Session, operation: Operation, snap: Snapshot = PRESENT
) -> list[dict[str, Any]]:
    """An operation's totals at `snap` as CSV-ready rows, one per metric, led by the operation."""
    metrics = stored_totals(session=session, operation=operation.slug, snap=snap)
    if metrics is None:
        return operation_totals_rows_of(
            computed_operation_totals(session=session, operation=operation, snap=snap)
        )
    return [{"operation": operation.slug, **m} for m in metrics]


def all_totals_rows(*, session: Session, snap: Snapshot = PRESENT) -> list[dict[str, Any]]:
    """Every operation's totals at `snap` as rows, then the programme's (with an empty operation)."""
    stored = stored_all_totals(session=session, snap=snap)
    if stored is None:
        return all_totals_rows_of(computed_all_totals(session=session, snap=snap))
    rows = [{"operation": op.slug, **m} for op in _operations(session) for m in stored.get(op.slug, [])]
    return rows + [{"operation": None, **m} for m in stored.get(PROGRAMME, [])]
