"""Totals and series: honest sums, latest running totals and what they are made of."""

from datetime import date
from typing import Literal

from pydantic import Field
from sqlmodel import SQLModel

from app.domain.counting import SumQualifier
from app.domain.vocabulary import Qualifier, Scope
from app.schemas.changes import Finding


class FigureRef(SQLModel):
    """One reported figure as a total uses or lists it, named by its result id."""

    result_id: str = Field(examples=["channel-2023-drugs-seized"])
    value: float = Field(examples=[427], description="As the source states it")
    unit: str = Field(examples=["t"])
    value_base: float = Field(examples=[427000], description="In the metric's base unit")
    base_unit: str = Field(examples=["kg"])
    qualifier: Qualifier = Field(examples=["more_than"])
    as_of: date = Field(examples=["2023-05-18"], description="Date of the statement")


class LatestFigure(FigureRef):
    """The latest non-retracted running total (by as_of, then id); older reports listed under `earlier`."""

    scope: Scope = Field(examples=["cumulative"], description="cumulative (one operation) or programme")
    earlier: list[FigureRef] = Field(
        description="Other reports of this running total, newest first (at most 5; see earlier_total)"
    )
    earlier_total: int = Field(examples=[0], description="How many other reports there are")


class PhaseFigure(FigureRef):
    """A whole-phase figure (or a country's share of a phase)."""

    phase: str = Field(examples=["channel-center-2019"])


class CountryShare(PhaseFigure):
    """What one state's agencies reported within a phase: listed, never added to the whole."""

    country: str = Field(examples=["Iran"])


class PhaseSum(SQLModel):
    """The sum over phases of one whole-phase figure per phase, duplicates counted once."""

    value_base: float = Field(examples=[8900])
    base_unit: str = Field(examples=["kg"])
    qualifier: SumQualifier = Field(
        examples=["more_than"],
        description="Qualifier of the sum: exact, more_than or at_least (lower bounds), about, almost, "
        "up_to or less_than (upper bounds) or mixed (neither bound holds); see the README",
    )
    lower_bound: bool = Field(description="The true total is at least value_base")
    upper_bound: bool = Field(description="The true total is at most value_base")
    qualifier_note: str = Field(examples=["a sum of 'more than' figures: a lower bound"])
    phases: int = Field(examples=[1], description="How many phases contribute")
    result_ids: list[str] = Field(examples=[["channel-center-2019-opium"]])
    per_phase: list[PhaseFigure]


class Disagreement(SQLModel):
    """Reports of one figure that differ, and the one the totals use."""

    kind: Literal["duplicate_reports", "conflicting_phase_figures"] = Field(
        description="duplicate_reports: linked by duplicate_of (e.g. a headline rounding the body); "
        "conflicting_phase_figures: two independent whole-phase figures of one phase"
    )
    scope: Scope
    phase: str | None = Field(examples=["channel-center-2019"])
    used_result_id: str = Field(examples=["channel-center-2019-drugs"])
    reports: list[FigureRef] = Field(description="The reports that differ, the used one first (at most 5)")
    reports_total: int = Field(examples=[2], description="How many reports differ in all")


class MetricTotals(SQLModel):
    """Every total of one metric; each part is in the metric's base unit and names its results."""

    metric: str = Field(examples=["drugs_seized"])
    label: str = Field(examples=["Drugs seized (all kinds)"])
    base_unit: str = Field(examples=["kg"])
    cumulative: LatestFigure | None = Field(
        description="The latest running total reported (never added to the phase sum)"
    )
    phase_sum: PhaseSum | None
    country_shares: list[CountryShare] = Field(description="Listed separately, never added")
    disagreements: list[Disagreement] = Field(description="Reports that differ and which was used")
    warnings: list["Finding"] = Field(
        default_factory=list,
        description="Consistency findings of this metric (as at /api/v1/checks): figures that cannot all "
        "be right",
    )


class OperationTotals(SQLModel):
    """Totals of one operation, per metric."""

    operation: str = Field(examples=["channel"])
    name: str = Field(examples=["Channel"])
    metrics: list[MetricTotals]


class ProgrammeTotals(SQLModel):
    """Organisation-wide figures (scope programme): shown apart, never added to an operation's."""

    metrics: list[MetricTotals]


class AllTotals(SQLModel):
    """Totals of every operation, and the organisation-wide programme figures separately."""

    operations: list[OperationTotals]
    programme: ProgrammeTotals


class SeriesPoint(SQLModel):
    """One point of a time series: a year or a phase, with the results it is made of."""

    period: str = Field(examples=["2019"], description="A year (by=year) or a phase slug (by=phase)")
    value_base: float = Field(examples=[8900])
    base_unit: str = Field(examples=["kg"])
    qualifier: SumQualifier = Field(examples=["more_than"])
    lower_bound: bool
    upper_bound: bool
    phases: int = Field(description="Phases summed into the point (0 for running totals)")
    as_of: date = Field(description="The newest statement date among the point's results")
    result_ids: list[str] = Field(examples=[["channel-center-2019-opium"]])


class Series(SQLModel):
    """A time series of one metric for a dashboard."""

    metric: str = Field(examples=["opium_seized"])
    operation: str | None = Field(examples=["channel"])
    scope: Scope = Field(
        description="phase: sums of whole-phase figures; cumulative, programme: running totals"
    )
    by: Literal["year", "phase"]
    base_unit: str = Field(examples=["kg"])
    points: list[SeriesPoint]
