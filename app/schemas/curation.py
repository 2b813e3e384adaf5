"""Curation schemas: candidates found by extraction and API keys."""

from datetime import datetime

from pydantic import Field
from sqlmodel import SQLModel

from app.schemas.common import ResultId
from app.schemas.results import FigureCorrection, not_duplicate_field


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
    scope: str | None = Field(
        default=None,
        examples=["phase"],
        description='A guess: phase, cumulative ("since 2003", "over 14 years") or programme',
    )
    note: str | None = Field(
        default=None, examples=[None], description="Why extraction guessed no metric, when it did not"
    )
    result_id: str | None = Field(default=None, description="The result it became when accepted")
    reason: str | None = Field(default=None, description="Why it was rejected")
    decided_by: str | None = None
    decided_at: datetime | None = None


class CandidateAccept(FigureCorrection):
    """Corrections a curator makes while accepting a candidate; every field is optional."""

    duplicate_of: ResultId | None = Field(
        default=None, description="Accept it as another report of this result (an equal figure stored)"
    )
    not_duplicate: bool = not_duplicate_field()
