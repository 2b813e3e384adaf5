"""Query plans of a results page: the indexes bench/README.md writes down are the ones used.

SQLite plans from its statistics (`sqlite_stat1`), which only ANALYZE writes: `prepare_database`
runs a bounded one (app/db.py). These tests put in the statistics a full ANALYZE wrote for the
1M-result benchmark database (`bench/make_million.py`) and read the plan of the statement a page
really runs, so an index or a statement change that sends a page back to a long walk fails here.
"""

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import make_engine
from app.models import Result
from app.read.results import ResultFilter, count_results, iter_result_cells, list_page, parse_sort
from app.seeds.prepare import prepare_database

pytestmark = pytest.mark.slow

# what `ANALYZE result` wrote at 1,000,028 results (bench/make_million.py, 4 operations, 26 metrics)
STAT1_AT_1M = {
    "ix_result_metric_value_base": "1000028 45456 45456 36 1 1 1",
    "ix_result_phase_metric": "1000028 1040 259 259 259 259",
    "ix_result_duplicate_of": "1000028 500014",
    "ix_result_metric_as_of": "1000028 45456 8265 8265 2 2 1",
    "ix_result_operation_metric_as_of": "1000028 200006 28573 2446 2446 2 2 1",
    "ix_result_value_base_id": "1000028 46 1",
    "ix_result_totals": "1000028 200006 28573 27028 27028",
    "ix_result_source_id": "1000028 1989",
    "ix_result_phase_slug": "1000028 1040",
    "ix_result_metric_slug": "1000028 45456",
    "ix_result_country": "1000028 333343",
    "ix_result_as_of_id": "1000028 37039 1",
    "sqlite_autoindex_result_1": "1000028 1",
}
ONE_YEAR = ResultFilter(operation="channel", metric="opium_seized", year=2015)


@pytest.fixture
def sqlite_engine(fresh_db) -> Iterator[Engine]:
    """A migrated, seeded SQLite database."""
    prepare_database(fresh_db.url)
    engine = make_engine(fresh_db.url)
    yield engine
    engine.dispose()


def with_statistics(engine: Engine, rows: dict[str, str] | None) -> Engine:
    """The engine after its statistics for `result` are replaced by `rows` (None: no statistics)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'result'"))
        for index, stat in (rows or {}).items():
            conn.execute(
                text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('result', :i, :s)"),
                {"i": index, "s": stat},
            )
    engine.dispose()  # statistics are read when a connection loads the schema
    return engine


def page_plan(engine: Engine, filters: ResultFilter, sort: str, *, csv: bool = False) -> list[str]:
    """EXPLAIN QUERY PLAN of the statements one page runs (the page, then its exact count); `csv`:
    of the one statement the CSV of every matching result streams from."""
    statements: list[tuple[str, object]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with Session(engine) as session:
            if csv:
                next(iter(iter_result_cells(session=session, filters=filters, sort=parse_sort(sort)).batches))
            else:
                list_page(session=session, filters=filters, sort=parse_sort(sort), limit=100, cursor=None)
                count_results(session=session, filters=filters)
            conn = session.connection()
            return [
                str(row[3])
                for statement, parameters in list(statements)
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_prepare_database_gives_sqlite_statistics(sqlite_engine):
    with sqlite_engine.connect() as conn:
        indexes = {row[0] for row in conn.execute(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'result'"))}
    assert "ix_result_operation_metric_as_of" in indexes


@pytest.mark.parametrize("sort", ["value_base", "-value_base", "as_of", "-as_of", "value", "id"])
def test_a_one_year_page_reads_that_year_only(sqlite_engine, sort):
    """operation + metric + year, any sort: the ids and the count come from the (operation, metric,
    as_of) covering index, and each of the page's rows is one rowid lookup."""
    plan = page_plan(with_statistics(sqlite_engine, STAT1_AT_1M), ONE_YEAR, sort)
    year_range = (
        "COVERING INDEX ix_result_operation_metric_as_of"
        " (operation_slug=? AND metric_slug=? AND as_of>? AND as_of<?)"
    )
    assert sum(year_range in step for step in plan) == 2, plan  # the page's ids and its count
    assert any(step.startswith("SEARCH result USING INTEGER PRIMARY KEY (rowid=?)") for step in plan), plan
    assert not any("sqlite_autoindex_result_1" in step for step in plan), plan


def test_the_csv_of_every_result_streams_in_id_order_without_a_sort(sqlite_engine):
    """All results by id: read along the primary key's index, each source looked up by its key; not
    source by source through ix_result_source_id into a sort of them all (at 1M: 238,000 rows/s
    of the bare query, against 366,000)."""
    plan = page_plan(with_statistics(sqlite_engine, STAT1_AT_1M), ResultFilter(), "id", csv=True)
    assert plan == [
        "SCAN result USING INDEX sqlite_autoindex_result_1",
        "SEARCH source USING INTEGER PRIMARY KEY (rowid=?)",
    ], plan


def test_without_statistics_sqlite_walks_the_whole_metric(sqlite_engine):
    """Why prepare_database runs ANALYZE: with none, an ascending value sort walks the metric's value
    index (1M results: ~10,000 entries for 100 rows of one year) instead of the year's range."""
    plan = page_plan(with_statistics(sqlite_engine, None), ONE_YEAR, "value_base")
    assert any("ix_result_metric_value_base" in step for step in plan), plan


def test_statistics_are_refreshed_not_frozen(sqlite_engine):
    """prepare_database on a database with statistics writes them afresh (a bounded ANALYZE)."""
    with_statistics(sqlite_engine, {"ix_result_as_of_id": "1 1 1"})
    prepare_database(str(sqlite_engine.url))
    with sqlite_engine.connect() as conn:
        stat = conn.execute(
            text("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_result_as_of_id'")
        ).scalar_one()
    assert stat != "1 1 1"


@pytest.mark.parametrize("sort", ["id", "-value_base", "as_of"])
@pytest.mark.parametrize("filters", [ResultFilter(q="Officers SEIZED"), replace(ONE_YEAR, q="more than")])
def test_a_quote_search_reads_the_trigram_index(sqlite_engine, filters, sort):
    """q= (three characters or more), alone or beside other filters: the quote's FTS5 trigram index
    gives the matching rows for the page and its count; no scan of every quote."""
    plan = page_plan(with_statistics(sqlite_engine, STAT1_AT_1M), filters, sort)
    assert sum("SCAN result_quote_fts VIRTUAL TABLE INDEX" in step for step in plan) == 2, plan
    assert not any(step.startswith("SCAN result") and "fts" not in step for step in plan), plan


def pg_filler(session: Session, rows: int) -> None:
    """`rows` more results (copies of a seeded one with their own quotes), then ANALYZE: the planner
    prices a search of a table that is not tiny."""
    columns = [c.name for c in Result.__table__.columns]  # type: ignore[attr-defined]
    made = {"id": "'filler-' || g", "quote": "'filler quote number ' || g || ' of officers'"}
    values = ", ".join(made.get(c, c) for c in columns)
    session.connection().exec_driver_sql(
        f"INSERT INTO result ({', '.join(columns)}) SELECT {values} "
        f"FROM (SELECT * FROM result ORDER BY id LIMIT 1) AS r, generate_series(1, {rows}) AS g"
    )
    session.connection().exec_driver_sql("ANALYZE result")


@pytest.mark.parametrize("fresh_db", ["postgres"], indirect=True)
@pytest.mark.parametrize(
    ("filters", "sort"),
    [
        (ResultFilter(q="ОПИЙ"), "-value_base"),
        (ResultFilter(q="Number 123 OF"), "id"),
        (ResultFilter(q="r 7 o"), "as_of"),
    ],
)
def test_postgres_serves_a_quote_search_from_its_trigram_index(fresh_db, filters, sort):
    """The page and the count of a selective q= read ix_result_quote_trgm (GIN, gin_trgm_ops), not
    every quote: on 20,000 results, analyzed, as the planner sees a real table."""
    prepare_database(fresh_db.url)
    engine = make_engine(fresh_db.url)
    statements: list[tuple[str, object]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    try:
        with Session(engine) as session:
            pg_filler(session, 20_000)
            event.listen(engine, "before_cursor_execute", seen)
            list_page(session=session, filters=filters, sort=parse_sort(sort), limit=50, cursor=None)
            count_results(session=session, filters=filters)
            event.remove(engine, "before_cursor_execute", seen)
            plans = [
                "\n".join(str(r[0]) for r in session.connection().exec_driver_sql(f"EXPLAIN {st}", params))
                for st, params in statements
                if "ILIKE" in st  # not the look-up of the trigram statistics
            ]
    finally:
        engine.dispose()
    assert len(plans) == 2 and all("ix_result_quote_trgm" in plan for plan in plans), plans
