"""Operations, phases and metrics: the catalogue's public and input shapes."""

from typing import Annotated

from pydantic import Field, StringConstraints
from sqlmodel import SQLModel

from app.schemas.common import PartialDate, Slug, Strict
from app.schemas.results import SourceRef


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
