"""Maintained totals, read: what GET totals serve for the current data, from the stored rows.

Each (operation, metric) — '' for the programme — holds its MetricTotals as JSON text, which every
write recomputes (app/curation/totals.py); a GET reads a few rows, and splices the answer from
bodies this process keeps by hash (app/caches.py: `TotalsKept`).
"""

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVarTuple

import orjson
from sqlalchemy import Select, select, true
from sqlmodel import Session, col
from sqlmodel import select as select_models

from app.caches import TotalsKept
from app.domain.counting import Fig
from app.models import AggregateState, Operation, PhaseChoiceAggregate, TotalsAggregate
from app.read.asof import PRESENT, Snapshot
from app.read.checks import warned, warned_all
from app.read.figures import PhaseChoice
from app.read.totals import all_totals, operation_totals

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


def _stored_bodies(session: Session, operation: str | None, kept: TotalsKept | None) -> list[bytes] | None:
    """The JSON bodies of one operation's (None: the programme's) stored totals, by metric."""
    key = operation_key(operation)
    listed = _listing(session, key)
    return None if listed is None else [body for _, _, body in _read_bodies(session, key, listed, kept)]


def _listing(session: Session, key: str | None, snap: Snapshot = PRESENT) -> Listed | None:
    """(operation key, body hash) of the stored totals of one operation key (None: all), by key and
    metric; None when they do not answer: not built, or a past snapshot (they hold only the
    present). One statement: the state row outer-joined to the rows."""
    if snap.past:
        return None
    rows = col(TotalsAggregate.operation_key) == key if key is not None else true()
    stmt = (
        select(
            col(AggregateState.totals_built),
            col(TotalsAggregate.operation_key),
            col(TotalsAggregate.body_hash),
        )
        .select_from(AggregateState)
        .outerjoin(TotalsAggregate, rows)
        .where(col(AggregateState.id) == 1)
        .order_by(col(TotalsAggregate.operation_key), col(TotalsAggregate.metric_slug))
    )
    found = session.execute(stmt).all()
    if not found or not found[0][0]:
        return None
    return [(k, h) for _, k, h in found if k is not None]


def _read_bodies(
    session: Session, key: str | None, listed: Listed, kept: TotalsKept | None
) -> list[tuple[str, str, bytes]]:
    """(operation key, hash, body) of the stored totals `listed` (those of one operation key, None:
    all). Only bodies whose hash this process has not kept are fetched. A row without a hash, or
    changed since it was listed, has everything read again at once. `kept`: the app's cache of
    bodies (app/caches.py; None: keep nothing)."""
    got: dict[str, bytes] = {}
    for _, h in listed:
        hit = kept.bodies.get(0, h) if h and kept else None
        if hit is not None:
            got[h] = hit
    missing = {h for _, h in listed if h and h not in got}
    if missing:
        stmt = select(col(TotalsAggregate.body_hash), col(TotalsAggregate.body))
        for h, body in session.execute(stmt.where(col(TotalsAggregate.body_hash).in_(missing))):
            got[h] = body.encode()
            if kept:
                kept.bodies.put(0, h, got[h])
    if any(h not in got for _, h in listed):
        columns = (
            col(TotalsAggregate.operation_key),
            col(TotalsAggregate.body_hash),
            col(TotalsAggregate.body),
        )
        whole = _ordered(select(*columns), key)
        return [(k, h, body.encode()) for k, h, body in session.execute(whole)]
    return [(k, h, got[h]) for k, h in listed]


def _ordered(stmt: Select[*Ts], key: str | None) -> Select[*Ts]:
    """`stmt` over one operation key's rows (None: every row), by key and metric."""
    if key is not None:
        stmt = stmt.where(col(TotalsAggregate.operation_key) == key)
    return stmt.order_by(col(TotalsAggregate.operation_key), col(TotalsAggregate.metric_slug))


def stored_totals(
    *, session: Session, operation: str | None, kept: TotalsKept | None = None
) -> list[dict[str, Any]] | None:
    """The maintained totals of one operation (None: the programme), per metric; None when not built."""
    bodies = _stored_bodies(session, operation, kept)
    return None if bodies is None else [orjson.loads(b) for b in bodies]


def stored_all_totals(
    *, session: Session, kept: TotalsKept | None = None
) -> dict[str, list[dict[str, Any]]] | None:
    """Every operation's maintained totals by operation key ('' the programme); None when not built."""
    texts = stored_all_totals_text(session=session, kept=kept)
    return None if texts is None else {k: [orjson.loads(b) for b in v] for k, v in texts.items()}


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
    session: Session, key: str | None, ops: Sequence[Operation], kept: TotalsKept | None
) -> bytes | None:
    """Stored totals (of one operation key, None: all) spliced as the answer the operations `ops`
    make of them (one: OperationTotals, else AllTotals), or None when not built. The same
    operations and bodies (by hash) give the same answer: it is kept, not spliced again."""
    listed = _listing(session, key)
    if listed is None:
        return None
    names = tuple((op.slug, op.name) for op in ops)
    hit: bytes | None = kept.assembled.get(0, (key, names, tuple(listed))) if kept else None
    if hit is not None:
        return hit
    by_key: dict[str, list[bytes]] = {}
    read = _read_bodies(session, key, listed, kept)
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


def operation_totals_json(*, session: Session, operation: Operation, kept: TotalsKept | None = None) -> bytes:
    """An operation's current totals as JSON bytes (OperationTotals), spliced from the stored rows."""
    spliced = _spliced(session, operation.slug, [operation], kept)
    if spliced is not None:
        return spliced
    totals = warned(session, operation_totals(session=session, operation=operation))
    return orjson.dumps(totals.model_dump(mode="json"))


def all_totals_json(*, session: Session, kept: TotalsKept | None = None) -> bytes:
    """Every operation's current totals and the programme's as JSON bytes (AllTotals)."""
    spliced = _spliced(session, None, _operations(session), kept)
    if spliced is not None:
        return spliced
    return orjson.dumps(warned_all(session, all_totals(session=session)).model_dump(mode="json"))


def stored_all_totals_text(
    *, session: Session, kept: TotalsKept | None = None
) -> dict[str, list[bytes]] | None:
    """The JSON bodies of every stored total by operation key; None when not built (or `at=`)."""
    listed = _listing(session, None)
    if listed is None:
        return None
    out: dict[str, list[bytes]] = {}
    for key, _, body in _read_bodies(session, None, listed, kept):
        out.setdefault(key, []).append(body)
    return out


def _operations(session: Session) -> list[Operation]:
    return list(session.exec(select_models(Operation).order_by(col(Operation.position), col(Operation.slug))))


def operation_totals_rows(*, session: Session, operation: Operation) -> list[dict[str, Any]]:
    """An operation's current totals as CSV-ready rows, one per metric, led by the operation."""
    metrics = stored_totals(session=session, operation=operation.slug)
    if metrics is None:
        metrics = [
            m.model_dump(mode="json")
            for m in warned(session, operation_totals(session=session, operation=operation)).metrics
        ]
    return [{"operation": operation.slug, **m} for m in metrics]


def all_totals_rows(*, session: Session) -> list[dict[str, Any]]:
    """Every operation's current totals as rows, then the programme's (with an empty operation)."""
    stored = stored_all_totals(session=session)
    if stored is None:
        data = warned_all(session, all_totals(session=session)).model_dump(mode="json")
        stored = {o["operation"]: o["metrics"] for o in data["operations"]}
        stored[PROGRAMME] = data["programme"]["metrics"]
    rows = [{"operation": op.slug, **m} for op in _operations(session) for m in stored.get(op.slug, [])]
    return rows + [{"operation": None, **m} for m in stored.get(PROGRAMME, [])]
