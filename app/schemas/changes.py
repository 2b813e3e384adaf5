"""The change feed and consistency findings: what changed in the data, and what does not add up."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from sqlmodel import SQLModel


class Change(SQLModel):
    """One audited write: when, which data version it made, what it did to which entity, who and why."""

    id: int = Field(examples=[412], description="Position in the feed (pass as `after=` to continue)")
    at: datetime = Field(description="When the write committed")
    version: int | None = Field(
        examples=[37], description="The data version the write made (null for writes before the feed)"
    )
    action: str = Field(examples=["retract"], description="create, update, retract, link_duplicate, ...")
    entity: str = Field(examples=["result"], description="result, phase, source, candidate, ...")
    entity_id: str = Field(examples=["channel-center-2019-opium"])
    actor: str = Field(examples=["curator-ci"], description="The key's name, never the key")
    reason: str | None
    before: dict[str, Any] | None = Field(description="The state before, with the public field names")
    after: dict[str, Any] | None = Field(description="The state after, with the public field names")


FindingKind = Literal["cumulative_decreased", "cumulative_below_phase_sum", "duplicate_reports_differ"]


class Finding(SQLModel):
    """Figures that do not add up: a curator should look at them (nothing is changed automatically)."""

    kind: FindingKind = Field(
        description="cumulative_decreased: a newer running total below an older one; "
        "cumulative_below_phase_sum: a running total below the sum of the whole-phase figures it "
        "covers; duplicate_reports_differ: reports linked as one figure state different values"
    )
    operation: str | None = Field(examples=["channel"])
    metric: str = Field(examples=["heroin_seized"])
    result_ids: list[str] = Field(examples=[["channel-2023-heroin", "r-1a2b3c4d5e6f"]])
    detail: str


class Findings(SQLModel):
    """Every finding, by operation and metric."""

    items: list[Finding]
