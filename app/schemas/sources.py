"""Source document schemas: input, summary and full text with its results."""

from datetime import date

from pydantic import Field
from sqlmodel import SQLModel

from app.models.enums import Qualifier, Scope
from app.schemas.common import IsoDate, Strict


class SourceBase(Strict):
    """What describes a document."""

    title: str = Field(min_length=1, max_length=500)
    publisher: str = Field(min_length=1, max_length=200)
    published_on: IsoDate
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")


class SourceCreate(SourceBase):
    """A new document through the API."""

    text: str = Field(min_length=1, max_length=2_000_000)


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
