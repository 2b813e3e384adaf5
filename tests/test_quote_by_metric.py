"""Searches sorted by value across every metric, served metric by metric (the quote index by metric,
qmetric): the pages by cursor are the order read whole, whichever metrics are walked or read, and
the index by metric keeps up with every write on SQLite."""

from dataclasses import replace
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app import quote_index
from app.models import Result
from app.quote_index import METRIC_INDEX, METRIC_SPAN, fill_sqlite_statistics
from app.read import results
from app.read.results import ResultFilter, _order, count_results, filtered, list_page, parse_sort
from tests.factories import retract

METRICS = ["heroin_seized", "opium_seized", "criminal_cases_opened", "firearms_seized"]
TEXTS = ["heroin", "ГЕРОИН", "of_", "kg", "Ж", "no such words"]
COMMON_ON_SQLITE = ("heroin", "ГЕРОИН", "of_", "kg")  # the rest: no trigram in the index, few candidates
SORTS = ["-value_base", "value_base,-id", "-value_base,-as_of", "id"]


def add_results(session: Session) -> None:
    """Results of four metrics whose values interleave, quotes by metric (heroin's hold `heroin`
    and `kg`, a few others `ГЕРОИН`, cases every trigram of both but not the texts), one
    retracted; statistics made afresh on both engines."""
    base = session.exec(select(Result).order_by(col(Result.id))).first()
    assert base is not None
    for i in range(48):
        metric = METRICS[i % 4]
        quote = {
            "heroin_seized": f"seized {i} kg of heroin",
            "opium_seized": f"seized {i} t of opium" + (" ГЕРОИН" if i % 12 == 1 else ""),
            "criminal_cases_opened": f"{i} cases of_x Ж" if i % 8 == 2 else f"{i} cases heroi roin геро роин",
            "firearms_seized": f"{i} firearms" + (" Heroin kg" if i == 47 else ""),
        }[metric]
        row = {**base.model_dump(), "id": f"bym-{i:02}", "metric_slug": metric, "quote": quote}
        session.add(Result.model_validate({**row, "value_base": float((i * 7) % 13)}))
    session.flush()
    retract(session, "bym-04")
    if session.connection().dialect.name == "sqlite":
        fill_sqlite_statistics(session.connection())
    else:
        session.connection().exec_driver_sql("ANALYZE result")


OTHERS: tuple[dict[str, Any], ...] = (
    {},
    {"include_retracted": True},
    {"metric": "opium_seized"},  # holds ГЕРОИН in few rows: its candidates
    {"metric": "heroin_seized", "include_retracted": True},  # holds heroin in every row: walked
)


def counted(session: Session, filters: ResultFilter, sort: str) -> int:
    """The total of the first page's answer: what the page found, or counted (exactly: below 1000)."""
    listing = list_page(session=session, filters=filters, sort=parse_sort(sort), limit=3, cursor=None)
    total = count_results(session=session, filters=filters, limit=1000, matched=listing.matched)
    assert not total.lower_bound
    return total.total


def whole_order(session: Session, filters: ResultFilter, sort: str) -> list[str]:
    """Every match in sort order, read at once: the other filters' rows whose quote, lowered, holds
    the text lowered (what both engines' case folding gives for these texts), no index, no page."""
    assert filters.q is not None
    rows = session.exec(filtered(replace(filters, q=None), session)).all()
    held = [row.id for row in rows if filters.q.lower() in row.quote.lower()]
    stmt = select(col(Result.id)).where(col(Result.id).in_(held))
    return list(session.exec(stmt.order_by(*_order(Result, parse_sort(sort)))).all())


def paged(session: Session, filters: ResultFilter, sort: str) -> list[str]:
    """Every match by cursor, three a page."""
    seen: list[str] = []
    cursor = None
    while True:
        listing = list_page(session=session, filters=filters, sort=parse_sort(sort), limit=3, cursor=cursor)
        seen += [item["id"] for item in listing.items]
        if listing.next_cursor is None:
            return seen
        cursor = listing.next_cursor


@pytest.mark.parametrize("few", [0, 10**6])
def test_pages_by_metric_equal_the_order_read_whole(session, monkeypatch, few):
    """Every metric walked in its own order (given up after four rows when that does not settle the
    page: its candidates read instead) or every metric's candidates read (`few`): the pages are
    the order read whole and the totals its length, for texts of every kind, sorts by value and
    other filters; with a metric filter, that metric's few candidates (SQLite) or the plain search."""
    add_results(session)
    for name, value in (("COMMON_FLOOR", 0), ("COMMON_SHARE", 0.0), ("PG_MIN_ROWS", 0)):
        monkeypatch.setattr(quote_index, name, value)
    monkeypatch.setattr(results, "FEW_IN_METRIC", few)
    monkeypatch.setattr(results, "WALK_ROWS", 4)
    monkeypatch.setattr(results, "FEW_MATCHES", -1)
    served: list[Any] = []
    by_metric = results._by_metric
    monkeypatch.setattr(results, "_by_metric", lambda *a: served.append(found := by_metric(*a)) or found)
    postgres = session.connection().dialect.name == "postgresql"
    operation = session.get(Result, "bym-00").operation_slug  # type: ignore[union-attr]
    for q in TEXTS:
        for sort in SORTS:
            for others in (*OTHERS, {"operation": operation}):
                filters = ResultFilter(q=q, **others)  # type: ignore[arg-type]
                served.clear()
                expected = whole_order(session, filters, sort)
                assert paged(session, filters, sort) == expected, (q, sort, others)
                assert counted(session, filters, sort) == len(expected), (q, sort, others)
                taken = any(found is not None for found in served)
                across = sort != "id" and "metric" not in others
                assert taken == (across and (postgres or q in COMMON_ON_SQLITE)), (q, sort, others)
    assert whole_order(session, ResultFilter(q="heroin"), "-value_base")  # the texts are found


def test_not_sorted_by_value_or_one_metric_is_the_plain_search(session, monkeypatch):
    """A metric filter or a sort that does not start with value_base never takes the path by metric."""
    add_results(session)
    for name, value in (("COMMON_FLOOR", 0), ("COMMON_SHARE", 0.0)):
        monkeypatch.setattr(quote_index, name, value)
    for filters, sort in ((ResultFilter(q="heroin", metric="heroin_seized"), "-value_base"),
                          (ResultFilter(q="heroin"), "id,-value_base")):  # fmt: skip
        assert (
            results._by_metric(session, results.Ask(filters, parse_sort(sort), None, 3), results.PRESENT)
            is None
        )
        assert paged(session, filters, sort) == whole_order(session, filters, sort)


def metric_entries(session: Session, match: str) -> set[tuple[str, str]]:
    """(metric, result id) of every entry of the quote index by metric that `match` finds."""
    conn = session.connection()
    rowids = conn.exec_driver_sql(f"SELECT rowid FROM {METRIC_INDEX} WHERE {METRIC_INDEX} MATCH ?", (match,))
    metrics = dict(conn.exec_driver_sql("SELECT rowid, slug FROM metric").all())
    results_by_rowid = dict(conn.exec_driver_sql("SELECT rowid, id FROM result").all())
    return {(metrics[k // METRIC_SPAN], results_by_rowid[k % METRIC_SPAN]) for (k,) in rowids}


def test_the_sqlite_index_by_metric_follows_every_write(session):
    """Insert, a new quote, a new metric and a delete each leave the index by metric holding every
    result's quote under its metric's range, and nothing else."""
    if session.connection().dialect.name != "sqlite":
        pytest.skip("SQLite's FTS5 index by metric (PostgreSQL's is an expression index)")
    add_results(session)
    assert metric_entries(session, '"of heroin"') == holding(session, "of heroin")
    assert {(METRICS[0], f"bym-{i:02}") for i in range(0, 48, 4)} <= holding(session, "of heroin")
    row = session.get(Result, "bym-01")
    assert row is not None
    row.quote = "now zebra quote"
    session.add(row)
    session.flush()
    assert metric_entries(session, '"zebra"') == {("opium_seized", "bym-01")}
    assert ("opium_seized", "bym-01") not in metric_entries(session, '"of opium"')
    row.metric_slug = "firearms_seized"
    session.add(row)
    session.flush()
    assert metric_entries(session, '"zebra"') == {("firearms_seized", "bym-01")}
    session.delete(row)
    session.flush()
    assert metric_entries(session, '"zebra"') == set()
    assert metric_entries(session, '"seized"') == holding(session, "seized")


def holding(session: Session, text: str) -> set[tuple[str, str]]:
    """(metric, result id) of every result whose quote holds `text` (ASCII), read from the table."""
    return {(r.metric_slug, r.id) for r in session.exec(select(Result)).all() if text in r.quote.lower()}


def test_a_metric_filter_reads_that_metrics_few_candidates(session, monkeypatch):
    """A text that the metric filtered on holds in few rows is read from the index by metric (SQLite:
    that metric's range; PostgreSQL: its pieces in `quote_metric_grams`): pages and totals are the
    order read whole, in every metric, for every text and sort."""
    add_results(session)
    for name, value in (("COMMON_FLOOR", 0), ("COMMON_SHARE", 0.0), ("PG_MIN_ROWS", 0)):
        monkeypatch.setattr(quote_index, name, value)
    taken = []
    for metric in METRICS:
        for q in TEXTS:
            filters = ResultFilter(q=q, metric=metric)
            one = results._one_metric_candidates(session, filters, results.PRESENT)
            taken.append(
                one is not None or results._pg_few_in_metric(session, filters, results.PRESENT) is not None
            )
            for sort in SORTS:
                expected = whole_order(session, filters, sort)
                assert paged(session, filters, sort) == expected, (q, metric, sort)
                assert counted(session, filters, sort) == len(expected), (q, metric, sort)
    assert sum(taken) >= len(METRICS) * 3, taken
