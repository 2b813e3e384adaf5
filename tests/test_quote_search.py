"""`q=` on /api/v1/results, served from the quote index: exactly "the quote contains q, case aside".

The oracle is Python's own `q.lower() in quote.lower()` over every stored result; the indexed
filter must give the same rows on both engines for any text: Cyrillic in either case, queries of
one or two characters (no trigram), LIKE's `%`, `_` and `\\`, FTS5's `"`, retracted results and
`at=` reads. Where the old scan (`quote ILIKE …`) already met that meaning (every ASCII text on
SQLite, every text on PostgreSQL) the index gives exactly what it gave.
"""

from datetime import UTC, datetime
from urllib.parse import quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from app.models import Result
from app.read.results import (
    QUOTE_INDEX,
    ResultFilter,
    case_variants,
    count_results,
    filtered,
    like_pattern,
    list_page,
    parse_sort,
)
from tests.factories import retract

QUOTES = [
    "Изъято ОПИЙ 5 кг и гашиш",
    "ёлка ЁЛКА Ёж ёж",
    "Seized 100% of_x at a\\b",
    'the "so-called" HEROIN haul',
    "Ab",
    "%_\\",
    "Ж",
]
ALPHABET = 'aAbBxXйЙоОпПиИёЁжЖ%_\\" .-1'
RETRACTED = "qidx-3"


def stored(session: Session) -> dict[str, str]:
    """Every result's id and quote, after the tricky ones are added (one of them retracted)."""
    base = session.exec(select(Result).order_by(col(Result.id))).first()
    assert base is not None
    for i, quote in enumerate(QUOTES):
        copy = Result.model_validate({**base.model_dump(), "id": f"qidx-{i}", "quote": quote})
        session.add(copy)
    session.flush()
    retract(session, RETRACTED)
    return dict(session.exec(select(Result.id, Result.quote)).all())  # type: ignore[arg-type]


def indexed(session: Session, q: str, *, retracted: bool = True) -> set[str]:
    """The ids the API's filter gives for `q` (retracted ones too unless told)."""
    stmt = filtered(ResultFilter(q=q, include_retracted=retracted), session)
    return set(session.exec(stmt.with_only_columns(col(Result.id))).all())


def old_scan(session: Session, q: str) -> set[str]:
    """The ids the filter gave before the index: `quote ILIKE '%q%'`, read over every row."""
    stmt = select(Result.id).where(col(Result.quote).ilike(like_pattern(q), escape="\\"))
    return set(session.exec(stmt).all())


def oracle(quotes: dict[str, str], q: str) -> set[str]:
    """What `q=` means: the quote contains q, letter case aside (any script)."""
    return {i for i, quote in quotes.items() if q.lower() in quote.lower()}


def recased(text_: str, flips: list[bool]) -> str:
    """`text_` with the letters chosen by `flips` in the other case."""
    flips = (flips + [False] * len(text_))[: len(text_)]
    return "".join(c.swapcase() if flip else c for c, flip in zip(text_, flips, strict=True))


def queries(quotes: list[str]) -> st.SearchStrategy[str]:
    """Random texts of the tricky alphabet, and pieces of stored quotes with their case changed."""
    pieces = st.builds(
        lambda quote, start, size, flips: recased(quote[start : start + size], flips),
        st.sampled_from(quotes),
        st.integers(0, 20),
        st.integers(1, 8),
        st.lists(st.booleans(), max_size=8),
    ).filter(bool)
    return st.one_of(st.text(ALPHABET, min_size=1, max_size=6), pieces)


def test_the_indexed_filter_is_the_meaning_of_q(session):
    quotes = stored(session)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(q=queries(QUOTES + list(quotes.values())[:20]))
    def check(q: str) -> None:
        found = indexed(session, q)
        assert found == oracle(quotes, q), q
        if q.isascii() or session.connection().dialect.name == "postgresql":
            assert found == old_scan(session, q), q
        assert indexed(session, q, retracted=False) == found - {RETRACTED}, q

    check()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("опий", {"qidx-0"}),
        ("ОПИЙ", {"qidx-0"}),
        ("ёлка ё", {"qidx-1"}),
        ("ЁЖ", {"qidx-1"}),  # two characters: no trigram
        ("ж", {"qidx-1", "qidx-6"}),
        ("0%", {"qidx-2"}),
        ("f_X", {"qidx-2"}),
        ("a\\B", {"qidx-2"}),
        ('"SO-CALLED"', {"qidx-3"}),
        ("%_", {"qidx-5"}),
    ],
)
def test_cyrillic_wildcards_and_quotes_are_text(session, q, expected):
    stored(session)
    assert indexed(session, q) & {f"qidx-{i}" for i in range(len(QUOTES))} == expected


def test_pages_and_counts_with_other_filters_and_sorts(session):
    """q beside the other filters, any sort, walked by cursor: the same rows as the oracle, once."""
    quotes = stored(session)
    base = session.get(Result, "qidx-0")
    assert base is not None
    for q, sort in (("опий", "-value_base"), ("ж", "as_of"), ("in", "-id"), ("the", "metric,-as_of")):
        filters = ResultFilter(q=q, metric=base.metric_slug, operation=base.operation_slug)
        keys, seen, cursor = parse_sort(sort), [], None
        while True:
            listing = list_page(session=session, filters=filters, sort=keys, limit=2, cursor=cursor)
            items, cursor = listing.items, listing.next_cursor
            seen += [item["id"] for item in items]
            if cursor is None:
                break
        same = {
            i
            for i in oracle(quotes, q) - {RETRACTED}
            if (row := session.get(Result, i)) is not None
            and (row.metric_slug, row.operation_slug) == (base.metric_slug, base.operation_slug)
        }
        assert sorted(seen) == sorted(same) and len(seen) == len(set(seen)), (q, sort)
        assert count_results(session=session, filters=filters).total == len(same)


def test_the_index_follows_corrections_and_deletions(session, backend):
    """A changed quote is found by its new words only; a deleted row is gone from the index."""
    stored(session)
    row = session.get(Result, "qidx-4")
    assert row is not None
    row.quote = "Новая цитата"
    session.add(row)
    session.flush()
    assert "qidx-4" in indexed(session, "НОВАЯ") and "qidx-4" not in indexed(session, "Ab")
    session.delete(row)
    session.flush()
    assert "qidx-4" not in indexed(session, "новая")
    if backend == "sqlite":  # the external-content index agrees with its table, row for row
        session.connection().exec_driver_sql(
            f"INSERT INTO {QUOTE_INDEX}({QUOTE_INDEX}) VALUES ('integrity-check')"
        )


def test_q_with_at_reads_the_past(client, session):
    """`at=` answers from the past's quotes (scanned as before): at a past instant with no write
    since, what `q=` gives now, for pieces of the seeded quotes in another case, short ones too."""
    quote = session.exec(select(Result.quote).order_by(col(Result.id))).first()
    assert quote is not None
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for q in (quote[3:12].swapcase(), quote[5:7].upper(), "%", "the"):
        url = f"/api/v1/results?q={quote_plus(q)}&include_retracted=true&limit=500"
        now, then = client.get(url), client.get(f"{url}&at={at}")
        assert now.status_code == then.status_code == 200, (now.text, then.text)
        assert [i["id"] for i in then.json()["items"]] == [i["id"] for i in now.json()["items"]], q
        assert then.json()["total"] == now.json()["total"] > 0 or q == "%", q


def test_short_queries_are_every_spelling():
    assert sorted(case_variants("Ёa")) == sorted(["Ёa", "ЁA", "ёa", "ёA"])
    assert case_variants("%1") == ["%1"]


def test_the_migration_indexes_existing_rows(session, backend):
    """The index holds every stored quote (the migration's rebuild, then the triggers)."""
    if backend == "sqlite":
        n = session.connection().exec_driver_sql(f"SELECT count(*) FROM {QUOTE_INDEX}_docsize").scalar()
    else:
        n = (
            session.connection()
            .execute(text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_result_quote_trgm'"))
            .scalar()
        )
        assert n == 1
        n = session.exec(select(func.count()).select_from(Result)).one()
    assert n == session.exec(select(func.count()).select_from(Result)).one()
