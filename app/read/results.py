"""Listing results: every filter of the contract, stable sorts and keyset cursors.

A cursor encodes the sort and the last row's sort values plus its id, so the next page starts
strictly after that row in the same order: rows added or removed between pages never make a page
skip or repeat a row that exists on both fetches. The sort always ends with `id` (unique), which
makes every order total and therefore stable.
"""

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    LargeBinary,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    table,
    text,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.domain.cells import BATCH_ROWS, FORMULA_STARTS, Neutralised
from app.domain.cursors import decode_cursor as decode_cursor_of
from app.domain.cursors import encode_cursor as encode_cursor_of
from app.domain.cursors import foreign_cursor
from app.domain.errors import BadParameter, NotFound
from app.domain.vocabulary import Qualifier, Scope
from app.models import Metric, Result, Source
from app.quote_index import (
    METRIC_INDEX,
    METRIC_SPAN,
    QUOTE_INDEX,
    TRIGRAM,
    ascii_folds_as_lower,
    fold,
    pg_metric_pieces,
    pg_pick,
    pg_short_estimate,
    sqlite_pick,
    sqlite_rarest,
    sqlite_starting,
)
from app.read.asof import PRESENT, RESULT_COLUMNS, REVISION, Snapshot, created_by, revisions_at
from app.read.catalog import operation_slugs, resolve_operation
from app.schemas.results import ResultPublic, SourceRef

SORTABLE = ("id", "as_of", "value_base", "value", "metric", "operation", "phase")
DEFAULT_SORT = "id"
MAX_SORT_VALUE = 200


@dataclass(frozen=True)
class ResultFilter:
    """The filters of GET /api/v1/results, already resolved (operation slug, not alias)."""

    operation: str | None = None
    phase: str | None = None
    metric: str | None = None
    scope: str | None = None
    country: str | None = None
    qualifier: str | None = None
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    include_retracted: bool = False


@dataclass(frozen=True)
class Ask:
    """One page asked for: the filters (`q` among them), the sort, the previous page's last sort
    values (None: the first page) and how many rows."""

    filters: ResultFilter
    keys: Sequence["SortKey"]
    after: list[Any] | None
    limit: int

    @property
    def text(self) -> str:
        """The quote search's text (the paths that take an Ask serve one)."""
        assert self.filters.q is not None
        return self.filters.q

    def with_filters(self, **changes: Any) -> "Ask":
        """The same page of other filters."""
        return replace(self, filters=replace(self.filters, **changes))


@dataclass(frozen=True)
class SortKey:
    """One field of a sort order."""

    name: str
    descending: bool = False


def bad(parameter: str, detail: str) -> BadParameter:
    """The error for a bad query parameter, naming it."""
    return BadParameter(parameter, detail)


def parse_sort(spec: str | None) -> tuple[SortKey, ...]:
    """`-value_base,as_of` → keys; always ends with id (unique), so the order is total."""
    keys: list[SortKey] = []
    for raw in (spec or DEFAULT_SORT).split(","):
        part = raw.strip()
        name = part.removeprefix("-")
        if name not in SORTABLE:
            raise bad(
                "sort",
                f"Cannot sort by {part!r}; sortable fields: {', '.join(SORTABLE)} ('-' for descending).",
            )
        if any(k.name == name for k in keys):
            raise bad("sort", f"{name!r} appears twice in sort.")
        keys.append(SortKey(name, part.startswith("-")))
        if name == "id":
            return tuple(keys)
    return (*keys, SortKey("id"))


def sort_spec(keys: Sequence[SortKey]) -> str:
    """The canonical text of a sort order."""
    return ",".join(("-" if k.descending else "") + k.name for k in keys)


def _column(r: type[Result], name: str) -> Any:
    """The SQL expression a sort field orders by (nullable slugs sort as '') over results `r`."""
    return {
        "id": col(r.id),
        "as_of": col(r.as_of),
        "value_base": col(r.value_base),
        "value": col(r.value),
        "metric": col(r.metric_slug),
        "operation": func.coalesce(r.operation_slug, ""),
        "phase": func.coalesce(r.phase_slug, ""),
    }[name]


def _sort_value(item: dict[str, Any], name: str) -> Any:
    """A page item's value of a sort field, JSON-able (what the cursor stores)."""
    if name == "as_of":
        return item["as_of"].isoformat()
    if name in ("operation", "phase"):
        return item[name] or ""
    return item[name]


def _typed(name: str, value: Any) -> Any:
    """A cursor value checked and converted to the field's type; ValueError when it is not one."""
    if name == "as_of":
        return date.fromisoformat(value)
    if name in ("value_base", "value"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(name)
        return float(value)
    if not isinstance(value, str) or len(value) > MAX_SORT_VALUE or "\x00" in value:
        raise ValueError(name)
    return value


def encode_cursor(keys: Sequence[SortKey], item: dict[str, Any]) -> str:
    """An opaque cursor naming the last item of a page in this sort order."""
    return encode_cursor_of("results", sort_spec(keys), [_sort_value(item, k.name) for k in keys])


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    """The sort values of the previous page's last row; BadParameter naming `cursor` when not ours."""
    values = decode_cursor_of(cursor, "results", sort_spec(keys), len(keys))
    try:
        return [_typed(k.name, v) for k, v in zip(keys, values, strict=True)]
    except (ValueError, TypeError) as exc:
        raise foreign_cursor() from exc


def _after(r: type[Result], keys: Sequence[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after the cursor row in the sort order (a row comparison when one direction)."""
    cols = [_column(r, k.name) for k in keys]
    params = [literal(v, type_=c.type) for c, v in zip(cols, values, strict=True)]
    if len({k.descending for k in keys}) == 1:
        left, right = tuple_(*cols), tuple_(*params)
        return left < right if keys[0].descending else left > right
    clauses = []
    for i, key in enumerate(keys):
        step = cols[i] < params[i] if key.descending else cols[i] > params[i]
        clauses.append(and_(*[cols[j] == params[j] for j in range(i)], step))
    return or_(*clauses)


def _order(r: type[Result], keys: Sequence[SortKey]) -> list[Any]:
    return [_column(r, k.name).desc() if k.descending else _column(r, k.name).asc() for k in keys]


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def case_variants(text: str) -> list[str]:
    """Every spelling of a short text that differs from it only in letter case (any script)."""
    spellings = [""]
    for char in text:
        cases = dict.fromkeys(c for c in (char, char.lower(), char.upper()) if len(c) == 1)
        spellings = [head + c for head in spellings for c in cases]
    return spellings


def fts_phrase(text: str) -> str:
    """An FTS5 query matching `text` as one phrase: with the trigram tokenizer, every substring."""
    return '"' + text.replace('"', '""') + '"'


def quote_match(session: Session, q: str, snap: Snapshot = PRESENT) -> ColumnElement[bool]:
    """Results whose quote holds `q`, case aside (any script), from the quote index when it serves.

    PostgreSQL: `ILIKE`, served by the `gin_trgm_ops` index `ix_result_quote_trgm` (it lowers by
    the database's ctype, which folds every script). SQLite: the FTS5 trigram table
    `result_quote_fts` (its tokenizer folds case for every script; one phrase of the query's
    trigrams is exactly "contains"); a query of fewer than three characters has no trigram, so it is
    tested as every case spelling of itself (`instr`, exact) on the candidates _short_candidates
    finds from indexes. On both, a text with rare trigrams
    reads only those (app/quote_index.py) and checks its candidates for the whole text. A past
    snapshot's results are revisions, not what the index holds: they are scanned."""
    r = snap.result
    if session.connection().dialect.name != "sqlite" or snap.past:
        return _pg_match(session, q, snap)
    if len(q) < TRIGRAM:
        candidates = _short_candidates(session, case_variants(q))
        return _holds(session, q) if candidates is None else and_(candidates, _holds(session, q))
    pick = sqlite_pick(session, q)
    if not pick.terms:
        return _rowid_in(fts_phrase(q))
    return and_(_rowid_in(" AND ".join(fts_phrase(term) for term in pick.terms)), _holds(session, q, r))


def _holds(session: Session, q: str, r: type[Result] = Result) -> ColumnElement[bool]:
    """The exact test of one row's quote for `q`, on no index: SQLite, by the quote index's case
    folding (`quote_fold`; an ASCII quote's is its `lower()`, in SQLite itself), a text of one or
    two characters as every case spelling of itself;
    PostgreSQL, `ILIKE` on an expression no index serves (`quote || ''`)."""
    if session.connection().dialect.name != "sqlite":
        return (col(r.quote) + "").ilike(like_pattern(q), escape="\\")
    if len(q) < TRIGRAM:
        return or_(*(func.instr(r.quote, spelling) > 0 for spelling in case_variants(q)))
    folded = func.instr(func.quote_fold(r.quote), fold(q))
    if not ascii_folds_as_lower():
        return folded > 0
    ascii_only = func.length(r.quote) == func.length(cast(r.quote, LargeBinary))  # characters = bytes
    return case((ascii_only, func.instr(func.lower(r.quote), fold(q))), else_=folded) > 0


def _short_candidates(session: Session, spellings: list[str]) -> ColumnElement[bool] | None:
    """Every result that may hold one of `spellings` (one or two characters), from indexes: where a
    spelling stands at least three characters before the quote's end, a trigram of the index starts
    with it (folded: the index's live vocabulary, read by range, gives them all); elsewhere it
    starts at the quote's last or second-to-last character (`ix_result_quote_last`,
    `ix_result_quote_second_last`; quotes shorter than three characters too). None when those
    trigrams are in more than WALK_ROWS results by the statistics: checking every row the other
    filters leave (or every row) then costs no more than so many candidates, far less beside filters."""
    rowid: ColumnElement[Any] = literal_column(f"{Result.__tablename__}.rowid")
    prefixes = {fold(spelling) for spelling in spellings}
    if sum(sqlite_starting(session, prefixes, live=False).values()) > WALK_ROWS:
        return None
    terms = sqlite_starting(session, prefixes)
    parts = _quote_end_rows(spellings)
    if terms:
        match = literal_column(QUOTE_INDEX).op("MATCH")(" OR ".join(fts_phrase(t) for t in terms))
        parts.append(select(literal_column("rowid")).select_from(table(QUOTE_INDEX)).where(match))
    return rowid.in_(union_all(*parts))


def _quote_end_rows(spellings: list[str]) -> list[Select[Any]]:
    """The rowids of results where one of `spellings` (one or two characters) may start at the
    quote's last or second-to-last character, where no trigram of the index starts
    (`ix_result_quote_last`, `ix_result_quote_second_last`)."""
    r = Result.__table__  # type: ignore[attr-defined]
    rowid: ColumnElement[Any] = literal_column(f"{Result.__tablename__}.rowid")
    second_last = func.substr(r.c.quote, literal_column("-2"), literal_column("1"))
    parts: list[Select[Any]] = [select(rowid).where(second_last.in_(sorted({s[0] for s in spellings})))]
    if len(spellings[0]) == 1:
        parts.append(select(rowid).where(func.substr(r.c.quote, literal_column("-1")).in_(spellings)))
    return parts


def _rowid_in(match: str) -> ColumnElement[bool]:
    """Results whose rowid the quote index gives for the FTS5 query `match`."""
    hits: SelectOfScalar[Any] = (
        select(literal_column("rowid"))
        .select_from(table(QUOTE_INDEX))
        .where(literal_column(QUOTE_INDEX).op("MATCH")(match))
    )
    return literal_column(f"{Result.__tablename__}.rowid").in_(hits)


def _pg_match(session: Session, q: str, snap: Snapshot, *, narrow: bool = False) -> ColumnElement[bool]:
    """`quote ILIKE '%q%'`; for a text with rare trigrams on PostgreSQL's present, the index reads
    only the `ILIKE` of its rarest pieces and the whole text is checked on an expression the index
    does not serve (`quote || ''`), so the planner cannot hand all its trigrams to the index. A text
    of one or two characters (no trigram) takes its candidates from `ix_result_quote_grams`: every
    quote that holds it holds its lowered pieces. Beside other filters that leave few rows
    (`narrow`), those rows are checked and no quote index is read."""
    quote = col(snap.result.quote)
    whole = quote.ilike(like_pattern(q), escape="\\")
    if snap.past or session.connection().dialect.name != "postgresql":
        return whole
    checked = _holds(session, q, snap.result)
    if narrow:
        return checked
    if len(q) < TRIGRAM:  # no trigram: the pieces index (qgrams) gives the candidates
        if pg_short_estimate(session, q) > FEW_MATCHES:
            return whole
        return and_(func.quote_grams(quote).op("@>")(func.quote_grams(literal(q, String))), checked)
    pick = pg_pick(session, q)
    if not pick.terms:
        return whole
    return and_(*(quote.ilike(like_pattern(piece), escape="\\") for piece in pick.terms), checked)


def filtered(f: ResultFilter, session: Session, snap: Snapshot = PRESENT) -> SelectOfScalar[Result]:
    """Results matching the filters (retracted ones only when asked for), as they stand in `snap`."""
    r = snap.result
    stmt = select(r)
    if not f.include_retracted:
        stmt = stmt.where(col(r.retracted).is_(False))
    for column, value in (
        (col(r.operation_slug), f.operation),
        (col(r.phase_slug), f.phase),
        (col(r.metric_slug), f.metric),
        (col(r.scope), f.scope),
        (col(r.qualifier), f.qualifier),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.country is not None:
        stmt = stmt.where(func.lower(r.country) == func.lower(literal(f.country)))
    if f.year is not None:
        stmt = stmt.where(col(r.as_of).between(date(f.year, 1, 1), date(f.year, 12, 31)))
    if f.date_from is not None:
        stmt = stmt.where(col(r.as_of) >= f.date_from)
    if f.date_to is not None:
        stmt = stmt.where(col(r.as_of) <= f.date_to)
    return stmt if not f.q else stmt.where(_quote_condition(session, f, f.q, snap))


def _quote_condition(session: Session, f: ResultFilter, q: str, snap: Snapshot) -> ColumnElement[bool]:
    """Which results hold `q`, by the cheapest exact way the other filters allow."""
    few = _pg_few_in_metric(session, f, snap)
    if few is not None:
        return and_(_metric_grams_hold([few]), _holds(session, q))
    if _narrow_on_postgres(session, f, snap):
        return _pg_match(session, q, snap, narrow=True)
    return quote_match(session, q, snap)


def _pg_few_in_metric(session: Session, f: ResultFilter, snap: Snapshot) -> tuple[str, ...] | None:
    """PostgreSQL's present, a metric filter: the text's rarest pieces in that metric when the
    statistics of `quote_metric_grams` put it in at most FEW_MATCHES of the metric's results (its
    rarest piece not among ANALYZE's most common elements: fewer still); else None. A text that other
    metrics' quotes hold may be rare in this one."""
    if f.q is None or f.metric is None or snap.past or session.connection().dialect.name != "postgresql":
        return None
    found = pg_metric_pieces(session, f.q, [f.metric]).get(f.metric)
    if found is None or (found.expected is not None and found.expected > FEW_MATCHES):
        return None
    return found.pieces


def _narrow_on_postgres(session: Session, f: ResultFilter, snap: Snapshot) -> bool:
    """PostgreSQL's present: whether the filters other than `q` leave at most WALK_ROWS results
    (counted, at most WALK_ROWS + 1 of them), so checking those rows beats any quote index read."""
    others = replace(f, q=None)
    if snap.past or session.connection().dialect.name != "postgresql":
        return False
    if replace(others, include_retracted=False) == ResultFilter():
        return False
    rows = filtered(others, session, snap).with_only_columns(literal(1)).limit(WALK_ROWS + 1).subquery()
    return int(session.exec(select(func.count()).select_from(rows)).one()) <= WALK_ROWS


@dataclass(frozen=True)
class Count:
    """How many results a list matches: exactly, or, `lower_bound`, at least `total`."""

    total: int
    lower_bound: bool = False


def count_results(
    *,
    session: Session,
    filters: ResultFilter,
    snap: Snapshot = PRESENT,
    limit: int = 0,
    matched: int | None = None,
) -> Count:
    """How many results match the filters (all pages). A quote search (`q`) counts at most `limit`
    matches (0: every one) and says when there are more: its exact count costs as much as its
    matches, where one page of it costs a page. `matched`: the number a page already found
    (Listing.matched), not counted again."""
    if matched is not None:
        return Count(limit, lower_bound=True) if 0 < limit < matched else Count(matched)
    if filters.q and limit > 0:
        return _bounded_count(session, filters, snap, limit)
    return Count(_exact_count(session, filters, snap))


def _exact_count(session: Session, filters: ResultFilter, snap: Snapshot) -> int:
    """Every matching result counted, from the quote index alone where it can tell."""
    index_only = _index_count(session, filters, snap)
    if index_only is not None:
        return index_only
    few = _few_in_metric_count(session, filters, snap)
    if few is not None:
        return few
    checked = _checked_count(session, filters, snap)
    if checked is not None:
        return checked
    counted = select(func.count()).select_from(filtered(filters, session, snap).subquery())
    return int(session.exec(counted).one())


def _few_in_metric_count(session: Session, filters: ResultFilter, snap: Snapshot) -> int | None:
    """SQLite, a text that the one metric filtered on holds in few rows: its candidates checked."""
    few = _one_metric_candidates(session, filters, snap)
    if few is None:
        return None
    rows = _candidate_rows(session, filters, few)
    if rows is None:
        return 0
    counted = select(func.count()).select_from(rows.subquery())
    return int(session.connection().execute(counted).scalar_one())


def _bounded_count(session: Session, filters: ResultFilter, snap: Snapshot, limit: int) -> Count:
    """At most `limit` + 1 matches counted (rows the other filters leave few of: all of them)."""
    few = _few_in_metric_count(session, filters, snap)
    if few is not None:
        return Count(few)
    checked = _checked_count(session, filters, snap)
    if checked is not None:
        return Count(checked)
    rows = _matches(session, filters, snap).limit(limit + 1).subquery()
    found = int(session.exec(select(func.count()).select_from(rows)).one())
    return Count(limit, lower_bound=True) if found > limit else Count(found)


def _matches(session: Session, filters: ResultFilter, snap: Snapshot) -> Select[Any]:
    """A row per match, in the order the quote index gives them where it streams them (SQLite's
    present, a common text: the index drives and each hit's row is checked against the other
    filters, so a LIMIT stops reading posting lists early), else in the database's own order (a
    rare text's few candidates first: driven from the other filters' rows, SQLite would run the
    index's MATCH once per row)."""
    q = filters.q
    plain = filtered(filters, session, snap).with_only_columns(literal(1))
    if q is None or snap.past or len(q) < TRIGRAM or session.connection().dialect.name != "sqlite":
        return plain
    if sqlite_pick(session, q).terms:
        return plain
    match = fts_phrase(q)
    others = filtered(replace(filters, q=None), session, snap)
    hits = table(QUOTE_INDEX, literal_column("rowid"))
    rowid: ColumnElement[Any] = literal_column(f"{Result.__tablename__}.rowid")
    stmt = (
        select(literal(1))
        .select_from(hits)
        .join(Result, rowid == hits.c.rowid)
        .where(literal_column(QUOTE_INDEX).op("MATCH")(match))
    )
    return stmt if others.whereclause is None else stmt.where(others.whereclause)


def _checked_count(session: Session, filters: ResultFilter, snap: Snapshot) -> int | None:
    """SQLite, a common text beside other filters that leave at most WALK_ROWS results: those rows
    checked one by one (`_holds`, the index's meaning) instead of reading all the text's matches
    from the index; None when this does not apply."""
    q = filters.q
    if q is None or len(q) < TRIGRAM or snap.past or session.connection().dialect.name != "sqlite":
        return None
    others = replace(filters, q=None)
    if replace(others, include_retracted=False) == ResultFilter() or sqlite_pick(session, q).terms:
        return None
    rows = filtered(others, session, snap).with_only_columns(literal(1)).limit(WALK_ROWS + 1).subquery()
    if int(session.exec(select(func.count()).select_from(rows)).one()) > WALK_ROWS:
        return None
    counted = select(func.count()).select_from(
        filtered(others, session, snap).with_only_columns(literal(1)).where(_holds(session, q)).subquery()
    )
    return int(session.exec(counted).one())


def _index_count(session: Session, filters: ResultFilter, snap: Snapshot) -> int | None:
    """SQLite, a common text and no other filter: the quote index's own count of its matches, less
    the retracted ones (read through `ix_result_retracted`), instead of reading every match's row;
    None when this does not apply."""
    q = filters.q
    if q is None or len(q) < TRIGRAM or snap.past or session.connection().dialect.name != "sqlite":
        return None
    if replace(filters, q=None, include_retracted=False) != ResultFilter() or sqlite_pick(session, q).terms:
        return None
    conn = session.connection()
    hits = f"SELECT count(*) FROM {QUOTE_INDEX} WHERE {QUOTE_INDEX} MATCH :match"
    total = int(conn.execute(text(hits), {"match": fts_phrase(q)}).scalar_one())
    if filters.include_retracted:
        return total
    retracted = (
        "SELECT count(*) FROM result INDEXED BY ix_result_retracted "
        "WHERE retracted = 1 AND instr(quote_fold(quote), :folded) > 0"
    )
    return total - int(conn.execute(text(retracted), {"folded": fold(q)}).scalar_one())


RESULT_HEAD = ("id", "operation_slug", "phase_slug", "metric_slug", "value", "unit", "number_text",
               "value_base", "base_unit", "qualifier", "scope", "country", "period_start", "period_end",
               "as_of")  # fmt: skip
SOURCE_REF = ("id", "title", "published_on", "language")
RESULT_TAIL = ("quote", "quote_start", "quote_end", "quote_prefix", "quote_suffix", "number_start",
               "number_end", "duplicate_of", "note", "retracted", "retracted_reason",
               "updated_at")  # fmt: skip


def csv_columns(snap: Snapshot = PRESENT) -> tuple[Any, ...]:
    """The columns of columns(ResultPublic) in its order (id ... source_id ... source_language ...
    updated_at), over the results and sources of `snap`."""
    r, s = snap.result, snap.source
    return (
        *(getattr(r, n) for n in RESULT_HEAD),
        *(getattr(s, n) for n in SOURCE_REF),
        *(getattr(r, n) for n in RESULT_TAIL),
    )


CSV_COLUMNS = csv_columns()

FIELDS = list(ResultPublic.model_fields)  # id ... as_of, source, quote ... retracted_reason, updated_at
SOURCE_AT = FIELDS.index("source")  # CSV_COLUMNS has the source's four columns in its place
ITEM_HEAD, ITEM_TAIL = FIELDS[:SOURCE_AT], FIELDS[SOURCE_AT + 1 : -1]
TAIL_AT = SOURCE_AT + 4
SOURCE_FIELDS = list(SourceRef.model_fields)  # id, title, published_on, language


def page_item(row: Sequence[Any]) -> dict[str, Any]:
    """A CSV_COLUMNS row as ResultPublic's JSON: what `to_public(...).model_dump(mode="json")` gives
    (same keys in the same order, `updated_at` as pydantic writes UTC), without a model per row."""
    item = dict(zip(ITEM_HEAD, row[:SOURCE_AT], strict=True))
    item["source"] = dict(zip(SOURCE_FIELDS, row[SOURCE_AT:TAIL_AT], strict=True))
    item.update(zip(ITEM_TAIL, row[TAIL_AT:-1], strict=True))
    item["updated_at"] = utc_text(row[-1])
    return item


def utc_text(stamp: datetime) -> str:
    """An aware UTC datetime as pydantic's JSON writes it (`Z`, microseconds unless zero)."""
    return stamp.isoformat().replace("+00:00", "Z")


def _row_key(session: Session, snap: Snapshot) -> Any:
    """What a page's ids subquery selects and its rows are joined back on: on SQLite the rowid (every
    index entry ends with it, so a row is one lookup in the table instead of one in the primary-key
    index and then one in the table: half the random reads of a cold page), else the id. A past
    snapshot's results (revisions) have no rowid of theirs."""
    if session.connection().dialect.name == "sqlite" and not snap.past:
        return literal_column(f"{Result.__tablename__}.rowid")
    return col(snap.result.id)


def _page_rows(session: Session, ask: Ask, snap: Snapshot) -> tuple[list[dict[str, Any]], int | None]:
    """One page in one statement: the row keys in order (from a covering index when there is one, the
    LIMIT inside the subquery), joined back to `limit` full rows and to their sources; and, when the
    statement had every match in hand (a first page sorted from few matches), how many there are.

    Sorting only (filter, sort, id) index entries and fetching `limit` full rows afterwards keeps a
    filtered, sorted page from sorting thousands of whole rows (quotes included) to keep fifty; one
    round trip instead of three (ids, rows, sources); the rows read as tuples through the session's
    connection (no ORM layer) and made JSON-ready dicts directly (no model per row)."""
    r, s = snap.result, snap.source
    filters, keys, after, limit = ask.filters, ask.keys, ask.after, ask.limit
    key = _row_key(session, snap)
    few = _one_metric_candidates(session, filters, snap)
    walked = None if few is None else _checked_candidates(session, ask, few)
    matched = len(walked) if walked is not None and after is None and len(walked) < limit else None
    if walked is None:
        walked = _walked_keys(session, ask, snap)
    if walked is None:
        walked = _by_metric(session, ask, snap)
    if walked is not None:
        stmt = (
            select(*csv_columns(snap))
            .select_from(r)
            .join(s, col(s.id) == col(r.source_id))
            .where(key.in_(walked))
            .order_by(*_order(r, keys))
            .limit(limit)
        )
        return ([page_item(row) for row in session.connection().execute(stmt)] if walked else []), matched
    page = _ordered_keys(session, filters, keys, after, snap).limit(limit).subquery("page")
    counted = "matched" in page.c
    stmt = (
        select(*csv_columns(snap), *([page.c.matched] if counted else []))
        .select_from(page)
        .join(r, key == page.c.key)
        .join(s, col(s.id) == col(r.source_id))
        .order_by(*_order(r, keys))
    )
    rows = _serially(session, stmt) if counted else session.connection().execute(stmt).all()
    if not counted:
        return [page_item(row) for row in rows], None
    return [page_item(row[:-1]) for row in rows], int(rows[0][-1]) if rows else 0


def _serially(session: Session, stmt: Select[Any]) -> Sequence[Any]:
    """The rows of a statement over a text's few candidates, on PostgreSQL without parallel workers
    (for this statement only: SET LOCAL, then back to the default). The planner's estimate of an
    array index's rare elements is far above their rows, so it starts workers, which cost more
    than the statement (bench/RESULTS-qidx.md)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return conn.execute(stmt).all()
    conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
    rows = conn.execute(stmt).all()
    conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
    return rows


def _ordered_keys(
    session: Session, filters: ResultFilter, keys: Sequence[SortKey], after: list[Any] | None, snap: Snapshot
) -> Select[Any]:
    """The matching rows' keys (`key`) after the cursor, in sort order. On the present, a text the
    index finds in few results is matched first (a MATERIALIZED CTE of the matches' sort values and
    keys) and those few are sorted, counted on a first page: given the LIMIT, PostgreSQL's planner
    would rather walk the sort order and test each row, which reads every result when the matches
    are few or come last; SQLite checked the candidates for the page and again for the total."""
    if not _few_matches(session, filters, snap):
        r = snap.result
        ids = filtered(filters, session, snap).with_only_columns(_row_key(session, snap).label("key"))
        ids = ids.select_from(r)
        return (ids if after is None else ids.where(_after(r, keys, after))).order_by(*_order(r, keys))
    sort_columns = [col(getattr(Result, name)) for name in SORT_COLUMNS]
    found = filtered(filters, session, snap).with_only_columns(
        *sort_columns, _row_key(session, snap).label("key")
    )
    cte = found.cte("matches").prefix_with("MATERIALIZED")
    matches = aliased(Result, cte, adapt_on_names=True)
    if after is None:  # a first page: the matches' number comes with it (see Listing.matched)
        ids = select(cte.c.key, func.count().over().label("matched"))
        return ids.select_from(matches).order_by(*_order(matches, keys))
    ids = select(cte.c.key).select_from(matches).where(_after(matches, keys, after))
    return ids.order_by(*_order(matches, keys))


SORT_COLUMNS = ("id", "as_of", "value_base", "value", "metric_slug", "operation_slug", "phase_slug")


def _few_matches(session: Session, filters: ResultFilter, snap: Snapshot) -> bool:
    """The present, a quote search its index finds in at most FEW_MATCHES results by the statistics:
    on SQLite a text with rare trigrams (their candidates are all checked anyway; sorted once, they
    also give the total); on PostgreSQL a piece not among ANALYZE's most common ones is taken to be
    in half as many results as the least common that is, an overestimate for most."""
    q = filters.q
    if q is None or snap.past:
        return False
    if session.connection().dialect.name == "sqlite":
        pick = sqlite_pick(session, q) if len(q) >= TRIGRAM else None
        return pick is not None and bool(pick.terms) and pick.estimate <= FEW_MATCHES
    if _pg_few_in_metric(session, filters, snap) is not None:
        return True
    if len(q) < TRIGRAM:
        return pg_short_estimate(session, q) <= FEW_MATCHES
    pick = pg_pick(session, q)
    return bool(pick.terms) and pick.estimate <= FEW_MATCHES


FEW_MATCHES = 20_000  # matches sorted whole (their sort values only) rather than the sort order walked


WALK_ROWS = 5000  # rows a common text's page or count checks one by one before it reads the index


def _walked_keys(session: Session, ask: Ask, snap: Snapshot) -> list[Any] | None:
    """SQLite, a text in many results: the page's row keys found by checking the rows in sort order
    (`_walk`) instead of reading all its matches from the index to keep `limit`; None when this does
    not apply or the rows checked did not settle the page (the sort order puts the matches later)."""
    q = ask.filters.q
    if q is None or len(q) < TRIGRAM or snap.past or session.connection().dialect.name != "sqlite":
        return None
    if not sqlite_pick(session, q).walkable:
        return None
    return _walk(session, ask, hasty=_across_metrics(ask, snap))


def _walk(session: Session, ask: Ask, *, hasty: bool = False) -> list[Any] | None:
    """SQLite's present: the first `limit` row keys in sort order of the rows the other filters leave
    that hold `q`, checking at most WALK_ROWS of them (`_holds`); None when those did not settle the
    page, or, `hasty` (a cheaper way follows), when the share of them holding `q` says WALK_ROWS will
    not. The order is read first (keys only, from an index, as it is stepped), then its rows checked
    a chunk at a time: a check beside the sort would run on every row the sort sorts, not only on
    the rows it keeps."""
    q, keys, limit = ask.text, ask.keys, ask.limit
    walk = filtered(replace(ask.filters, q=None), session).with_only_columns(_row_key(session, PRESENT))
    walk = walk.select_from(Result)
    if ask.after is not None:
        walk = walk.where(_after(Result, keys, ask.after))
    conn = session.connection()
    ordered = conn.execute(walk.order_by(*_order(Result, keys)).limit(WALK_ROWS))
    found: list[Any] = []
    seen, size = 0, 2 * limit
    try:
        while chunk := [row[0] for row in ordered.fetchmany(size)]:
            held = set(conn.execute(_holding(session, chunk, q)).scalars())
            found += [row_key for row_key in chunk if row_key in held]
            seen, size = seen + len(chunk), WALK_CHUNK
            if len(found) >= limit:
                return found[:limit]
            if hasty and len(found) * WALK_ROWS < limit * seen:  # at this rate WALK_ROWS will not do
                return None
    finally:
        ordered.close()
    return found if seen < WALK_ROWS else None


WALK_CHUNK = 500  # rows of a walk checked at once: a page of a common text is mostly settled by the first


def _holding(session: Session, row_keys: list[Any], q: str) -> Select[Any]:
    """Which of these rows (rowids) hold `q` (`_holds`)."""
    rowid: ColumnElement[Any] = literal_column(f"{Result.__tablename__}.rowid")
    return select(rowid).select_from(Result).where(rowid.in_(row_keys), _holds(session, q))


FEW_IN_METRIC = 50  # a metric's candidates read and sorted whole up to here; above, its order walked


def _by_metric(session: Session, ask: Ask, snap: Snapshot) -> list[Any] | None:
    """A text in many results sorted by value with no metric filter: the page's row keys, metric by
    metric. Every metric's base unit stands in that order (tons of opium as kg before cases), so a
    text that one metric's quotes hold has its matches after every row of the metrics before it,
    and neither walking the order nor sorting every match settles a page fast. The quote index by
    metric (qmetric) says which metrics hold the text in many rows: their own order is walked
    (`ix_result_metric_value_base`); the other metrics' few candidates are read and checked; the
    page is the first `limit` of both. None when this does not apply (a rare text's candidates are
    few in all: the plain search sorts them)."""
    if not _across_metrics(ask, snap):
        return None
    if session.connection().dialect.name == "sqlite":
        return _sqlite_by_metric(session, ask)
    return _pg_by_metric(session, ask)


def _across_metrics(ask: Ask, snap: Snapshot) -> bool:
    """A search of the present sorted by value with no metric filter: served metric by metric."""
    f = ask.filters
    return f.q is not None and not snap.past and f.metric is None and ask.keys[0].name == "value_base"


def _sqlite_by_metric(session: Session, ask: Ask) -> list[Any] | None:
    """SQLite: each metric's hits of the text's rarest trigram (a short text: of every trigram
    starting with it) in its range of `result_quote_by_metric`, at most FEW_IN_METRIC + 1 of them;
    a metric with more is walked, the others' hits (and a walk that did not settle: all of that
    metric's hits of the text) are candidates, checked. Every key found holds the text and the
    true page is among them: the page's statement sorts them and keeps `limit`."""
    probe, whole = _metric_matches(session, ask.text)
    if probe is None or whole is None:
        return None
    walked: list[Any] = []
    candidates: list[int] = []
    for (slug, low), hits in _few_hits(session, probe, whole).items():
        found = None
        if len(hits) > FEW_IN_METRIC:
            found = _walk(session, ask.with_filters(metric=slug))
        if found is not None:
            walked += found
        elif len(hits) > FEW_IN_METRIC:  # the walk did not settle: every match of this metric
            candidates += _metric_hits(session, whole, None, {slug: low})[slug, low]
        else:
            candidates += hits
    return walked + _checked_candidates(session, ask, candidates)


def _checked_candidates(session: Session, ask: Ask, candidates: list[int]) -> list[Any]:
    """SQLite: the first `limit` rowids in sort order of these candidates that hold the text."""
    stmt = _candidate_rows(session, ask.filters, candidates)
    if stmt is None:
        return []
    if ask.after is not None:
        stmt = stmt.where(_after(Result, ask.keys, ask.after))
    stmt = stmt.order_by(*_order(Result, ask.keys)).limit(ask.limit)
    return list(session.connection().execute(stmt).scalars())


def _candidate_rows(session: Session, filters: ResultFilter, candidates: list[int]) -> Select[Any] | None:
    """SQLite: the rowids of these candidates (and, for a short text, of the quotes ending where no
    trigram starts) that hold the text and pass the other filters; None when there are none. One
    list of rowids, so the statement is driven by it (an OR of two sets, or an empty one, had the
    planner check every row the other filters leave)."""
    assert filters.q is not None
    if len(filters.q) < TRIGRAM:
        ends = session.connection().execute(union_all(*_quote_end_rows(case_variants(filters.q))))
        candidates = sorted({*candidates, *ends.scalars()})
    if not candidates:
        return None
    rowid: ColumnElement[Any] = literal_column(f"{Result.__tablename__}.rowid")
    stmt = filtered(replace(filters, q=None), session).with_only_columns(rowid).select_from(Result)
    return stmt.where(rowid.in_(candidates), _holds(session, filters.q))


def _one_metric_candidates(session: Session, filters: ResultFilter, snap: Snapshot) -> list[int] | None:
    """SQLite's present, a text in many results and a metric filter: the metric's hits of the text's
    rarest trigram (a short text: of every trigram starting with it) in the quote index by metric,
    when there are at most FEW_IN_METRIC (every match is among them, or among the quotes ending in a
    short text); else None. A text that other metrics' quotes hold may be rare in this one."""
    q, metric = filters.q, filters.metric
    if q is None or metric is None or snap.past or session.connection().dialect.name != "sqlite":
        return None
    probe, whole = _metric_matches(session, q)
    if probe is None or whole is None:
        return None
    span = {"span": METRIC_SPAN, "slug": metric}
    low = (
        session.connection()
        .execute(text("SELECT rowid * :span FROM metric WHERE slug = :slug"), span)
        .scalar()
    )
    if low is None:
        return None
    hits = _few_hits(session, probe, whole, {metric: int(low)})[metric, int(low)]
    return hits if len(hits) <= FEW_IN_METRIC else None


def _metric_matches(session: Session, q: str) -> tuple[str | None, str | None]:
    """The FTS5 queries that give a text's candidates in one metric: few (the rarest trigram) and
    exact (the phrase). A short text's both are every trigram that starts with it (the index's live
    vocabulary, read by range), None when there are more than WALK_ROWS of those by the statistics
    or when the plain search finds few candidates."""
    if len(q) >= TRIGRAM:
        if sqlite_pick(session, q).terms:
            return None, None
        rarest = sqlite_rarest(session, q)
        return (None if rarest is None else fts_phrase(rarest)), fts_phrase(q)
    prefixes = {fold(spelling) for spelling in case_variants(q)}
    if sum(sqlite_starting(session, prefixes, live=False).values()) <= WALK_ROWS:
        return None, None
    terms = sqlite_starting(session, prefixes)
    if not terms:  # the statistics are behind the index: the plain search is exact
        return None, None
    match = " OR ".join(fts_phrase(term) for term in terms)
    return match, match


def _metrics_with_results() -> Select[Any]:
    """The slugs of the metrics that have results (one index seek each)."""
    held = select(literal(1)).select_from(Result).where(col(Result.metric_slug) == col(Metric.slug))
    stmt: Select[Any] = select(col(Metric.slug)).where(held.exists()).order_by(col(Metric.slug))
    return stmt


def _metric_hits(
    session: Session, match: str, limit: int | None, metrics: dict[str, int] | None = None
) -> dict[tuple[str, int], list[int]]:
    """Each metric's (slug, start of its range) result rowids that the quote index by metric gives
    for `match` (at most `limit` a metric), in one statement: every metric's range read apart."""
    conn = session.connection()
    if metrics is None:
        metrics = dict(
            conn.execute(text("SELECT slug, rowid * :span FROM metric"), {"span": METRIC_SPAN}).all()
        )
    bound = "" if limit is None else " LIMIT :limit"
    parts = [
        f"SELECT {i} AS metric, rowid - :low_{i} AS hit FROM (SELECT rowid FROM {METRIC_INDEX} "
        f"WHERE {METRIC_INDEX} MATCH :match AND rowid BETWEEN :low_{i} AND :low_{i} + :last{bound})"
        for i in range(len(metrics))
    ]
    params: dict[str, Any] = {"match": match, "last": METRIC_SPAN - 1, "limit": limit}
    params |= {f"low_{i}": low for i, low in enumerate(metrics.values())}
    named = list(metrics.items())
    out: dict[tuple[str, int], list[int]] = {entry: [] for entry in named}
    for i, hit in conn.execute(text(" UNION ALL ".join(parts)), params).all() if parts else []:
        out[named[i]].append(int(hit))
    return out


def _few_hits(
    session: Session, probe: str, whole: str, metrics: dict[str, int] | None = None
) -> dict[tuple[str, int], list[int]]:
    """Each metric's hits of the text, at most FEW_IN_METRIC + 1: of its rarest trigram (`probe`,
    whatever the other trigrams, a read that the limit bounds), and where that is in more rows, of
    the whole text (the rarest trigram of all results may be common in one metric)."""
    hits = _metric_hits(session, probe, FEW_IN_METRIC + 1, metrics)
    many = {slug: low for (slug, low), found in hits.items() if len(found) > FEW_IN_METRIC}
    if many and whole != probe:
        hits |= _metric_hits(session, whole, FEW_IN_METRIC + 1, many)
    return hits


def _pg_by_metric(session: Session, ask: Ask) -> list[Any] | None:
    """PostgreSQL: the results of each metric expected to hold the text, by the statistics of
    `quote_metric_grams` (ANALYZE); a metric expected in more than FEW_IN_METRIC is walked in its
    order, the others' candidates read from `ix_result_quote_metric_grams` (few: their pieces are
    not among the most common) in one statement."""
    if _few_matches(session, ask.filters, PRESENT):
        return None
    conn = session.connection()
    metrics = list(conn.execute(_metrics_with_results()).scalars())
    pieces = pg_metric_pieces(session, ask.text, metrics)
    if not pieces:
        return None
    walked: list[Any] = []
    read: list[tuple[str, ...]] = []
    for slug, found in pieces.items():
        if found.expected is None or found.expected <= FEW_IN_METRIC:
            read.append(found.pieces)
            continue
        keys_found = _pg_walk(session, ask.with_filters(metric=slug))
        if keys_found is None:
            read.append(found.pieces)
        else:
            walked += keys_found
    return walked + (_pg_candidates(session, ask, read) if read else [])


def _pg_walk(session: Session, ask: Ask) -> list[Any] | None:
    """PostgreSQL: the first `limit` ids in sort order of the rows the other filters leave that hold
    `q`, of the first WALK_ROWS of them; None when those did not settle the page. One statement: the rows
    in order (LIMIT WALK_ROWS), then the check, which stops the walk once `limit` hold the text (a
    filter over the ordered subquery keeps its order; the page sorts them again)."""
    rows = filtered(replace(ask.filters, q=None), session).with_only_columns(
        col(Result.id), col(Result.quote)
    )
    if ask.after is not None:
        rows = rows.where(_after(Result, ask.keys, ask.after))
    walk = rows.order_by(*_order(Result, ask.keys)).limit(WALK_ROWS).subquery("walk")
    holds = walk.c.quote.ilike(like_pattern(ask.text), escape="\\")
    found = list(session.connection().execute(select(walk.c.id).where(holds).limit(ask.limit)).scalars())
    if len(found) >= ask.limit:
        return found
    there = select(func.count()).select_from(rows.with_only_columns(literal(1)).limit(WALK_ROWS).subquery())
    return found if int(session.connection().execute(there).scalar_one()) < WALK_ROWS else None


def _metric_grams_hold(read: list[tuple[str, ...]]) -> ColumnElement[bool]:
    """The results holding the rarest piece of one of these metrics (`quote_metric_grams` of a row
    has its own metric's pieces only): one read of `ix_result_quote_metric_grams` for them all."""
    grams = func.quote_metric_grams(col(Result.metric_slug), col(Result.quote))
    return grams.op("&&")(literal(sorted({pieces[0] for pieces in read}), ARRAY(Text)))


def _pg_candidates(session: Session, ask: Ask, read: list[tuple[str, ...]]) -> list[Any]:
    """PostgreSQL: the first `limit` ids in sort order of the results holding `q` among the
    candidates of these metrics (`_metric_grams_hold`), matched first in a MATERIALIZED CTE of their
    sort values and sorted: given the LIMIT, the planner would rather walk the order and test every
    row."""
    found = filtered(replace(ask.filters, q=None), session)
    found = found.where(_metric_grams_hold(read), _holds(session, ask.text))
    if ask.after is not None:
        found = found.where(_after(Result, ask.keys, ask.after))
    sort_columns = [col(getattr(Result, name)) for name in SORT_COLUMNS]
    cte = found.with_only_columns(*sort_columns).cte("metric_matches").prefix_with("MATERIALIZED")
    matches = aliased(Result, cte, adapt_on_names=True)
    stmt = select(col(matches.id)).select_from(matches).order_by(*_order(matches, ask.keys)).limit(ask.limit)
    return [row[0] for row in _serially(session, stmt)]


@dataclass(frozen=True)
class Listing:
    """One page of results, the cursor of the next (None on the last) and, when the page's statement
    had every match in hand, how many results match (`matched`; else None: count_results counts)."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    matched: int | None = None


def list_page(
    *,
    session: Session,
    filters: ResultFilter,
    sort: Sequence[SortKey],
    limit: int,
    cursor: str | None,
    snap: Snapshot = PRESENT,
) -> Listing:
    """One page of results (ResultPublic's JSON) in the sort order, with the next page's cursor."""
    after = decode_cursor(cursor, sort) if cursor else None
    items, matched = _page_rows(session, Ask(filters, sort, after, limit + 1), snap)
    more = len(items) > limit
    items = items[:limit]
    return Listing(items, encode_cursor(sort, items[-1]) if more else None, matched)


def _csv_columns(dialect: str, snap: Snapshot) -> list[Any]:
    """CSV_COLUMNS as the cells the CSV writes, made by the database: text neutralised (a leading
    `'` before FORMULA_STARTS), `retracted` as true/false, `updated_at` as ISO 8601 UTC with Z
    (microseconds unless zero) and, on SQLite, the stored date texts as they are; so no row needs
    a Python conversion."""
    r, s = snap.result, snap.source
    out: list[Any] = []
    for c in csv_columns(snap):
        if isinstance(getattr(c.type, "impl", c.type), String):  # text (sqlmodel's AutoString too)
            out.append(_neutralised(c, dialect))
        elif c is r.retracted:
            out.append(case((col(r.retracted), "true"), else_="false"))
        elif c is r.updated_at:
            out.append(_iso_utc(dialect, r))
        elif dialect == "sqlite" and (c is r.as_of or c is s.published_on):
            out.append(type_coerce(c, String))  # stored as YYYY-MM-DD: the text is the cell
        else:
            out.append(c)
    return out


FORMULA_CODES = sorted(ord(c) for c in FORMULA_STARTS)


def _neutralised(text: Any, dialect: str) -> ColumnElement[str]:
    """A text column with a leading `'` when it starts as a spreadsheet formula would (the code of
    its first character: SQLite's unicode(), PostgreSQL's ascii(); NULL or 0 for no character)."""
    first = func.ascii(text) if dialect == "postgresql" else func.unicode(text)
    return case((first.in_(FORMULA_CODES), literal("'", String) + text), else_=text)


def _iso_utc(dialect: str, r: type[Result]) -> ColumnElement[str]:
    """`updated_at` as `datetime.isoformat()` of UTC writes it, with Z for +00:00."""
    stamp = col(r.updated_at)
    if dialect == "postgresql":
        utc = func.timezone("UTC", stamp)
        fraction = case(
            (func.extract("microseconds", utc) % 1_000_000 == 0, ""), else_=func.to_char(utc, ".US")
        )
        return func.concat(func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS'), fraction, "Z")
    text = type_coerce(stamp, String)  # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'
    seconds = func.substr(text, 1, 10) + "T" + func.substr(text, 12, 8)
    return case(
        (func.substr(text, 21) == "000000", seconds + "Z"), else_=seconds + func.substr(text, 20) + "Z"
    )


def iter_result_cells(
    *,
    session: Session,
    filters: ResultFilter,
    sort: Sequence[SortKey],
    batch: int = BATCH_ROWS,
    snap: Snapshot = PRESENT,
) -> Neutralised:
    """Every matching result as CSV cells in `columns(ResultPublic)` order, in one streamed query.

    One query (one consistent snapshot, run when the stream starts) of the cells as the database
    writes them (`_csv_columns`), no models, no Python per cell, `batch` rows at a time. On SQLite the
    driver's own tuples (a Row per row cost ~15% of a million-row stream; no column here has a
    result processor to skip: floats, integers and text, dates as the ISO text they are stored as)."""

    def batches() -> Iterator[Sequence[Sequence[Any]]]:
        conn = session.connection()
        dialect = conn.dialect.name
        stmt = (
            filtered(filters, session, snap)
            .with_only_columns(*_csv_columns(dialect, snap))
            .join(snap.source, _source_join(dialect, snap))
        )
        stmt = stmt.order_by(*_order(snap.result, sort))
        if dialect != "sqlite":  # a server-side cursor (SQLAlchemy reads ahead of it: its Rows)
            yield from conn.execute(stmt.execution_options(yield_per=batch)).partitions()
            return
        result = conn.execute(stmt)  # pysqlite steps the statement as rows are fetched: no read-ahead
        try:
            while rows := result.cursor.fetchmany(batch):
                yield rows
        finally:
            result.close()

    return Neutralised(batches())


def _source_join(dialect: str, snap: Snapshot) -> ColumnElement[bool]:
    """The results' join to their sources. On SQLite `+ 0` on the results' side keeps the planner
    from reading them source by source through ix_result_source_id and sorting them all: it reads
    them in the order asked (all of them by id: the primary key's index, no sort; at 1M rows
    238,000 → 366,000 rows/s of the bare query) and looks each source up by its key."""
    key = col(snap.result.source_id)
    return col(snap.source.id) == (key + 0 if dialect == "sqlite" else key)


def source_ref_map(*, session: Session, ids: set[int], snap: Snapshot = PRESENT) -> dict[int, SourceRef]:
    """Source references by id, fetched in one query."""
    if not ids:
        return {}
    s = Source  # the table itself, a past snapshot's rows by their creation (no alias to build)
    stmt = select(col(s.id), col(s.title), col(s.published_on), col(s.language)).where(col(s.id).in_(ids))
    rows = session.exec(stmt.where(created_by(Source, snap.at)) if snap.at is not None else stmt).all()
    return {i or 0: SourceRef(id=i or 0, title=t, published_on=p, language=lang) for i, t, p, lang in rows}


def resolve_operation_param(*, session: Session, operation: str | None) -> str | None:
    """The slug an `operation` query parameter names (slug or alias); 422 listing the valid ones."""
    if operation is None:
        return None
    op = resolve_operation(session=session, key=operation)
    if op is None:
        slugs = operation_slugs(session=session)
        raise BadParameter(
            "operation",
            f"Unknown operation {operation!r}. Valid operations: {', '.join(slugs)} (or their aliases).",
            valid_operations=slugs,
        )
    return op.slug


def resolve_metric(*, session: Session, metric: str) -> Metric:
    """The metric a `metric` query parameter names; 422 listing the valid slugs."""
    found = session.get(Metric, metric.strip().lower())
    if found is None:
        slugs = list(session.exec(select(Metric.slug).order_by(col(Metric.slug))))
        raise BadParameter("metric", f"Unknown metric {metric!r}. See /api/v1/metrics.", valid_metrics=slugs)
    return found


def resolve_phase(*, session: Session, phase: str | None, snap: Snapshot = PRESENT) -> str | None:
    """The slug a `phase` query parameter names; 422 when there is no such phase (in `snap`)."""
    if phase is None:
        return None
    p = snap.phase
    found = session.exec(select(col(p.slug)).where(col(p.slug) == phase.strip().lower())).first()
    if found is None:
        raise bad("phase", f"Unknown phase {phase!r}. See /api/v1/phases.")
    return found


def result_filter(
    *,
    session: Session,
    operation: str | None = None,
    phase: str | None = None,
    metric: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    snap: Snapshot = PRESENT,
    **plain: Any,
) -> ResultFilter:
    """The filters of a results query, with operation, phase and metric resolved (422 when unknown)."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise bad("to", f"'to' ({date_to}) is before 'from' ({date_from}).")
    return ResultFilter(
        operation=resolve_operation_param(session=session, operation=operation),
        phase=resolve_phase(session=session, phase=phase, snap=snap),
        metric=resolve_metric(session=session, metric=metric).slug if metric is not None else None,
        date_from=date_from,
        date_to=date_to,
        **plain,
    )


def to_public(result: Result, source: SourceRef) -> ResultPublic:
    """The public shape of a result."""
    return ResultPublic(
        id=result.id,
        operation=result.operation_slug,
        phase=result.phase_slug,
        metric=result.metric_slug,
        value=result.value,
        unit=result.unit,
        number_text=result.number_text,
        value_base=result.value_base,
        base_unit=result.base_unit,
        qualifier=Qualifier(result.qualifier),
        scope=Scope(result.scope),
        country=result.country,
        period_start=result.period_start,
        period_end=result.period_end,
        as_of=result.as_of,
        source=source,
        quote=result.quote,
        quote_start=result.quote_start,
        quote_end=result.quote_end,
        quote_prefix=result.quote_prefix,
        quote_suffix=result.quote_suffix,
        number_start=result.number_start,
        number_end=result.number_end,
        duplicate_of=result.duplicate_of,
        note=result.note,
        retracted=result.retracted,
        retracted_reason=result.retracted_reason,
        updated_at=result.updated_at,
    )


def find_result(*, session: Session, result_id: str, snap: Snapshot = PRESENT) -> Result:
    """One result by id, retracted or not, or NotFound. A past one is a Result of its revision's
    values outside the session (its identity map holds the current one)."""
    row = session.get(Result, result_id) if not snap.past else past_result(session, result_id, snap)
    if row is None:
        raise NotFound(f"No result {result_id!r}.", code="result-not-found")
    return row


def past_results(session: Session, snap: Snapshot, *where: ColumnElement[bool]) -> list[Result]:
    """The results of a past snapshot matching `where`, as Results outside the session: loaded as
    entities they would be the session's current ones (its identity map), not the revisions."""
    r = snap.result
    stmt = select(*(getattr(r, c) for c in RESULT_COLUMNS)).where(*where)
    return [Result(**row._mapping) for row in session.connection().execute(stmt)]


def past_result(session: Session, result_id: str, snap: Snapshot) -> Result | None:
    """One result as it stood in a past snapshot, or None: its valid revision read from the table
    by `result_id` (no alias of the snapshot to build for one row)."""
    assert snap.at is not None
    stmt = revisions_at(snap.at).where(REVISION.c.result_id == result_id)
    row = session.connection().execute(stmt).first()
    return Result(**row._mapping) if row is not None else None
