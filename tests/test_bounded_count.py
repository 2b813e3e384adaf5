"""A quote search's `total` counts at most QUOTE_COUNT_LIMIT matches and says when there are more.

Whatever the path (the index streaming its hits on SQLite, rows checked beside narrow filters, the
plain `ILIKE` on PostgreSQL, revisions of the past), a bounded count is the exact count when it is
at most the limit, else the limit flagged as a lower bound; the pages are unchanged.
"""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import quote_index
from app.config import get_settings
from app.read.asof import Snapshot
from app.read.results import Count, ResultFilter, count_results, filtered
from tests.factories import retract
from tests.test_quote_pick import add_quotes

WORDS = ["опий", "ОПИЙ героин", "seized", "Seized kg", "тонн", "100%_x", "ж-1"]
QUOTES = [f"{WORDS[i % 7]} {WORDS[(i * 3) % 7]} n{i % 5} {'ёЖ' if i % 2 else 'Ab'}" for i in range(40)]
TEXTS = st.one_of(
    st.sampled_from(["опий", "seized", "n3", "ж", "kg", "%_", "Ab", "ёж", "no such", "ОПИЙ героин"]),
    st.sampled_from(QUOTES).map(lambda t: t[3:9].swapcase()),
)


def counted(session, filters: ResultFilter, limit: int, snap=None) -> Count:
    """count_results with a limit, at the present or at `snap`."""
    kwargs = {} if snap is None else {"snap": snap}
    return count_results(session=session, filters=filters, limit=limit, **kwargs)


def matching(session, filters: ResultFilter, snap=None) -> int:
    """The matches themselves, listed and counted in Python."""
    kwargs = {} if snap is None else {"snap": snap}
    return len(session.exec(filtered(filters, session, **kwargs)).all())


@pytest.mark.parametrize("common", [False, True])
def test_a_bounded_count_is_the_count_up_to_its_limit(session, monkeypatch, common):
    """Random texts, limits and filters, the index's rare and common paths: min(n, limit), flagged
    exactly when n is above the limit."""
    add_quotes(session, QUOTES)
    retract(session, "pick-3")
    monkeypatch.setattr(quote_index, "PG_MIN_ROWS", 0)
    if common:  # every text counted from the index's phrase (or the PostgreSQL whole pattern)
        for name, value in (("COMMON_FLOOR", 0), ("COMMON_SHARE", 0.0)):
            monkeypatch.setattr(quote_index, name, value)
    operation = session.exec(filtered(ResultFilter(), session)).first().operation_slug

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        q=TEXTS,
        limit=st.integers(1, 30),
        narrow=st.booleans(),
        include_retracted=st.booleans(),
    )
    def check(q: str, limit: int, narrow: bool, include_retracted: bool) -> None:
        filters = ResultFilter(
            q=q, operation=operation if narrow else None, include_retracted=include_retracted
        )
        n = matching(session, filters)
        assert count_results(session=session, filters=filters).total == n, q
        assert counted(session, filters, limit) == Count(min(n, limit), lower_bound=n > limit), (q, limit)

    check()


def test_a_bounded_count_of_the_past_counts_the_revisions(session):
    """At an earlier instant the bound holds over what the results were then (seeded revisions)."""
    filters = ResultFilter(q="opium")
    then = Snapshot(datetime.now(UTC))
    for row in session.exec(filtered(filters, session)).all()[:2]:
        retract(session, row.id)
    n_then, n_now = matching(session, filters, then), matching(session, filters)
    assert n_then == n_now + 2 and n_now > 1
    assert counted(session, filters, n_then, then) == Count(n_then)
    assert counted(session, filters, n_then - 1, then) == Count(n_then - 1, lower_bound=True)
    assert counted(session, filters, n_now, then) == Count(n_now, lower_bound=True)
    assert counted(session, filters, n_now) == Count(n_now)


@pytest.fixture
def small_limit(monkeypatch):
    """QUOTE_COUNT_LIMIT=3 for this test's app."""
    monkeypatch.setenv("QUOTE_COUNT_LIMIT", "3")
    get_settings.cache_clear()
    yield 3
    get_settings.cache_clear()


def test_the_page_says_its_total_is_a_lower_bound(session, small_limit, client):
    """Over the limit: total is the limit and total_lower_bound true, every page the same, and the
    pages still hold every match; at or under it, and without q=, the total is exact."""
    add_quotes(session, QUOTES)
    session.commit()
    n = matching(session, ResultFilter(q="опий"))
    assert n > small_limit
    seen, params = [], {"q": "опий", "limit": 4}
    while params:
        page = client.get("/api/v1/results", params=params).json()
        assert (page["total"], page["total_lower_bound"]) == (small_limit, True)
        seen += [item["id"] for item in page["items"]]
        params = page["next_cursor"] and {"q": "опий", "limit": 4, "cursor": page["next_cursor"]}
    assert len(seen) == len(set(seen)) == n
    few = client.get("/api/v1/results", params={"q": QUOTES[13].upper()}).json()
    assert few["total"] == len(few["items"]) == 1 and few["total_lower_bound"] is False
    everything = client.get("/api/v1/results", params={"limit": 1}).json()
    assert everything["total"] > small_limit and everything["total_lower_bound"] is False


def test_the_openapi_document_describes_the_bound(client):
    page = client.get("/openapi.json").json()["components"]["schemas"]["Page_ResultPublic_"]
    assert "total_lower_bound" in page["properties"]
    assert "QUOTE_COUNT_LIMIT" in page["properties"]["total_lower_bound"]["description"]
