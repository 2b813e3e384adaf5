"""Answers as the data stood at an instant (`at=`): the same read code, over a `Snapshot`.

A read function takes the snapshot it answers from and reads the tables through it:
`snap.result` is `Result` itself for the present, else an alias of the revisions valid at the
instant (`valid_from <= at < valid_to`, `result_id` as `id`); `snap.source`, `snap.phase`,
`snap.phasesource` and `snap.operationsource` are the model, or an alias of the rows created by
then. The instant is a bound parameter: no DDL, no per-request state on the session or its
connection. Whether such an answer may be kept forever (the instant has settled: every write
stamped at or before it has committed) is the HTTP layer's to decide (app/versions.py `settled`).
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.sqltypes import NullType

from app.models import OperationSource, Phase, PhaseSource, Result, ResultRevision, Source

M = TypeVar("M", Source, Phase, PhaseSource, OperationSource)
RESULT_COLUMNS = [c.name for c in Result.__table__.columns]  # type: ignore[attr-defined]
REVISION = ResultRevision.__table__  # type: ignore[attr-defined]
AS_RESULT = [REVISION.c.result_id.label("id") if c == "id" else REVISION.c[c] for c in RESULT_COLUMNS]


class likely(FunctionElement[Any]):
    """A condition the planner should take as almost always true: SQLite's `likely(X)`, the bare
    condition elsewhere (PostgreSQL's statistics see it). SQLite, with no histogram, takes a range
    such as `valid_from <= at` to keep a quarter of the rows and reads the whole interval index for
    it, then sorts; nearly every revision is valid at an instant after it was made. Untyped, so
    SQLite's `WHERE` takes it as it is (a Boolean would be compared `= 1`, hiding the range inside
    from the planner's weighting)."""

    type = NullType()
    inherit_cache = True
    name = "likely"


@compiles(likely)
def _likely(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(likely, "sqlite")
def _likely_sqlite(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"


def valid_at(valid_from: Any, valid_to: Any, at: Any) -> ColumnElement[bool]:
    """`valid_from <= at < valid_to` (a null `valid_to`: still valid), as the planner should see it:
    the range on `valid_from` likely (it does not choose the index to read), `valid_to` tested in
    whichever index serves the filters and the sort (each ends with both)."""
    since = cast(ColumnElement[bool], likely(valid_from <= at))
    return and_(since, or_(valid_to.is_(None), valid_to > at))


def revisions_at(at: datetime) -> Select[Any]:
    """The revision of each result valid at `at`, in result's columns (`result_id` as `id`). Core
    over the table itself: one result's read (`where result_id = ...`) builds no alias."""
    bound = literal(at, type_=REVISION.c.valid_from.type)
    return select(*AS_RESULT).where(valid_at(REVISION.c.valid_from, REVISION.c.valid_to, bound))


def created_by(model: type[M], at: datetime) -> ColumnElement[bool]:
    """`model`'s rows created at or before `at`, as a condition on the table itself."""
    stamp = model.__table__.c.created_at  # type: ignore[attr-defined]
    return cast(ColumnElement[bool], stamp <= literal(at, type_=stamp.type))


def _created_by(model: type[M], at: datetime) -> type[M]:
    """The rows of `model` created at or before `at`, as an alias that reads like the model."""
    table = model.__table__  # type: ignore[attr-defined]
    rows = select(table).where(created_by(model, at)).subquery(f"{table.name}_at")
    return cast(type[M], aliased(model, rows))


@dataclass(frozen=True)
class Snapshot:
    """The state a read answers from: the present (`at` None) or the data as it stood at `at`."""

    at: datetime | None = None

    @property
    def past(self) -> bool:
        """True for an `at=` read: state kept only for the present (maintained totals, the quote
        index, rowids) does not answer it."""
        return self.at is not None

    @cached_property
    def result(self) -> type[Result]:
        """Results: the table, or the revision of each result valid at the instant."""
        if self.at is None:
            return Result
        valid = revisions_at(self.at).subquery("result_at")
        return cast(type[Result], aliased(Result, valid, adapt_on_names=True))

    @cached_property
    def source(self) -> type[Source]:
        return Source if self.at is None else _created_by(Source, self.at)

    @cached_property
    def phase(self) -> type[Phase]:
        return Phase if self.at is None else _created_by(Phase, self.at)

    @cached_property
    def phasesource(self) -> type[PhaseSource]:
        return PhaseSource if self.at is None else _created_by(PhaseSource, self.at)

    @cached_property
    def operationsource(self) -> type[OperationSource]:
        return OperationSource if self.at is None else _created_by(OperationSource, self.at)


PRESENT = Snapshot()  # the current data
