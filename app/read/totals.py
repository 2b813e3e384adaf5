"""Totals per metric: the latest running total, the honest sum over phases, shares and disagreements.

Each operation's figures are read once through ix_result_totals (operation, metric, scope,
retracted) as light columns (no quote text); the HTTP layer caches the result by data version.
See app/domain/counting.py for the counting rules; app/read/aggregates.py keeps the current
totals of each metric maintained by the writes, computed by these same functions.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app.domain.counting import MAX_LISTED, Fig, one_per_group, sum_qualifier, total_of
from app.models import Metric, Operation
from app.read.asof import PRESENT, Snapshot
from app.read.figures import (
    PhaseChoice,
    disagreement,
    duplicate_disagreements,
    figure_ref,
    load_figures,
    phase_ref,
    ranked_phase_figures,
)
from app.schemas.totals import (
    AllTotals,
    CountryShare,
    Disagreement,
    LatestFigure,
    MetricTotals,
    OperationTotals,
    PhaseSum,
    ProgrammeTotals,
)

RUNNING = ("cumulative", "programme")
ALL_SCOPES = ("phase", "cumulative", "programme")


def latest_figure(figs: Sequence[Fig]) -> LatestFigure | None:
    """The newest non-retracted running total (duplicates resolved) and the others, newest first."""
    reps = one_per_group(f for f in figs if f.scope in RUNNING)
    if not reps:
        return None
    used = max(reps, key=lambda f: f.order)
    others = sorted(
        (f for f in figs if f.scope in RUNNING and f is not used), key=lambda f: f.order, reverse=True
    )
    return LatestFigure(
        **figure_ref(used).model_dump(),
        scope=used.scope,  # type: ignore[arg-type]
        earlier=[figure_ref(f) for f in others[:MAX_LISTED]],
        earlier_total=len(others),
    )


def phase_sum(choices: Sequence[PhaseChoice], base_unit: str) -> tuple[PhaseSum | None, list[Disagreement]]:
    """The sum of one whole-phase figure per phase, with the qualifier of the sum and the conflicts."""
    if not choices:
        return None, []
    used = sorted((c.used for c in choices), key=lambda f: (f.as_of, f.phase or ""))
    qualifier, lower, upper, note = sum_qualifier(f.qualifier for f in used)
    conflicts = [
        disagreement("conflicting_phase_figures", c.used, c.others, c.competing)
        for c in choices
        if c.competing > 1
    ]
    summed = PhaseSum(
        value_base=total_of(used),
        base_unit=base_unit,
        qualifier=qualifier,
        lower_bound=lower,
        upper_bound=upper,
        qualifier_note=note,
        phases=len(used),
        result_ids=[f.id for f in used],
        per_phase=[phase_ref(f) for f in used],
    )
    return summed, conflicts


def country_shares(figs: Sequence[Fig]) -> list[CountryShare]:
    """Countries' shares of phases: listed, never added."""
    shares = sorted((f for f in figs if f.scope == "phase" and f.country), key=lambda f: (f.as_of, f.id))
    return [CountryShare(**phase_ref(f).model_dump(), country=f.country or "") for f in shares]


@dataclass
class MetricParts:
    """What the queries found for one metric."""

    figs: list[Fig] = field(default_factory=list)
    choices: list[PhaseChoice] = field(default_factory=list)
    duplicates: list[Disagreement] = field(default_factory=list)


def metric_totals(metric: Metric, parts: MetricParts) -> MetricTotals:
    """Every total of one metric from its figures."""
    summed, conflicts = phase_sum(parts.choices, metric.base_unit)
    return MetricTotals(
        metric=metric.slug,
        label=metric.label,
        base_unit=metric.base_unit,
        cumulative=latest_figure(parts.figs),
        phase_sum=summed,
        country_shares=country_shares(parts.figs),
        disagreements=sorted(
            parts.duplicates + conflicts, key=lambda d: (d.scope, d.phase or "", d.used_result_id)
        ),
    )


def _by_metric(
    session: Session,
    operation: str | None,
    scopes: Sequence[str],
    metric: str | None = None,
    choices: Sequence[PhaseChoice] | None = None,
    snap: Snapshot = PRESENT,
) -> list[MetricTotals]:
    """Totals of every metric (or of `metric` only) the operation (None: the programme) has figures of.

    `choices`: the phases' whole figures when already known (maintained per phase), else ranked now."""
    parts: dict[str, MetricParts] = defaultdict(MetricParts)
    for f in load_figures(
        session=session, operation=operation, scopes=scopes, metric=metric, shares_only=True, snap=snap
    ):
        parts[f.metric].figs.append(f)
    if "phase" in scopes:
        if choices is None:
            choices = ranked_phase_figures(session=session, operation=operation, metric=metric, snap=snap)
        for choice in choices:
            parts[choice.used.metric].choices.append(choice)
    for of_metric, d in duplicate_disagreements(session=session, operation=operation, snap=snap):
        if metric is None or of_metric == metric:  # a disagreement counts under its canonical's metric
            parts[of_metric].duplicates.append(d)
    if not parts:
        return []
    metrics = session.exec(select(Metric).where(col(Metric.slug).in_(parts))).all()
    return [metric_totals(m, parts[m.slug]) for m in sorted(metrics, key=lambda m: m.slug)]


def operation_totals(*, session: Session, operation: Operation, snap: Snapshot = PRESENT) -> OperationTotals:
    """Totals of one operation, per metric (programme figures are not an operation's)."""
    metrics = _by_metric(session, operation.slug, ALL_SCOPES, snap=snap)
    return OperationTotals(operation=operation.slug, name=operation.name, metrics=metrics)


def metric_totals_of(
    *, session: Session, operation: str | None, metric: str, choices: Sequence[PhaseChoice] | None = None
) -> MetricTotals | None:
    """One metric's totals of one operation (None: the programme); None when it has none."""
    found = _by_metric(session, operation, ALL_SCOPES if operation else ("programme",), metric, choices)
    return found[0] if found else None


def programme_totals(*, session: Session, snap: Snapshot = PRESENT) -> ProgrammeTotals:
    """Organisation-wide figures, per metric: the latest report (under `cumulative`) and the others."""
    return ProgrammeTotals(metrics=_by_metric(session, None, ("programme",), snap=snap))


def all_totals(
    *,
    session: Session,
    per_operation: Callable[[Operation], OperationTotals] | None = None,
    snap: Snapshot = PRESENT,
) -> AllTotals:
    """Every operation's totals (through `per_operation`, e.g. a cache), and the programme apart."""
    ops = session.exec(select(Operation).order_by(col(Operation.position), col(Operation.slug))).all()
    compute = per_operation or (lambda op: operation_totals(session=session, operation=op, snap=snap))
    return AllTotals(
        operations=[compute(op) for op in ops],
        programme=programme_totals(session=session, snap=snap),
    )
