"""SQLite's FTS5 trigram case folding, as a Python function and as the SQL function `quote_fold`.

The quote index (`result_quote_fts`, tokenizer `trigram`) folds each character of a quote with
FTS5's own table before it makes trigrams, so "the quote contains q" there means
`fold(quote)` contains `fold(q)`. A search that reads only a few of the query's trigrams from the
index checks its candidates with the same fold: the one the linked SQLite library applies,
learnt from that library (every character of the planes that have letter case, through a
trigram table in memory), never a copy of a Unicode table that another SQLite build might not
share. SQLite's own `lower()` folds ASCII only, so it cannot be the check.
"""

import sqlite3
from functools import lru_cache
from typing import Any

CASED_PLANES = 0x20000  # the Basic and Supplementary Multilingual Planes: every cased letter
SURROGATES = range(0xD800, 0xE000)  # not characters: no UTF-8 text holds them


@lru_cache
def fold_table() -> dict[int, str]:
    """Every character the FTS5 trigram tokenizer folds to another, and what to (a constant of the
    linked library: computed once per process)."""
    chars = [chr(c) for c in range(1, CASED_PLANES) if c not in SURROGATES]
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(t, tokenize='trigram')")
        conn.execute("CREATE VIRTUAL TABLE probe_terms USING fts5vocab(probe, instance)")
        conn.execute("INSERT INTO probe(rowid, t) VALUES (1, ?)", ("".join(chars) + "  ",))
        rows = conn.execute("SELECT term, offset FROM probe_terms").fetchall()
    finally:
        conn.close()
    return {ord(chars[offset]): term[0] for term, offset in rows if term[0] != chars[offset]}


def fold(text: str) -> str:
    """`text` as the quote index sees it (FTS5's trigram case folding, character by character)."""
    return text.translate(fold_table())


def register_fold(dbapi_conn: Any) -> None:
    """Make `quote_fold(text)` callable in SQL on this SQLite connection (deterministic: a pure
    function of its argument)."""
    table = fold_table()

    def quote_fold(value: str | None) -> str | None:
        return None if value is None else value.translate(table)

    dbapi_conn.create_function("quote_fold", 1, quote_fold, deterministic=True)
