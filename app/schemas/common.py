"""Shared pieces of the API schemas: strict inputs, ids, dates, pages and problems."""

import re
from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from sqlmodel import SQLModel

T = TypeVar("T")


MAX_VALUE = 1e15


MAX_ID = 2**31 - 1


YEAR = r"(?:000[1-9]|00[1-9]\d|0[1-9]\d{2}|[1-9]\d{3})"  # 0001 to 9999: what Python dates hold
MONTH = r"(?:0[1-9]|1[0-2])"
DAY = r"(?:0[1-9]|[12]\d|3[01])"
ISO_DATE = f"^{YEAR}-{MONTH}-{DAY}$"
ISO_DATE_MESSAGE = "must be an ISO date YYYY-MM-DD (year 0001 to 9999)"


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD is a date: no timestamps (`0` is not 1970-01-01), no other layouts."""
    if isinstance(value, date):  # from code or YAML, already a date
        return value
    if isinstance(value, str) and re.fullmatch(ISO_DATE, value):
        return date.fromisoformat(value)
    raise ValueError(ISO_DATE_MESSAGE)


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE}),
]


def _partial_date(v: str) -> str:
    """Accept YYYY, YYYY-MM or YYYY-MM-DD: the precision the source gives."""
    parts = v.split("-")
    padded = "-".join(parts + ["01"] * (3 - len(parts)))
    date.fromisoformat(padded)
    return v


PartialDate = Annotated[
    str,
    StringConstraints(pattern=f"^{YEAR}(-{MONTH}(-{DAY})?)?$"),
    AfterValidator(_partial_date),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": f"^{YEAR}(-{MONTH})?$"},
                {"type": "string", "format": "date", "pattern": ISO_DATE},
            ],
            "description": "ISO date with the source's precision: YYYY, YYYY-MM or YYYY-MM-DD",
            "examples": ["2019-02-26"],
        }
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
    total: int = Field(description="How many items match, on every page (see total_lower_bound)")
    total_lower_bound: bool = Field(
        default=False,
        description="True when there are more than `total`: a quote search (q=) counts at most "
        "QUOTE_COUNT_LIMIT matches (1000 unless the operator set it), so its total reads 'at least'",
    )


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
