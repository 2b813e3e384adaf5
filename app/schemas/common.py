"""Shared pieces of the API schemas: strict inputs, ids, dates, pages and problems."""

from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import SQLModel

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


class Reason(Strict):
    """Why a retraction or rejection is made."""

    reason: str = Field(min_length=1, max_length=2000)


def dump(model: SQLModel) -> dict[str, Any]:
    """A schema as plain JSON-able data."""
    return model.model_dump(mode="json")


class Page(BaseModel, Generic[T]):
    """One page of a list: items, the cursor of the next page (null on the last) and the total."""

    items: list[T]
    next_cursor: str | None
    total: int


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
