"""Consistency findings: figures that cannot all be right, for curators to look at before they publish.

- cumulative_decreased: a running total reported later (as_of) below one reported earlier.
- cumulative_below_phase_sum: a running total below the sum of the whole-phase figures reported up
  to its date, when that sum is a lower bound (its parts exact, "more than" or "at least").
- duplicate_reports_differ: reports linked by duplicate_of (one figure) that state different values.
Nothing is changed: totals carry the findings of each metric under `warnings`.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson
from sqlmodel import Session

from app.domain.counting import Fig, one_per_group, sum_qualifier
from app.models import Operation
from app.read.asof import PRESENT, Snapshot
from app.read.figures import load_figures
from app.read.totals import all_totals, operation_totals
from app.schemas.changes import Finding
from app.schemas.totals import AllTotals, MetricTotals, OperationTotals, PhaseSum, ProgrammeTotals

T = TypeVar("T", OperationTotals, ProgrammeTotals)


def _amount(f: Fig) -> str:
    return f"{f.value:g} {f.unit} ({f.qualifier}, {f.as_of.isoformat()}, {f.id})"


def decreased(operation: str | None, metric: str, reps: Sequence[Fig]) -> list[Finding]:
    """Each running total below the highest one reported before it."""
    out: list[Finding] = []
    highest: Fig | None = None
    for f in sorted(reps, key=lambda f: f.order):
        if highest is not None and f.as_of > highest.as_of and f.value_base < highest.value_base:
            out.append(
                Finding(
                    kind="cumulative_decreased",
                    operation=operation,
                    metric=metric,
                    result_ids=[highest.id, f.id],
                    detail=f"the running total {_amount(f)} is below the earlier {_amount(highest)}",
                )
            )
        if highest is None or f.value_base >= highest.value_base:
            highest = f
    return out


def below_phase_sum(
    operation: str | None, metric: str, reps: Sequence[Fig], summed: PhaseSum | None
) -> list[Finding]:
    """Each running total below the (lower-bound) sum of the whole-phase figures reported by its date."""
    if summed is None:
        return []
    out: list[Finding] = []
    for f in reps:
        parts = [p for p in summed.per_phase if p.as_of <= f.as_of]
        _, lower, _, _ = sum_qualifier(p.qualifier for p in parts)
        total = sum(p.value_base for p in parts)
        if parts and lower and f.value_base < total:
            out.append(
                Finding(
                    kind="cumulative_below_phase_sum",
                    operation=operation,
                    metric=metric,
                    result_ids=[f.id, *[p.result_id for p in parts]],
                    detail=f"the running total {_amount(f)} is below the sum of {len(parts)} whole-phase "
                    f"figure(s) reported by then: at least {total:g} {summed.base_unit}",
                )
            )
    return out


def duplicates_differ(operation: str | None, m: MetricTotals) -> list[Finding]:
    """Reports of one figure (duplicate_of) that state different values or qualifiers."""
    return [
        Finding(
            kind="duplicate_reports_differ",
            operation=operation,
            metric=m.metric,
            result_ids=[r.result_id for r in d.reports],
            detail=f"{d.reports_total} reports of one figure differ; the totals use {d.used_result_id}",
        )
        for d in m.disagreements
        if d.kind == "duplicate_reports"
    ]


def findings_of(
    session: Session, operation: str | None, metrics: Sequence[MetricTotals], snap: Snapshot = PRESENT
) -> list[Finding]:
    """The findings of one operation's (None: the programme's) metrics, from their totals."""
    scopes = ("cumulative",) if operation else ("programme",)
    running: dict[str, list[Fig]] = defaultdict(list)
    for f in load_figures(session=session, operation=operation, scopes=scopes, snap=snap):
        running[f.metric].append(f)
    out: list[Finding] = []
    for m in metrics:
        reps = one_per_group(running.get(m.metric, []))
        out += decreased(operation, m.metric, reps)
        out += below_phase_sum(operation, m.metric, reps, m.phase_sum)
        out += duplicates_differ(operation, m)
    return out


def with_warnings(
    session: Session, totals: OperationTotals | ProgrammeTotals, snap: Snapshot = PRESENT
) -> None:
    """Put each metric's findings under its `warnings`."""
    operation = totals.operation if isinstance(totals, OperationTotals) else None
    by_metric: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings_of(session, operation, totals.metrics, snap):
        by_metric[finding.metric].append(finding)
    for m in totals.metrics:
        m.warnings = by_metric.get(m.metric, [])


def warned(session: Session, totals: T, snap: Snapshot = PRESENT) -> T:
    """The totals, each metric carrying its findings."""
    with_warnings(session, totals, snap)
    return totals


def all_findings(totals: AllTotals) -> list[Finding]:
    """Every finding of every operation, then the programme's, by operation and metric."""
    metrics = [m for op in totals.operations for m in op.metrics] + list(totals.programme.metrics)
    return [w for m in metrics for w in m.warnings]


def metric_findings(session: Session, operation: str | None, m: MetricTotals) -> list[Finding]:
    """The findings of one metric of one operation (None: the programme), from its totals: what the
    maintained totals store under `warnings` (they depend on that operation's metric only)."""
    scopes = ("cumulative",) if operation else ("programme",)
    reps = one_per_group(load_figures(session=session, operation=operation, scopes=scopes, metric=m.metric))
    return [
        *decreased(operation, m.metric, reps),
        *below_phase_sum(operation, m.metric, reps, m.phase_sum),
        *duplicates_differ(operation, m),
    ]


def warned_all(session: Session, totals: AllTotals, snap: Snapshot = PRESENT) -> AllTotals:
    """Every operation's totals and the programme's, each metric carrying its findings."""
    for op in totals.operations:
        with_warnings(session, op, snap)
    with_warnings(session, totals.programme, snap)
    return totals


def computed_operation_totals(*, session: Session, operation: Operation, snap: Snapshot) -> OperationTotals:
    """An operation's totals with their findings, computed from the figures of `snap` (what an `at=`
    answer is: the maintained totals hold only the present)."""
    return warned(session, operation_totals(session=session, operation=operation, snap=snap), snap)


def computed_all_totals(*, session: Session, snap: Snapshot) -> AllTotals:
    """Every operation's totals and the programme's with their findings, computed from `snap`."""
    return warned_all(session, all_totals(session=session, snap=snap), snap)


def totals_json(totals: OperationTotals | AllTotals) -> bytes:
    """Computed totals as the JSON bytes the maintained ones are served as."""
    return orjson.dumps(totals.model_dump(mode="json"))


def operation_totals_rows_of(totals: OperationTotals) -> list[dict[str, Any]]:
    """Computed totals of one operation as CSV rows, one per metric, led by the operation."""
    return [{"operation": totals.operation, **m.model_dump(mode="json")} for m in totals.metrics]


def all_totals_rows_of(totals: AllTotals) -> list[dict[str, Any]]:
    """Computed totals as CSV rows: each operation's metrics, then the programme's (no operation)."""
    data = totals.model_dump(mode="json")
    rows = [{"operation": o["operation"], **m} for o in data["operations"] for m in o["metrics"]]
    return rows + [{"operation": None, **m} for m in data["programme"]["metrics"]]
