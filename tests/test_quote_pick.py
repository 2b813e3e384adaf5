"""The rare-trigram path of `q=` gives exactly what the plain index lookup gives.

SQLite: the FTS5 AND of a few pieces plus the `quote_fold` check against the phrase of the whole
text (the old path); PostgreSQL: the `ILIKE` of rare pieces plus the unindexed recheck against the
plain `ILIKE`. Random texts of Cyrillic and Latin in both cases and LIKE's metacharacters.
"""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from app import quote_index
from app.models import Result
from app.quote_index import choose, fill_sqlite_statistics, fold, fold_table, pg_pieces
from app.read import results
from app.read.results import (
    ResultFilter,
    count_results,
    filtered,
    fts_phrase,
    like_pattern,
    list_page,
    parse_sort,
)
from tests.factories import retract

few_matches = results._few_matches

ALPHABET = 'aAbBoOйЙоОпПиИёЁжЖ%_\\" .-17'
QUOTES = ["Изъято ОПИЙ 5 кг и гашиш", "ёлка ЁЛКА Ёж ёж", "Seized 100% of_x at a\\b", "%_\\ ж-1 ОПИЙ"]


def add_quotes(session: Session, texts: list[str]) -> None:
    """Copies of the first result with these quotes, then statistics made afresh."""
    base = session.exec(select(Result).order_by(col(Result.id))).first()
    assert base is not None
    for i, quote in enumerate(texts):
        session.add(Result.model_validate({**base.model_dump(), "id": f"pick-{i}", "quote": quote}))
    session.flush()
    if session.connection().dialect.name == "sqlite":
        fill_sqlite_statistics(session.connection())


def ids(session: Session, q: str) -> set[str]:
    stmt = filtered(ResultFilter(q=q, include_retracted=True), session)
    return set(session.exec(stmt.with_only_columns(col(Result.id))).all())


def plain(session: Session, q: str) -> set[str]:
    """The old lookup: the FTS5 phrase of q (SQLite), or `quote ILIKE` (PostgreSQL)."""
    if session.connection().dialect.name == "sqlite":
        rows = session.connection().exec_driver_sql(
            "SELECT r.id FROM result AS r WHERE r.rowid IN "
            "(SELECT rowid FROM result_quote_fts WHERE result_quote_fts MATCH ?)",
            (fts_phrase(q),),
        )
        return {row[0] for row in rows}
    stmt = select(Result.id).where(col(Result.quote).ilike(like_pattern(q), escape="\\"))
    return set(session.exec(stmt).all())


def test_rare_pieces_give_what_the_whole_text_gives(session, monkeypatch):
    texts = QUOTES + ["".join(chr(0x430 + (i * 7 + j) % 40) for j in range(12)) + " Ж%_" for i in range(30)]
    add_quotes(session, texts)
    monkeypatch.setattr(quote_index, "PG_MIN_ROWS", 0)
    monkeypatch.setattr(quote_index, "COMMON_FLOOR", 10**9)  # every text takes the rare path
    picked = []
    monkeypatch.setattr(
        results, "sqlite_pick", lambda s, q: picked.append(q) or quote_index.sqlite_pick(s, q)
    )
    monkeypatch.setattr(results, "pg_pick", lambda s, q: picked.append(q) or quote_index.pg_pick(s, q))

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        q=st.one_of(
            st.text(ALPHABET, min_size=3, max_size=8), st.sampled_from(texts).map(lambda t: t[2:9].swapcase())
        )
    )
    def check(q: str) -> None:
        assert ids(session, q) == plain(session, q), q

    check()
    assert picked


def test_choose_reads_rare_pieces_apart():
    found = {0: ("abc", 10.0), 1: ("bcd", 11.0), 5: ("xyz", 200.0), 9: ("com", 900.0)}
    pick = choose(found, 1000.0)
    assert pick.terms[0] == "abc" and "bcd" not in pick.terms  # overlapping: says little more
    assert choose({0: ("abc", 50_000.0)}, 100_000.0).terms == ()  # common: the whole phrase instead


def test_pg_pieces_are_pieces_of_the_text():
    q = "bench-proxy-2003-7 officers"
    for piece, grams in pg_pieces(q).values():
        assert piece in q and grams and all(len(g) == 3 for g in grams)
    assert "%_" not in "".join(p for p, _ in pg_pieces("100%_ab").values())


def test_the_fold_is_the_index_fold():
    """Python's fold of every cased character equals what FTS5's trigram tokenizer makes of it."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
    sample = "ОПИЙ ёЁ ЖжAbc ΣσςİıKſ"
    conn.execute("INSERT INTO t(x) VALUES (?)", (sample,))
    terms = {row[0] for row in conn.execute("SELECT term FROM v")}
    assert terms == {fold(sample)[i : i + 3] for i in range(len(sample) - 2)}
    assert all(fold(v) == v for v in fold_table().values())  # folding twice changes nothing


@pytest.mark.parametrize("q", ["ОПИЙ", "ёлка", "0% of_"])
def test_quote_fold_in_sql(session, q):
    """`quote_fold` on a SQLite connection is the Python fold."""
    if session.connection().dialect.name != "sqlite":
        pytest.skip("SQLite's function")
    assert session.connection().exec_driver_sql("SELECT quote_fold(?)", (q,)).scalar() == fold(q)


@pytest.mark.parametrize("walk_rows", [3, 5000])
def test_common_texts_checked_in_sort_order_give_the_same_pages(session, monkeypatch, walk_rows):
    """Every text taken as common: pages walked in sort order (settled or given up after `walk_rows`
    rows) and counts checked row by row or from the index alone equal the plain lookup, by cursor."""
    texts = QUOTES + [f"seized {i} кг ОПИЙ of_x" if i % 3 else f"no {i}" for i in range(20)]
    add_quotes(session, texts)
    for name, value in (("COMMON_FLOOR", 0), ("COMMON_SHARE", 0.0)):
        monkeypatch.setattr(quote_index, name, value)
    monkeypatch.setattr(results, "WALK_ROWS", walk_rows)
    base = session.get(Result, "pick-0")
    assert base is not None
    for q, sort, others in (
        ("опий", "-value_base", {}),
        ("SEIZED", "as_of", {"metric": base.metric_slug}),
        ("of_", "-id", {"operation": base.operation_slug}),
        ("кг о", "id", {}),
    ):
        filters = ResultFilter(q=q, **others)
        expected = {i for i in plain(session, q) if (row := session.get(Result, i)) and not row.retracted}
        expected = {
            i
            for i in expected
            if all(getattr(session.get(Result, i), f"{k}_slug") == v for k, v in others.items())
        }
        seen, cursor = [], None
        while True:
            listing = list_page(
                session=session, filters=filters, sort=parse_sort(sort), limit=2, cursor=cursor
            )
            items, cursor = listing.items, listing.next_cursor
            seen += [item["id"] for item in items]
            if cursor is None:
                break
        assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen)), (q, sort)
        assert count_results(session=session, filters=filters).total == len(expected), (q, sort)


@pytest.mark.parametrize("include_retracted", [False, True])
def test_a_common_texts_count_from_the_index_leaves_retracted_results_out(
    session, monkeypatch, include_retracted
):
    """The index's own count of a common text (no other filter) less its retracted matches, read
    through ix_result_retracted, is the count of the rows themselves."""
    add_quotes(session, [f"common text {i} ОПИЙ" for i in range(6)])
    retract(session, "pick-1")
    retract(session, "pick-4")
    for name, value in (("COMMON_FLOOR", 0), ("COMMON_SHARE", 0.0)):
        monkeypatch.setattr(quote_index, name, value)
    for q in ("опий", "COMMON TEXT", "xt 4"):
        gone = {i for i in plain(session, q) if (row := session.get(Result, i)) and row.retracted}
        expected = len(plain(session, q)) - (0 if include_retracted else len(gone))
        assert gone or include_retracted or q == "xt 4", q
        filters = ResultFilter(q=q, include_retracted=include_retracted)
        assert count_results(session=session, filters=filters).total == expected, q


SHORT_QUOTES = ["ab", "a", "xyKG", "ж", "Жx", "x%", "end kg", "Kg start", "mid kG mid", "zЖ", "q_\\"]


def test_short_texts_from_indexes_give_every_spelling_anywhere(session):
    """One or two characters, at the start, the middle, the last two places of a quote and in
    quotes shorter than a trigram: what the candidates from the vocabulary and the last-character
    indexes (SQLite) or the pieces index (PostgreSQL) give, checked, equals testing every row for
    every spelling."""
    add_quotes(session, SHORT_QUOTES)
    rows = session.exec(select(Result.id, Result.quote)).all()

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        q=st.one_of(st.text("abxyKkGgЖжz%_\\ ", min_size=1, max_size=2), st.sampled_from(["kg", "ж", "a"]))
    )
    def check(q: str) -> None:
        spellings = results.case_variants(q)
        assert ids(session, q) == {i for i, quote in rows if any(s in quote for s in spellings)}, q

    check()


@pytest.mark.parametrize("few", [False, True])
def test_pages_sorted_from_few_matches_equal_the_walked_ones(session, monkeypatch, few):
    """A text the index finds in few results has its matches found first and only those sorted
    (PostgreSQL: `few`; SQLite: a text rare by its statistics, when `few`), else the planner's walk;
    both give every match once, in order, by cursor, for texts with trigrams and without (one or
    two characters), and a first page sorted whole gives the total."""
    texts = QUOTES + [f"seized {i} кг ОПИЙ of_x" if i % 3 else f"no {i} Ж%" for i in range(20)]
    add_quotes(session, texts)
    retract(session, "pick-5")
    postgres = session.connection().dialect.name == "postgresql"
    if postgres:
        session.connection().exec_driver_sql("ANALYZE result")  # statistics of quote_grams(quote)
    rare = lambda _s, q: quote_index.Pick((q[:3],), 1.0, 1.0)  # noqa: E731 -- a piece of q: in every match
    monkeypatch.setattr(results, "pg_pick", rare)
    monkeypatch.setattr(results, "FEW_MATCHES", 10**9 if few else -1)
    taken = []
    monkeypatch.setattr(results, "_few_matches", lambda *a: taken.append(a) or few_matches(*a))
    for q, sort in (("опий", "-value_base"), ("SEIZED", "as_of,-id"), ("of_", "-id"), ("ж", "value"),
                    ("%", "-as_of"), ("o", "metric,-value_base")):  # fmt: skip
        expected = [
            row.id
            for row in session.exec(filtered(ResultFilter(), session)).all()
            if q.lower() in row.quote.lower()
        ]
        seen, cursor = [], None
        while True:
            listing = list_page(
                session=session, filters=ResultFilter(q=q), sort=parse_sort(sort), limit=3, cursor=cursor
            )
            items, cursor = listing.items, listing.next_cursor
            seen += [item["id"] for item in items]
            if cursor is None:
                break
        assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen)), (q, sort)
        listing = list_page(
            session=session, filters=ResultFilter(q=q), sort=parse_sort(sort), limit=500, cursor=None
        )
        whole, _ = listing.items, listing.next_cursor
        assert [item["id"] for item in whole] == seen, (q, sort)
        first = results.list_page(
            session=session, filters=ResultFilter(q=q), sort=parse_sort(sort), limit=2, cursor=None
        )
        sorted_whole = few_matches(
            session, ResultFilter(q=q), results.PRESENT
        )  # SQLite: rare by its statistics
        assert first.matched == (len(expected) if sorted_whole else None), (q, sort)
        for bound in (0, 1, len(expected), len(expected) + 1):
            filters = ResultFilter(q=q)
            known = count_results(session=session, filters=filters, limit=bound, matched=first.matched)
            assert known == count_results(session=session, filters=filters, limit=bound), (q, bound)
    assert len(taken) >= 6
    assert not postgres or {a[1].q for a in taken if few_matches(*a) is not few} == set()
