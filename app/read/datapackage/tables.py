"""The five tables of the data package: their Table Schema fields and their rows as CSV chunks.

Each table is the CSV of its API list (same columns, same cells: app/csv_format.py flattens and
neutralises them), every row of it: results retracted ones included (flagged `retracted`), sources
with the path of their text in the package. The read functions are the API's, so an `at=` session
(app/read/asof.py) gives the tables as they stood.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from app.csv_format import Row, columns
from app.domain.cells import Neutralised
from app.models import Qualifier, Scope
from app.read.asof import Snapshot
from app.read.catalog import list_metrics
from app.read.operations import list_operations, list_phases
from app.read.results import ResultFilter, SortKey, iter_result_cells
from app.read.sources import iter_sources
from app.schemas.catalog import MetricPublic, OperationPublic, PhasePublic
from app.schemas.results import ResultPublic
from app.schemas.sources import SourceSummary

PARTIAL_DATE = {"constraints": {"pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"}}
KEY = {"constraints": {"required": True, "unique": True}}
REQUIRED = {"constraints": {"required": True}}
SOURCE_REFS = "JSON array of the sources that speak of it: {id, title, published_on, language}"
CHARACTERS = "character"  # offsets and lengths count Unicode code points of the source's text


@dataclass(frozen=True)
class Column:
    """One field of a Table Schema: its name, type, description and, where one applies, its unit."""

    name: str
    type: str
    description: str
    unit: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def descriptor(self) -> dict[str, Any]:
        """The field as Table Schema JSON (`unit` a custom property, as the spec allows)."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "description": self.description}
        if self.unit:
            out["unit"] = self.unit
        return {**out, **self.extra}


def text_path(source_id: int) -> str:
    """Where a source's text is in the package."""
    return f"sources/{source_id}.txt"


OPERATIONS = [
    Column("slug", "string", "Identifier of the operation (channel, mercenary, illegal, proxy)", extra=KEY),
    Column("name", "string", "English name"),
    Column("name_ru", "string", "Russian name"),
    Column("aliases", "array", "JSON array of every spelling of the name in the sources: {alias, language}"),
    Column("purpose", "string", "What the operation is against"),
    Column("started_year", "integer", "Year it started", unit="year"),
    Column("started_precision", "string", "How precisely the start is known"),
    Column("started_basis", "string", "How the start is known"),
    Column(
        "started_source_id",
        "integer",
        "Source stating the start (sources.id; no foreign key: the operations have no past, so a "
        "package of an instant before that source was stored lacks it)",
    ),
    Column("started_quote", "string", "Verbatim sentence of that source stating the start"),
    Column("status", "string", "Current status"),
    Column(
        "status_history",
        "array",
        "JSON array of the dated status entries: {status, since, note, source_id, quote}",
    ),
    Column("sources", "array", SOURCE_REFS),
]

PHASES = [
    Column("slug", "string", "Identifier of the phase (e.g. channel-center-2019)", extra=KEY),
    Column("operation", "string", "Operation it belongs to (operations.slug)", extra=REQUIRED),
    Column("name", "string", "Name as the sources give it"),
    Column("kind", "string", "Kind of phase (e.g. international)"),
    Column("start_date", "string", "First day, at the precision the source gives", extra=PARTIAL_DATE),
    Column("end_date", "string", "Last day, at the precision the source gives", extra=PARTIAL_DATE),
    Column("headquarters", "string", "Where it was directed from"),
    Column("participants", "string", "Participating states and agencies, joined with '; '"),
    Column("observers", "string", "Observers, joined with '; '"),
    Column("note", "string", "Curator's note"),
    Column("sources", "array", SOURCE_REFS),
]

METRICS = [
    Column("slug", "string", "Identifier of what is counted or weighed", extra=KEY),
    Column("label", "string", "Label"),
    Column("dimension", "string", "Dimension of its values (mass, count, money)"),
    Column("base_unit", "string", "Unit that value_base is expressed in for this metric"),
    Column("description", "string", "What it counts"),
]

SOURCES = [
    Column("id", "integer", "Identifier of the document", extra=KEY),
    Column("title", "string", "Title", extra=REQUIRED),
    Column("publisher", "string", "Publisher"),
    Column("published_on", "date", "Publication date (date_basis says how it is known)"),
    Column("date_basis", "string", "How the publication date is known"),
    Column("url", "string", "Where it is published", extra={"format": "uri"}),
    Column("file_name", "string", "File name in the curated seeds"),
    Column("content_hash", "string", "SHA-256 of the text (hex)"),
    Column("length", "integer", "Length of the text", unit=CHARACTERS),
    Column("language", "string", "BCP 47 tag of the text's language"),
    Column("retrieved_at", "datetime", "When the page was fetched from url (UTC)"),
    Column("raw_hash", "string", "SHA-256 of the page's bytes as fetched or sent (hex)"),
    Column("text_path", "string", "Path of the full text in this package (UTF-8)"),
]


def _offset(name: str, what: str) -> Column:
    return Column(name, "integer", what, unit=CHARACTERS)


RESULTS = [
    Column("id", "string", "Stable identifier of the figure", extra=KEY),
    Column("operation", "string", "Operation (operations.slug); empty for an organisation-wide figure"),
    Column("phase", "string", "Phase (phases.slug); empty for a cumulative or programme figure"),
    Column("metric", "string", "What is counted or weighed (metrics.slug)", extra=REQUIRED),
    Column(
        "value",
        "number",
        "The figure as the source states it (number words applied), in the row's unit",
        extra={"unitField": "unit"},
    ),
    Column("unit", "string", "Unit the source states the figure in (t, kg, g, count, USD, ...)"),
    Column("number_text", "string", "The number as written in the quote"),
    Column(
        "value_base",
        "number",
        "The figure converted to the metric's base unit",
        extra={"unitField": "base_unit"},
    ),
    Column("base_unit", "string", "Base unit of the metric (metrics.base_unit)"),
    Column(
        "qualifier",
        "string",
        "How the source qualifies the number (more_than: 'more than 8.9 tons')",
        extra={"constraints": {"enum": [q.value for q in Qualifier]}},
    ),
    Column(
        "scope",
        "string",
        "What the figure covers: one phase, one operation over years, or the organisation",
        extra={"constraints": {"enum": [s.value for s in Scope]}},
    ),
    Column("country", "string", "The one state whose share of a phase this is; empty for the whole"),
    Column("period_start", "string", "Start of the period the figure covers", extra=PARTIAL_DATE),
    Column("period_end", "string", "End of the period the figure covers", extra=PARTIAL_DATE),
    Column("as_of", "date", "Date of the statement that reports it"),
    Column("source_id", "integer", "Source document (sources.id)"),
    Column("source_title", "string", "Title of the source document"),
    Column("source_published_on", "date", "Publication date of the source document"),
    Column("source_language", "string", "BCP 47 tag of the source's (and the quote's) language"),
    Column("quote", "string", "The verbatim sentence of the source that states the figure"),
    _offset("quote_start", "Offset of the quote in the source's text"),
    _offset("quote_end", "End of the quote in the source's text (exclusive)"),
    Column("quote_prefix", "string", "Up to 32 characters of the text just before the quote"),
    Column("quote_suffix", "string", "Up to 32 characters of the text just after the quote"),
    _offset("number_start", "Offset of the number as written in the source's text"),
    _offset("number_end", "End of the number: text[number_start:number_end] == number_text"),
    Column("duplicate_of", "string", "Another report of the same figure (results.id), never counted twice"),
    Column("note", "string", "Curator's note"),
    Column("retracted", "boolean", "Retracted: hidden from lists and totals, kept here flagged"),
    Column("retracted_reason", "string", "Why it was retracted"),
    Column("updated_at", "datetime", "When it last changed (UTC)"),
]


Rows = Iterable[Row] | Neutralised


class Counted:
    """A table's rows (or batches of cells) passed on as they are, counted as they pass."""

    def __init__(self, rows: Rows) -> None:
        self.source, self.count = rows, 0

    def rows(self) -> Rows:
        if isinstance(self.source, Neutralised):
            return Neutralised(self._batches(self.source.batches))
        return self._each(self.source)

    def _each(self, rows: Iterable[Row]) -> Iterator[Row]:
        for row in rows:
            self.count += 1
            yield row

    def _batches(self, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[Sequence[Sequence[Any]]]:
        for batch in batches:
            self.count += len(batch)
            yield batch


def _rows(items: Iterable[BaseModel]) -> Iterator[dict[str, Any]]:
    return (i.model_dump(mode="json") for i in items)


def operations_rows(session: Session, snap: Snapshot) -> Rows:
    """Every operation, in display order."""
    return _rows(list_operations(session=session, snap=snap))


def phases_rows(session: Session, snap: Snapshot) -> Rows:
    """Every phase, oldest first."""
    return _rows(list_phases(session=session, snap=snap))


def metrics_rows(session: Session, _snap: Snapshot) -> Rows:
    """Every metric, by slug."""
    return _rows(list_metrics(session=session))


def sources_rows(session: Session, snap: Snapshot) -> Rows:
    """Every source without its text, with the path of its text file, by id."""
    return (
        {**s.model_dump(mode="json"), "text_path": text_path(s.id)}
        for s in iter_sources(session=session, snap=snap)
    )


def results_rows(session: Session, snap: Snapshot) -> Rows:
    """Every result, retracted ones included, by id: the cells of `GET /results?format=csv`."""
    every = ResultFilter(include_retracted=True)
    return iter_result_cells(session=session, filters=every, sort=(SortKey("id"),), snap=snap)


HEADERS = {
    "operations": columns(OperationPublic),
    "phases": columns(PhasePublic),
    "metrics": columns(MetricPublic),
    "sources": [*columns(SourceSummary), "text_path"],
    "results": columns(ResultPublic),
}  # the API's CSV columns: each table's fields above name them, in this order
