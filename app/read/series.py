"""Time series for dashboards, under the same counting rules as the totals.

- scope=phase (default): per year (the year a phase starts) or per phase, the sum of one whole-phase
  figure per phase (duplicates once, country shares and running totals never added).
- scope=cumulative (one operation) or programme (organisation-wide): per year, the newest running
  total reported that year; never summed (by=phase does not apply).
"""

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.domain.counting import Fig, one_per_group, sum_qualifier, total_of
from app.models import Metric
from app.read.asof import PRESENT, Snapshot
from app.read.figures import load_figures, ranked_phase_figures
from app.read.results import bad
from app.schemas.totals import Series, SeriesPoint


def _point(period: str, figs: Sequence[Fig], base_unit: str, phases: int) -> SeriesPoint:
    qualifier, lower, upper, _ = sum_qualifier(f.qualifier for f in figs)
    return SeriesPoint(
        period=period,
        value_base=total_of(figs),
        base_unit=base_unit,
        qualifier=qualifier,
        lower_bound=lower,
        upper_bound=upper,
        phases=phases,
        as_of=max(f.as_of for f in figs),
        result_ids=[f.id for f in sorted(figs, key=lambda f: f.order)],
    )


def _phase_starts(session: Session, slugs: set[str], snap: Snapshot) -> dict[str, str | None]:
    p = snap.phase
    rows = session.exec(select(col(p.slug), col(p.start_date)).where(col(p.slug).in_(slugs))).all()
    return dict(rows)


def phase_points(
    session: Session, chosen: dict[str, Fig], base_unit: str, by: str, snap: Snapshot = PRESENT
) -> list[SeriesPoint]:
    """Points of summed whole-phase figures (one per phase), per year or per phase, in time order."""
    starts = _phase_starts(session, set(chosen), snap)

    def start(f: Fig) -> str:
        return starts.get(f.phase or "") or f.period_start or f.as_of.isoformat()

    if by == "phase":
        ordered = sorted(chosen.values(), key=lambda f: (start(f), f.phase or ""))
        return [_point(f.phase or "", [f], base_unit, 1) for f in ordered]
    by_year: dict[str, list[Fig]] = defaultdict(list)
    for f in chosen.values():
        by_year[start(f)[:4]].append(f)
    return [_point(year, fs, base_unit, len(fs)) for year, fs in sorted(by_year.items())]


def running_points(figs: Sequence[Fig], base_unit: str) -> list[SeriesPoint]:
    """Per year, the newest running total reported that year (one report, never a sum)."""
    reps = one_per_group(figs)
    by_year: dict[str, list[Fig]] = defaultdict(list)
    for f in reps:
        by_year[str(f.as_of.year)].append(f)
    return [
        _point(year, [max(fs, key=lambda f: f.order)], base_unit, 0) for year, fs in sorted(by_year.items())
    ]


def _check(scope: str, operation: str | None, by: str) -> None:
    if scope != "phase" and by == "phase":
        raise bad("by", "A running total (cumulative or programme) has no phases: use by=year.")
    if scope == "programme" and operation is not None:
        raise bad("operation", "Programme figures are organisation-wide: leave operation out.")
    if scope == "cumulative" and operation is None:
        raise bad("operation", "A cumulative series is one operation's: name the operation.")


def series(
    *, session: Session, metric: Metric, operation: str | None, scope: str, by: str, snap: Snapshot = PRESENT
) -> Series:
    """The series of one metric (of one operation, or of all operations for phase sums)."""
    _check(scope, operation, by)
    if scope == "phase":
        choices = ranked_phase_figures(
            session=session,
            operation=operation,
            metric=metric.slug,
            any_operation=operation is None,
            keep=1,
            snap=snap,
        )
        chosen = {c.used.phase or "": c.used for c in choices}
        points = phase_points(session, chosen, metric.base_unit, by, snap)
    else:
        figs = load_figures(
            session=session, operation=operation, scopes=(scope,), metric=metric.slug, snap=snap
        )
        points = running_points(figs, metric.base_unit)
    return Series(
        metric=metric.slug,
        operation=operation,
        scope=scope,  # type: ignore[arg-type]
        by=by,  # type: ignore[arg-type]
        base_unit=metric.base_unit,
        points=points,
    )
