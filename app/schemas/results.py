"""Result schemas: what a curator states about a figure, and its public shape."""

from datetime import date, datetime
from typing import Any

from pydantic import Field
from sqlmodel import SQLModel

from app.domain.vocabulary import Qualifier, Scope
from app.schemas.common import MAX_VALUE, IsoDate, PartialDate, ResultId, ShortText, Slug, SourceId, Strict


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
    as_of: IsoDate | None = Field(
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


def not_duplicate_field() -> Any:
    """The `not_duplicate` flag of a new figure."""
    return Field(
        default=False,
        description="Keep this figure beside an equal one already stored (else such a figure is a 409 "
        "`possible-duplicate`; or set `duplicate_of` to link it as another report of that figure)",
    )


class ResultCreate(ResultBase):
    """A new result through the API: offsets, base value and id are computed, never sent."""

    source_id: SourceId
    not_duplicate: bool = not_duplicate_field()


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
    as_of: IsoDate | None = None
    note: str | None = Field(default=None, max_length=2000)


class ResultUpdate(FigureCorrection):
    """A partial correction of a result (PATCH); the quote and duplicate link may change too."""

    quote: str | None = Field(default=None, min_length=1, max_length=5000)
    duplicate_of: ResultId | None = None
    reason: str | None = Field(default=None, max_length=2000, description="Why, for the audit")


class SourceRef(SQLModel):
    """The source a result cites."""

    id: int
    title: str
    published_on: date | None
    language: str = Field(
        examples=["ru"], description="BCP 47 tag of the source's (and the quote's) language"
    )


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
    quote_prefix: str = Field(
        description="Up to 32 characters of the source text just before the quote (W3C TextQuoteSelector)"
    )
    quote_suffix: str = Field(description="Up to 32 characters of the source text just after the quote")
    number_start: int = Field(description="Offset of the number as written in the source's text")
    number_end: int = Field(description="End of the number: text[number_start:number_end] == number_text")
    duplicate_of: str | None
    note: str | None
    retracted: bool
    retracted_reason: str | None = None
    updated_at: datetime


class HistoryEntry(SQLModel):
    """One recorded change: who (the key's name, never the key), when, what before and after, why."""

    at: datetime
    actor: str = Field(examples=["ci"])
    action: str = Field(examples=["update"])
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
