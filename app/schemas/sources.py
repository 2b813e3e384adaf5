"""Source document schemas: input, summary and full text with its results."""

from datetime import date, datetime

from pydantic import Field
from sqlmodel import SQLModel

from app.domain.vocabulary import Qualifier, Scope
from app.schemas.common import IsoDate, Strict


class SourceCreate(Strict):
    """A new document through the API: its `text`, a saved page's `html`, or a `url` to fetch."""

    text: str | None = Field(default=None, min_length=1, max_length=2_000_000)
    html: str | None = Field(
        default=None,
        min_length=1,
        max_length=5_000_000,
        description="A saved page: its article becomes `text`",
    )
    url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^https?://\S+$",
        description="Where the document is published; given alone, the page is fetched from it",
    )
    title: str | None = Field(default=None, min_length=1, max_length=500, description="Else the page's title")
    publisher: str | None = Field(
        default=None, min_length=1, max_length=200, description="Else the page's site"
    )
    published_on: IsoDate | None = Field(default=None, description="Else the page's date")
    language: str | None = Field(
        default=None, max_length=35, examples=["ru"], description="BCP 47; else the page's, else detected"
    )


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
    language: str = Field(examples=["ru"], description="BCP 47 tag of the text's language")
    retrieved_at: datetime | None = Field(default=None, description="When the page was fetched from `url`")
    raw_hash: str | None = Field(default=None, description="SHA-256 of the page's bytes, fetched or sent")


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
