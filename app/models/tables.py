"""Database tables. Table models skip validation: input is validated by the schemas first."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Naming convention so constraint names are identical on SQLite and PostgreSQL (and in Alembic).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now (SQLModel stores it as UTC on both engines)."""
    return datetime.now(UTC)


def json_col() -> Any:
    """A JSON column (TEXT on SQLite, json on PostgreSQL)."""
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Source(SQLModel, table=True):
    """A document the figures come from, with its full text (the evidence)."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=500)
    publisher: str = Field(max_length=200)
    published_on: date | None = None
    date_basis: str | None = Field(default=None, sa_column=Column(Text))
    url: str | None = Field(default=None, max_length=2000)
    file_name: str | None = Field(default=None, max_length=255, unique=True)
    content_hash: str = Field(max_length=64, unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(default="en", max_length=35, sa_column_kwargs={"server_default": "en"})
    retrieved_at: datetime | None = None
    raw_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Unit(SQLModel, table=True):
    """A unit a source states figures in, and how to recognise and convert it."""

    symbol: str = Field(primary_key=True, max_length=16)
    label: str = Field(max_length=100)
    dimension: str = Field(max_length=32)
    pint: str = Field(max_length=64)
    words: list[str] = json_col()


class Metric(SQLModel, table=True):
    """What is counted or weighed, with the base unit totals are expressed in."""

    slug: str = Field(primary_key=True, max_length=64)
    label: str = Field(max_length=200)
    dimension: str = Field(max_length=32)
    base_unit: str = Field(foreign_key="unit.symbol", max_length=16)
    description: str | None = Field(default=None, sa_column=Column(Text))
    keywords: list[str] = json_col()


class Operation(SQLModel, table=True):
    """A standing CSTO operation (Channel, Mercenary, Illegal, PROXY)."""

    slug: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    name_ru: str | None = Field(default=None, max_length=100)
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    started_year: int | None = None
    started_precision: str | None = Field(default=None, max_length=16)
    started_basis: str | None = Field(default=None, sa_column=Column(Text))
    started_source_id: int | None = Field(default=None, foreign_key="source.id")
    started_quote: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(max_length=200)
    position: int = 0


class OperationAlias(SQLModel, table=True):
    """Every spelling of an operation's name found in the sources, matched case-insensitively."""

    __table_args__ = (UniqueConstraint("alias"),)

    id: int | None = Field(default=None, primary_key=True)
    operation_slug: str = Field(foreign_key="operation.slug", max_length=32, index=True)
    alias: str = Field(max_length=100)
    alias_key: str = Field(max_length=100, index=True)
    language: str = Field(default="en", max_length=16)


class OperationStatus(SQLModel, table=True):
    """One dated entry of an operation's status history."""

    id: int | None = Field(default=None, primary_key=True)
    operation_slug: str = Field(foreign_key="operation.slug", max_length=32, index=True)
    status: str = Field(max_length=200)
    since: str | None = Field(default=None, max_length=10)
    note: str | None = Field(default=None, sa_column=Column(Text))
    source_id: int | None = Field(default=None, foreign_key="source.id")
    quote: str | None = Field(default=None, sa_column=Column(Text))


class OperationSource(SQLModel, table=True):
    """Which documents speak of an operation (with or without figures)."""

    operation_slug: str = Field(foreign_key="operation.slug", primary_key=True, max_length=32)
    source_id: int = Field(foreign_key="source.id", primary_key=True)
    created_at: datetime | None = Field(default_factory=utcnow)


class Phase(SQLModel, table=True):
    """One named phase of an operation (e.g. Channel-Center, 26 Feb–1 Mar 2019)."""

    slug: str = Field(primary_key=True, max_length=100)
    operation_slug: str = Field(foreign_key="operation.slug", max_length=32, index=True)
    name: str = Field(max_length=200)
    kind: str | None = Field(default=None, max_length=64)
    start_date: str | None = Field(default=None, max_length=10)
    end_date: str | None = Field(default=None, max_length=10)
    headquarters: str | None = Field(default=None, sa_column=Column(Text))
    participants: list[str] = json_col()
    observers: list[str] = json_col()
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime | None = Field(default_factory=utcnow)  # null only in no row: see the migration


class PhaseSource(SQLModel, table=True):
    """Which documents speak of a phase."""

    phase_slug: str = Field(foreign_key="phase.slug", primary_key=True, max_length=100)
    source_id: int = Field(foreign_key="source.id", primary_key=True)
    created_at: datetime | None = Field(default_factory=utcnow)


class Result(SQLModel, table=True):
    """One reported figure, exactly as a source states it, with its verified quote."""

    __table_args__ = (
        Index("ix_result_totals", "operation_slug", "metric_slug", "scope", "retracted"),
        Index("ix_result_as_of_id", "as_of", "id"),
        Index("ix_result_value_base_id", "value_base", "id"),
        # Filtered pages and their exact counts (operation + metric + year/from/to): an as_of range
        # inside one (operation, metric) holding every column a page's ids are filtered and sorted
        # by, so ids and counts come from the index alone (EXPLAIN plans in bench/README.md).
        Index(
            "ix_result_operation_metric_as_of",
            "operation_slug",
            "metric_slug",
            "as_of",
            "retracted",
            "value_base",
            "value",
            "id",
        ),
        Index("ix_result_metric_as_of", "metric_slug", "as_of", "retracted", "value_base", "value", "id"),
        # Pages of one metric sorted by value_base: values are in that metric's unit, so one metric's
        # rows sit in one stretch of ix_result_value_base_id (opium, ×1000 kg, a third of the way in);
        # without this PostgreSQL walks that index from the start to fill a small LIMIT
        # (bench/RESULTS.md).
        Index(
            "ix_result_metric_value_base",
            "metric_slug",
            "retracted",
            "value_base",
            "id",
            "operation_slug",
            "as_of",
        ),
        Index("ix_result_duplicate_of", "duplicate_of"),  # a write finds the reports linked to it
        # A write re-ranks one phase's whole figures of one metric (more equality columns than
        # ix_result_totals, so the planner takes it for `phase = ?`).
        Index("ix_result_phase_metric", "phase_slug", "metric_slug", "scope", "retracted", "country"),
    )

    id: str = Field(primary_key=True, max_length=64)
    operation_slug: str | None = Field(default=None, foreign_key="operation.slug", max_length=32)
    phase_slug: str | None = Field(default=None, foreign_key="phase.slug", max_length=100, index=True)
    metric_slug: str = Field(foreign_key="metric.slug", max_length=64, index=True)
    value: float
    unit: str = Field(foreign_key="unit.symbol", max_length=16)
    number_text: str = Field(max_length=64)
    value_base: float
    base_unit: str = Field(max_length=16)
    qualifier: str = Field(max_length=16)
    scope: str = Field(max_length=16)
    country: str | None = Field(default=None, max_length=64, index=True)
    period_start: str | None = Field(default=None, max_length=10)
    period_end: str | None = Field(default=None, max_length=10)
    as_of: date
    source_id: int = Field(foreign_key="source.id", index=True)
    quote: str = Field(sa_column=Column(Text, nullable=False))
    quote_start: int
    quote_end: int
    quote_prefix: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    quote_suffix: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    number_start: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    number_end: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    duplicate_of: str | None = Field(default=None, foreign_key="result.id", max_length=64)
    note: str | None = Field(default=None, sa_column=Column(Text))
    retracted: bool = False
    retracted_reason: str | None = Field(default=None, sa_column=Column(Text))
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


VALIDITY = ("valid_from", "valid_to")
TOTALS_COLUMNS = ("operation_slug", "metric_slug", "scope", "retracted")
OPERATION_METRIC_AS_OF = ("operation_slug", "metric_slug", "as_of", "retracted", "value_base", "value",
                          "result_id")  # fmt: skip
METRIC_AS_OF = ("metric_slug", "as_of", "retracted", "value_base", "value", "result_id")
METRIC_VALUE_BASE = ("metric_slug", "retracted", "value_base", "result_id", "operation_slug", "as_of")
PHASE_METRIC = ("phase_slug", "metric_slug", "scope", "retracted", "country")


class ResultRevision(SQLModel, table=True):
    """A result as it stood from `valid_from` until `valid_to` (null: still current): answers `at=`."""

    __table_args__ = (
        UniqueConstraint("result_id", "revision"),
        Index("ix_resultrevision_valid", "valid_from", "valid_to"),
        # result's read indexes again, each ending with the validity interval: an at= page or count
        # filters, sorts and tests `valid_from <= at < valid_to` from the index alone, as the present
        # does over `result` (the migration `asofidx`; plans in bench/RESULTS-asof.md).
        Index("ix_resultrevision_totals", *TOTALS_COLUMNS, *VALIDITY),
        # The unfiltered count and one metric's: `valid_from <= at` a range of the index, `valid_to`
        # next (tested entry by entry in a wider index, such a count cost several times the present's).
        Index("ix_resultrevision_retracted_valid", "retracted", *VALIDITY),
        Index("ix_resultrevision_metric_valid", "metric_slug", "retracted", *VALIDITY),
        Index("ix_resultrevision_retracted_id", "retracted", "result_id", *VALIDITY),
        Index("ix_resultrevision_as_of", "as_of", "result_id", *VALIDITY, "retracted"),
        Index("ix_resultrevision_value_base", "value_base", "result_id", *VALIDITY, "retracted"),
        Index("ix_resultrevision_operation_metric_as_of", *OPERATION_METRIC_AS_OF, *VALIDITY),
        Index("ix_resultrevision_metric_as_of", *METRIC_AS_OF, *VALIDITY),
        Index("ix_resultrevision_metric_value_base", *METRIC_VALUE_BASE, *VALIDITY),
        Index("ix_resultrevision_phase_metric", *PHASE_METRIC, *VALIDITY),
        Index("ix_resultrevision_source", "source_id", *VALIDITY),
    )

    revision_id: int | None = Field(default=None, primary_key=True)
    result_id: str = Field(max_length=64)
    valid_from: datetime
    valid_to: datetime | None = None
    operation_slug: str | None = Field(default=None, max_length=32)
    phase_slug: str | None = Field(default=None, max_length=100)
    metric_slug: str = Field(max_length=64)
    value: float
    unit: str = Field(max_length=16)
    number_text: str = Field(max_length=64)
    value_base: float
    base_unit: str = Field(max_length=16)
    qualifier: str = Field(max_length=16)
    scope: str = Field(max_length=16)
    country: str | None = Field(default=None, max_length=64)
    period_start: str | None = Field(default=None, max_length=10)
    period_end: str | None = Field(default=None, max_length=10)
    as_of: date
    source_id: int
    quote: str = Field(sa_column=Column(Text, nullable=False))
    quote_start: int
    quote_end: int
    quote_prefix: str = Field(default="", max_length=32)
    quote_suffix: str = Field(default="", max_length=32)
    number_start: int = 0
    number_end: int = 0
    duplicate_of: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, sa_column=Column(Text))
    retracted: bool = False
    retracted_reason: str | None = Field(default=None, sa_column=Column(Text))
    revision: int = 1
    created_at: datetime
    updated_at: datetime


class Candidate(SQLModel, table=True):
    """A figure found by extraction in a source, waiting for a curator's decision."""

    __table_args__ = (UniqueConstraint("source_id", "number_start"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    status: str = Field(default="pending", max_length=16, index=True)
    value: float
    unit: str = Field(max_length=16)
    number_text: str = Field(max_length=64)
    number_start: int
    qualifier: str = Field(max_length=16)
    metric: str | None = Field(default=None, max_length=64)
    operation: str | None = Field(default=None, max_length=32)
    phase: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=64)
    quote: str = Field(sa_column=Column(Text, nullable=False))
    quote_start: int
    quote_end: int
    confidence: float
    scope: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))
    result_id: str | None = Field(default=None, foreign_key="result.id", max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    """A write credential; only the SHA-256 of the key is stored."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    scope: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class AuditLog(SQLModel, table=True):
    """Every change: who, when, what it was before and after, and why."""

    __table_args__ = (
        Index("ix_auditlog_entity", "entity", "entity_id", "id"),
        Index("ix_auditlog_at_id", "at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=32)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=100)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    version: int | None = None


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a POST with an Idempotency-Key, replayed for the same key and body."""

    actor: str = Field(primary_key=True, max_length=100)
    key: str = Field(primary_key=True, max_length=200)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    response_headers: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class DatabaseEpoch(SQLModel, table=True):
    """A random id made with the schema: part of every ETag, so none outlives a database reset."""

    id: int = Field(default=1, primary_key=True)
    epoch: str = Field(max_length=32)


class DataVersion(SQLModel, table=True):
    """A single row bumped by every write: the cheap basis of every ETag. `content_version` is the
    version of the last write that changed more than the source registry (app/domain/scopes.py)."""

    id: int = Field(default=1, primary_key=True)
    version: int = 1
    content_version: int = 1
    updated_at: datetime = Field(default_factory=utcnow)


class TotalsAggregate(SQLModel, table=True):
    """The current totals of one metric of one operation ('' for the programme), kept by every write."""

    operation_key: str = Field(primary_key=True, max_length=32)
    metric_slug: str = Field(primary_key=True, max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))  # MetricTotals as JSON text
    body_hash: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})  # names `body`


class TotalsRevision(SQLModel, table=True):
    """The totals of one metric of one operation as they stood from `valid_from` until `valid_to`
    (null: still current): what `at=` totals read (AggregateState.history_from says since when)."""

    __table_args__ = (Index("ix_totalsrevision_valid", "valid_from", "valid_to"),)

    operation_key: str = Field(primary_key=True, max_length=32)
    metric_slug: str = Field(primary_key=True, max_length=64)
    valid_from: datetime = Field(primary_key=True)
    valid_to: datetime | None = None
    body: str = Field(sa_column=Column(Text, nullable=False))  # MetricTotals as JSON text
    body_hash: str = Field(max_length=32)


class PhaseChoiceAggregate(SQLModel, table=True):
    """The whole-phase figure one phase contributes for one metric (and those competing), kept by writes."""

    operation_slug: str = Field(primary_key=True, max_length=32)
    phase_slug: str = Field(primary_key=True, max_length=100)
    metric_slug: str = Field(primary_key=True, max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))  # {"figures": [...], "competing": n}


class AggregateState(SQLModel, table=True):
    """Whether the maintained aggregates cover every result (false until a rebuild after bulk loads)."""

    id: int = Field(default=1, primary_key=True)
    totals_built: bool = False
    history_from: datetime | None = None  # totalsrevision holds every total as it stood since then
