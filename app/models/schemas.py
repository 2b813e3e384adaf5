"""API schemas (non-table models: these validate). Base / Create / Update / Public per resource."""

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import SQLModel

from app.models.enums import Qualifier, Scope

T = TypeVar("T")
MAX_VALUE = 1e15
MAX_ID = 2**31 - 1


def _partial_date(v: str) -> str:
    """Accept YYYY, YYYY-MM or YYYY-MM-DD: the precision the source gives."""
    parts = v.split("-")
    padded = "-".join(parts + ["01"] * (3 - len(parts)))
    date.fromisoformat(padded)
    return v


PartialDate = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$"),
    AfterValidator(_partial_date),
    Field(
        description="ISO date with the source's precision: YYYY, YYYY-MM or YYYY-MM-DD",
        examples=["2019-02-26"],
    ),
]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")]
ResultId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SourceId = Annotated[int, Field(ge=1, le=MAX_ID)]


class Strict(SQLModel):
    """Input models reject unknown fields: no mass assignment of ids, audit or status."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


# ---------------------------------------------------------------- results


class ResultBase(Strict):
    """The fields a curator states about one figure."""

    operation: str | None = Field(
        default=None,
        max_length=100,
        examples=["channel"],
        description="Operation slug or alias; null for organisation-wide",
    )
    phase: Slug | None = Field(default=None, examples=["channel-center-2019"])
    metric: Slug = Field(examples=["opium_seized"])
    value: float = Field(
        gt=0,
        lt=MAX_VALUE,
        examples=[8.9],
        description="As the source states it, number words applied",
    )
    unit: str = Field(max_length=16, examples=["t"])
    qualifier: Qualifier = Field(default=Qualifier.exact, examples=["more_than"])
    scope: Scope = Field(examples=["phase"])
    country: ShortText | None = Field(default=None, examples=["Iran"])
    period_start: PartialDate | None = None
    period_end: PartialDate | None = None
    as_of: date | None = Field(
        default=None, description="Date of the statement; defaults to the source's published_on"
    )
    quote: str = Field(
        min_length=1,
        max_length=5000,
        description="The verbatim sentence of the source that states the figure",
    )
    duplicate_of: ResultId | None = Field(
        default=None,
        description="Another report of the same figure (e.g. the headline of the body's figure)",
    )
    note: str | None = Field(default=None, max_length=2000)


class ResultCreate(ResultBase):
    """A new result through the API: offsets, base value and id are computed, never sent."""

    source_id: SourceId


class ResultSeed(ResultBase):
    """A result as curated in seeds/results/*.yaml."""

    id: ResultId
    quote_occurrence: int | None = Field(
        default=None, ge=1, le=1000, description="Which occurrence of a quote found several times"
    )


class FigureCorrection(Strict):
    """Fields a curator may correct on a figure; every one optional (PATCH, candidate accept)."""

    operation: str | None = Field(default=None, max_length=100)
    phase: Slug | None = None
    metric: Slug | None = None
    value: float | None = Field(default=None, gt=0, lt=MAX_VALUE)
    unit: str | None = Field(default=None, max_length=16)
    qualifier: Qualifier | None = None
    scope: Scope | None = None
    country: ShortText | None = None
    period_start: PartialDate | None = None
    period_end: PartialDate | None = None
    as_of: date | None = None
    note: str | None = Field(default=None, max_length=2000)


class ResultUpdate(FigureCorrection):
    """A partial correction of a result (PATCH); the quote and duplicate link may change too."""

    quote: str | None = Field(default=None, min_length=1, max_length=5000)
    duplicate_of: ResultId | None = None
    reason: str | None = Field(default=None, max_length=2000, description="Why, for the audit")


class Reason(Strict):
    """Why a retraction or rejection is made."""

    reason: str = Field(min_length=1, max_length=2000)


class SourceRef(SQLModel):
    """The source a result cites."""

    id: int
    title: str
    published_on: date | None


class ResultPublic(SQLModel):
    """One reported figure exactly as its source states it, with its verified quote."""

    id: str = Field(examples=["channel-center-2019-opium"])
    operation: str | None = Field(examples=["channel"])
    phase: str | None = Field(examples=["channel-center-2019"])
    metric: str = Field(examples=["opium_seized"])
    value: float = Field(examples=[8.9])
    unit: str = Field(examples=["t"])
    number_text: str = Field(examples=["8.9"], description="The number as written in the quote")
    value_base: float = Field(examples=[8900])
    base_unit: str = Field(examples=["kg"])
    qualifier: Qualifier
    scope: Scope
    country: str | None
    period_start: str | None
    period_end: str | None
    as_of: date
    source: SourceRef
    quote: str
    quote_start: int
    quote_end: int
    duplicate_of: str | None
    note: str | None
    retracted: bool
    retracted_reason: str | None = None
    updated_at: datetime


# ---------------------------------------------------------------- sources


class SourceBase(Strict):
    """What describes a document."""

    title: str = Field(min_length=1, max_length=500)
    publisher: str = Field(min_length=1, max_length=200)
    published_on: date
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")


class SourceCreate(SourceBase):
    """A new document through the API."""

    text: str = Field(min_length=1, max_length=2_000_000)


class SourceSeed(Strict):
    """A document as listed in seeds/sources.yaml."""

    file: str = Field(pattern=r"^[A-Za-z0-9._-]+\.txt$")
    title: str
    publisher: str
    published_on: date | None = None
    date_basis: str | None = None
    url: str | None = None


class SourceSummary(SQLModel):
    """A document without its text (lists)."""

    id: int
    title: str
    publisher: str
    published_on: date | None
    date_basis: str | None
    url: str | None
    file_name: str | None
    content_hash: str
    length: int


class SourcePublic(SourceSummary):
    """A document with its full text."""

    text: str


# ---------------------------------------------------------------- catalogue seeds


class UnitSeed(Strict):
    """A unit as listed in seeds/units.yaml."""

    symbol: str
    label: str
    dimension: str
    pint: str
    words: list[str] = []


class MetricSeed(Strict):
    """A metric as listed in seeds/metrics.yaml."""

    slug: Slug
    label: str
    dimension: str
    base_unit: str
    description: str | None = None
    keywords: list[str] = []


class QuotedFact(Strict):
    """A dated fact about an operation, with the sentence that states it."""

    source: str | None = None
    quote: str | None = None


class StatusSeed(QuotedFact):
    """One entry of an operation's status history."""

    status: str
    since: PartialDate | None = None
    note: str | None = None


class StartedSeed(QuotedFact):
    """When an operation started, and how that is known."""

    year: int | None = Field(default=None, ge=1990, le=2100)
    precision: str | None = Field(default=None, pattern=r"^(exact|no_later_than|about)$")
    basis: str


class AliasSeed(Strict):
    """A spelling of an operation's name."""

    alias: str = Field(min_length=1, max_length=100)
    language: str = "en"


class OperationSeed(Strict):
    """An operation as curated in seeds/operations.yaml."""

    slug: Slug
    name: str
    name_ru: str | None = None
    purpose: str
    aliases: list[AliasSeed]
    started: StartedSeed
    status_history: list[StatusSeed]
    sources: list[str] = []


class PhaseBase(Strict):
    """What a release says of a phase."""

    name: str = Field(min_length=1, max_length=200, examples=["Channel-Center"])
    kind: str | None = Field(default=None, max_length=64, examples=["international"])
    start_date: PartialDate | None = None
    end_date: PartialDate | None = None
    headquarters: str | None = Field(default=None, max_length=2000)
    participants: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=200
    )
    observers: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=200
    )
    note: str | None = Field(default=None, max_length=2000)


class PhaseCreate(PhaseBase):
    """A new phase through the API (slug derived from name and year when absent)."""

    operation: str = Field(max_length=100, examples=["channel"])
    slug: Slug | None = None


class PhaseSeed(PhaseBase):
    """A phase as curated in seeds/phases.yaml."""

    slug: Slug
    operation: Slug
    sources: list[str] = []


def dump(model: SQLModel) -> dict[str, Any]:
    """A schema as plain JSON-able data."""
    return model.model_dump(mode="json")


# ---------------------------------------------------------------- public read shapes


class AliasPublic(SQLModel):
    """A spelling of an operation's name found in the sources."""

    alias: str
    language: str


class StatusPublic(SQLModel):
    """One dated entry of an operation's status history."""

    status: str
    since: str | None
    note: str | None
    source_id: int | None
    quote: str | None


class StartedPublic(SQLModel):
    """When an operation started and how that is known (with the sentence that says so)."""

    year: int | None
    precision: str | None
    basis: str | None
    source_id: int | None = None
    quote: str | None = None


class OperationPublic(SQLModel):
    """A standing CSTO operation."""

    slug: str = Field(examples=["channel"])
    name: str = Field(examples=["Channel"])
    name_ru: str | None = Field(examples=["Канал"])
    aliases: list[AliasPublic]
    purpose: str
    started: StartedPublic
    status: str
    status_history: list[StatusPublic]
    sources: list[SourceRef]


class PhasePublic(SQLModel):
    """A phase of an operation."""

    slug: str = Field(examples=["channel-center-2019"])
    operation: str = Field(examples=["channel"])
    name: str = Field(examples=["Channel-Center"])
    kind: str | None
    start_date: str | None = Field(examples=["2019-02-26"])
    end_date: str | None = Field(examples=["2019-03-01"])
    headquarters: str | None
    participants: list[str]
    observers: list[str]
    note: str | None
    sources: list[SourceRef]


class MetricPublic(SQLModel):
    """What is counted or weighed, and the base unit totals use."""

    slug: str = Field(examples=["opium_seized"])
    label: str = Field(examples=["Opium seized"])
    dimension: str = Field(examples=["mass"])
    base_unit: str = Field(examples=["kg"])
    description: str | None


class Page(BaseModel, Generic[T]):
    """One page of a list: items, the cursor of the next page (null on the last) and the total."""

    items: list[T]
    next_cursor: str | None
    total: int


# ---------------------------------------------------------------- curation (writes)


class CandidatePublic(SQLModel):
    """A figure found by extraction, waiting for (or past) a curator's decision."""

    id: int
    source_id: int
    status: str = Field(examples=["pending"], description="pending, accepted or rejected")
    value: float = Field(examples=[4000])
    unit: str = Field(examples=["count"])
    number_text: str = Field(examples=["4 thousand"], description="The number as written")
    qualifier: str = Field(examples=["more_than"])
    metric: str | None = Field(description="A guess, null when unknown")
    operation: str | None
    phase: str | None
    country: str | None
    quote: str
    quote_start: int
    quote_end: int
    confidence: float = Field(ge=0, le=1)
    result_id: str | None = Field(default=None, description="The result it became when accepted")
    reason: str | None = Field(default=None, description="Why it was rejected")
    decided_by: str | None = None
    decided_at: datetime | None = None


class CandidateAccept(FigureCorrection):
    """Corrections a curator makes while accepting a candidate; every field is optional."""


class HistoryEntry(SQLModel):
    """One recorded change: who (the key's name, never the key), when, what before and after, why."""

    at: datetime
    actor: str = Field(examples=["ci"])
    action: str = Field(examples=["update"])
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class KeyPublic(SQLModel):
    """An API key as listed: never the key nor its hash."""

    name: str
    scope: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


# ---------------------------------------------------------------- read API (v1 query surface)

SumQualifier = Literal["exact", "more_than", "about", "almost", "up_to", "mixed"]


class Problem(BaseModel):
    """RFC 9457 problem details: the one error shape of every endpoint."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:opstats:problem:operation-not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(
        examples=["No operation 'nosuchop'. Valid operations: channel, mercenary, illegal, proxy."]
    )
    instance: str | None = Field(default=None, examples=["/api/v1/operations/nosuchop"])
    parameter: str | None = Field(default=None, description="The query parameter at fault (422)")


class SourceResult(SQLModel):
    """A result a source supports, in short (its full shape is at /api/v1/results/{id})."""

    id: str = Field(examples=["channel-center-2019-opium"])
    operation: str | None = Field(examples=["channel"])
    phase: str | None = Field(examples=["channel-center-2019"])
    metric: str = Field(examples=["opium_seized"])
    value: float = Field(examples=[8.9])
    unit: str = Field(examples=["t"])
    value_base: float = Field(examples=[8900])
    base_unit: str = Field(examples=["kg"])
    qualifier: Qualifier
    scope: Scope
    country: str | None = Field(examples=[None])
    as_of: date = Field(examples=["2019-03-01"])
    quote_start: int = Field(description="Offset of the quote in this source's text")
    quote_end: int
    retracted: bool


class SourceDetail(SourcePublic):
    """A document with its full text and the results it supports (retracted ones flagged)."""

    results: list[SourceResult]


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
        description="Qualifier of the sum: exact, more_than (a lower bound), about, almost or up_to "
        "(upper bounds) or mixed (neither bound holds); see the README",
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
