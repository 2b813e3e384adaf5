"""Loading the figures totals and series count, in SQL: light rows, phase figures ranked in the database."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.domain.counting import MAX_LISTED, Fig, differ
from app.models import Result
from app.read.asof import PRESENT, Snapshot
from app.schemas.totals import Disagreement, FigureRef, PhaseFigure


def figure_ref(f: Fig) -> FigureRef:
    """A figure as the API names it in totals (its result id, value, unit, qualifier, date)."""
    return FigureRef(**_ref_fields(f))


def phase_ref(f: Fig) -> PhaseFigure:
    """A phase's figure as the API names it."""
    return PhaseFigure(**_ref_fields(f), phase=f.phase or "")


def _ref_fields(f: Fig) -> dict[str, Any]:
    return {
        "result_id": f.id,
        "value": f.value,
        "unit": f.unit,
        "value_base": f.value_base,
        "base_unit": f.base_unit,
        "qualifier": f.qualifier,
        "as_of": f.as_of,
    }


def disagreement(kind: str, used: Fig, others: Sequence[Fig], total: int | None = None) -> Disagreement:
    """Reports that differ, the used one first; the list is bounded (reports_total says how many)."""
    reports = [used, *sorted(others, key=lambda f: f.order, reverse=True)]
    return Disagreement(
        kind=kind,  # type: ignore[arg-type]
        scope=used.scope,  # type: ignore[arg-type]
        phase=used.phase,
        used_result_id=used.id,
        reports=[figure_ref(f) for f in reports[:MAX_LISTED]],
        reports_total=total if total is not None else len(reports),
    )


FIG_FIELDS = ("id", "operation_slug", "phase_slug", "metric_slug", "value", "unit", "value_base", "base_unit",
              "qualifier", "scope", "country", "as_of", "period_start", "duplicate_of")  # fmt: skip


def fig_columns(r: type[Result]) -> tuple[Any, ...]:
    """The columns of a Fig, over results `r` (the table, a snapshot's or an alias)."""
    return tuple(getattr(r, n) for n in FIG_FIELDS)


COLUMNS = fig_columns(Result)


def _where_operation(r: type[Result], operation: str | None, any_operation: bool) -> list[Any]:
    if any_operation:
        return []
    column = col(r.operation_slug)
    return [column.is_(None) if operation is None else column == operation]


def _rows(session: Session, stmt: Any) -> list[Any]:
    """Core rows through the session's connection (no ORM loading: these are light tuples)."""
    return list(session.connection().execute(stmt))


def load_figures(
    *,
    session: Session,
    operation: str | None,
    scopes: Sequence[str],
    metric: str | None = None,
    any_operation: bool = False,
    shares_only: bool = False,
    snap: Snapshot = PRESENT,
) -> list[Fig]:
    """Non-retracted figures of one operation (or of none: programme), through ix_result_totals.

    With `shares_only`, phase figures are limited to countries' shares (the whole-phase figures are
    ranked in SQL by `ranked_phase_figures` instead of being loaded one by one)."""
    if shares_only and "phase" in scopes:
        running = [s for s in scopes if s != "phase"]
        found = load_figures(session=session, operation=operation, scopes=running, metric=metric,
                             any_operation=any_operation, snap=snap) if running else []  # fmt: skip
        return found + _country_shares(session, operation, metric, any_operation, snap)
    r = snap.result
    stmt = select(*fig_columns(r)).where(col(r.retracted).is_(False), col(r.scope).in_(scopes))
    stmt = stmt.where(*_where_operation(r, operation, any_operation))
    if metric is not None:
        stmt = stmt.where(col(r.metric_slug) == metric)
    return [Fig(*row) for row in _rows(session, stmt)]


def _country_shares(
    session: Session, operation: str | None, metric: str | None, any_operation: bool, snap: Snapshot
) -> list[Fig]:
    """Countries' shares of phases, found through ix_result_country (few among many whole figures).

    Only `country >= ''` (not null) is asked of SQL: with the operation or metric in the WHERE clause the
    planner walks every figure of the operation instead; the rest is filtered here."""
    # `>= ''` is `IS NOT NULL` for text, but a range SQLite's planner takes through the index.
    r = snap.result
    stmt = select(*fig_columns(r), col(r.retracted)).where(col(r.country) >= "")
    out = []
    for row in _rows(session, stmt):
        f = Fig(*row[: len(COLUMNS)])
        if row[-1] or f.scope != "phase" or (metric is not None and f.metric != metric):
            continue
        if any_operation or f.operation == operation:
            out.append(f)
    return out


@dataclass(frozen=True)
class PhaseChoice:
    """The whole-phase figure a phase contributes for one metric, and the ones that compete with it."""

    used: Fig
    others: list[Fig]
    competing: int


def ranked_phase_figures(
    *,
    session: Session,
    operation: str | None,
    metric: str | None = None,
    any_operation: bool = False,
    keep: int = MAX_LISTED,
    phase: str | None = None,
    snap: Snapshot = PRESENT,
) -> list[PhaseChoice]:
    """Per (phase, metric), the newest eligible whole-phase figure, ranked in SQL (window functions).

    Eligible: non-retracted, scope phase, no country, and not a duplicate of a live report (a
    duplicate whose canonical report is retracted stands in for it)."""
    r, canon = snap.result, aliased(snap.result)
    live_canonical = (
        select(col(canon.id))
        .where(col(canon.id) == col(r.duplicate_of), col(canon.retracted).is_(False))
        .exists()
    )
    part = (col(r.phase_slug), col(r.metric_slug))
    rank = func.row_number().over(partition_by=part, order_by=(col(r.as_of).desc(), col(r.id).desc()))
    inner = (
        select(*fig_columns(r), rank.label("rn"), func.count().over(partition_by=part).label("cnt"))
        .where(
            col(r.retracted).is_(False),
            col(r.scope) == "phase",
            col(r.country).is_(None),
            col(r.phase_slug).is_not(None),
            or_(col(r.duplicate_of).is_(None), ~live_canonical),
            *_where_operation(r, operation, any_operation),
            *([col(r.metric_slug) == metric] if metric is not None else []),
            *([col(r.phase_slug) == phase] if phase is not None else []),
        )
        .subquery()
    )
    rows = _rows(session, select(inner).where(inner.c.rn <= keep).order_by(inner.c.phase_slug, inner.c.rn))
    by_key: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        by_key[(row.phase_slug, row.metric_slug)].append(row)
    return [
        PhaseChoice(
            used=Fig(*ranked[0][: len(COLUMNS)]),
            others=[Fig(*r[: len(COLUMNS)]) for r in ranked[1:]],
            competing=ranked[0].cnt,
        )
        for _, ranked in sorted(by_key.items())
    ]


def duplicate_disagreements(
    *,
    session: Session,
    operation: str | None,
    metric: str | None = None,
    any_operation: bool = False,
    snap: Snapshot = PRESENT,
) -> list[tuple[str, Disagreement]]:
    """(metric, disagreement) for reports linked by duplicate_of to a live report that differ from it."""
    r, canon = snap.result, aliased(snap.result)
    stmt = (  # through ix_result_duplicate_of: the operation and metric are filtered below, not in SQL
        select(*fig_columns(r), *fig_columns(canon))
        .join(canon, col(canon.id) == col(r.duplicate_of))
        .where(col(r.duplicate_of) >= "")  # IS NOT NULL, as a range the index serves
        .where(col(r.retracted).is_(False), col(canon.retracted).is_(False))
    )
    groups: dict[str, list[Fig]] = {}
    for row in _rows(session, stmt):
        dup, canonical = Fig(*row[: len(COLUMNS)]), Fig(*row[len(COLUMNS) :])
        if not any_operation and dup.operation != operation:
            continue
        if metric is not None and dup.metric != metric:
            continue
        groups.setdefault(canonical.id, [canonical]).append(dup)
    return [
        (group[0].metric, disagreement("duplicate_reports", group[0], group[1:]))
        for _, group in sorted(groups.items())
        if differ(group)
    ]
