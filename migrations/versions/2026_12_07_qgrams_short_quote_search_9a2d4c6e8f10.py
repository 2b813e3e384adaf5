"""qgrams: PostgreSQL serves quote searches of one or two characters from an index

pg_trgm extracts no trigram from `ILIKE '%kg%'`, so a text of one or two characters scanned every
result. `quote_grams(quote)` is the set of a quote's one- and two-character pieces, lowercased as
`ILIKE` lowers them (the database's ctype, every script); a GIN index on it gives a short text's
candidates (`quote_grams(quote) @> ARRAY[lower(q)]`), and each is checked with the `ILIKE` itself.
SQLite needs nothing new: its short texts come from the FTS5 vocabulary and the last-character
indexes (8c1f5e2a7d34).

Revision ID: 9a2d4c6e8f10
Revises: 8c1f5e2a7d34
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

from alembic import op

from app.quote_index import POSTGRES_GRAMS_DDL

revision: str = "9a2d4c6e8f10"
down_revision: str | None = "8c1f5e2a7d34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_UP = [
    POSTGRES_GRAMS_DDL,
    "CREATE INDEX IF NOT EXISTS ix_result_quote_grams ON result USING gin (quote_grams(quote))",
    "ANALYZE result",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_result_quote_grams", "DROP FUNCTION IF EXISTS quote_grams(text)"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
