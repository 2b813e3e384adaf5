"""qsearch: trigram statistics for the quote search, and an index of retracted results

A quote search reads only the query's rarest trigrams from the quote index and checks the few
candidates; which are rarest comes from statistics. SQLite: `result_quote_trigram` (trigram ->
documents, from the FTS5 vocabulary; the row '' holds the number of results it was made from),
refreshed by `refresh_statistics` when the results have grown or shrunk by a tenth. PostgreSQL:
extended statistics on `show_trgm(quote)` (most common trigrams and their frequencies), kept
fresh by ANALYZE and autovacuum like every other statistic.
SQLite also gets `ix_result_retracted` (the retracted results only), so a count of a common text
is the index's count minus its retracted matches, without reading every match's row; the FTS5
vocabulary as a table (`result_quote_vocab`); and indexes of each quote's last and second-to-last
character: a text of one or two characters is found from the trigrams that start with it (the
vocabulary, by range) and from those two indexes (the places where no trigram starts).

Revision ID: 8c1f5e2a7d34
Revises: 7c2e9a4d5b18
Create Date: 2026-12-07 12:30:00
"""

from collections.abc import Sequence

from alembic import op

from app.quote_index import QUOTE_INDEX, QUOTE_VOCAB, SQLITE_STATS_DDL, fill_sqlite_statistics

revision: str = "8c1f5e2a7d34"
down_revision: str | None = "7c2e9a4d5b18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    SQLITE_STATS_DDL,
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {QUOTE_VOCAB} USING fts5vocab({QUOTE_INDEX}, row)",
    "CREATE INDEX IF NOT EXISTS ix_result_retracted ON result (id) WHERE retracted = 1",
    "CREATE INDEX IF NOT EXISTS ix_result_quote_last ON result (substr(quote, -1))",
    "CREATE INDEX IF NOT EXISTS ix_result_quote_second_last ON result (substr(quote, -2, 1))",
]
SQLITE_DOWN = [
    "DROP INDEX IF EXISTS ix_result_quote_second_last",
    "DROP INDEX IF EXISTS ix_result_quote_last",
    "DROP INDEX IF EXISTS ix_result_retracted",
    f"DROP TABLE IF EXISTS {QUOTE_VOCAB}",
    "DROP TABLE IF EXISTS result_quote_trigram",
]
POSTGRES_UP = [
    "CREATE STATISTICS IF NOT EXISTS result_quote_trigrams ON (show_trgm(quote)) FROM result",
    "ANALYZE result",
]
POSTGRES_DOWN = ["DROP STATISTICS IF EXISTS result_quote_trigrams"]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        fill_sqlite_statistics(bind)
    else:
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
