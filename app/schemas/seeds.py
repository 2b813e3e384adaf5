"""The curated seeds/ files' schemas: every entry validated before it is loaded."""

from datetime import datetime

from pydantic import Field

from app.schemas.catalog import PhaseBase
from app.schemas.common import IsoDate, PartialDate, ResultId, Slug, Strict
from app.schemas.results import ResultBase


class ResultSeed(ResultBase):
    """A result as curated in seeds/results/*.yaml."""

    id: ResultId
    quote_occurrence: int | None = Field(
        default=None, ge=1, le=1000, description="Which occurrence of a quote found several times"
    )
    retracted: bool = Field(default=False, description="Retracted (kept as history, never counted)")
    retracted_reason: str | None = Field(default=None, max_length=2000, description="Why it was retracted")


class SourceSeed(Strict):
    """A document as listed in seeds/sources.yaml."""

    file: str = Field(pattern=r"^[A-Za-z0-9._-]+\.txt$")
    title: str
    publisher: str
    published_on: IsoDate | None = None
    date_basis: str | None = None
    url: str | None = None
    language: str | None = Field(default=None, max_length=35, description="BCP 47; detected when absent")
    retrieved_at: datetime | None = Field(default=None, description="When a web page was fetched")
    raw_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of its bytes")


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


class PhaseSeed(PhaseBase):
    """A phase as curated in seeds/phases.yaml."""

    slug: Slug
    operation: Slug
    sources: list[str] = []
