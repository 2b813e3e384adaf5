"""API schemas (non-table models: these validate). Base / Create / Update / Public per resource."""

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

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
    quote_occurrence: int = Field(default=1, ge=1, le=1000)


class ResultUpdate(Strict):
    """A partial correction of a result (PATCH)."""

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
    quote: str | None = Field(default=None, min_length=1, max_length=5000)
    duplicate_of: ResultId | None = None
    note: str | None = Field(default=None, max_length=2000)
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
    """When an operation started and how that is known."""

    year: int | None
    precision: str | None
    basis: str | None


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
