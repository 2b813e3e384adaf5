"""qidx: quote search (`q=`) served from an index on both engines

SQLite: `result_quote_fts`, an FTS5 table with the trigram tokenizer over `result.quote`
(external content, keyed by `result`'s rowid), kept in sync by three triggers and filled once
here ('rebuild'). Its tokenizer folds case for every script (`ОПИЙ` finds `опий`), which the
scan's `lower()` never did on SQLite. PostgreSQL: `pg_trgm` and a GIN `gin_trgm_ops` index on
`result.quote`, which serves the `quote ILIKE '%…%'` the API already runs (same meaning).

Revision ID: 4b8e2d7f1a90
Revises: a4b8c2d6e913
Create Date: 2026-12-07 05:40:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '4b8e2d7f1a90'
down_revision: str | None = 'a4b8c2d6e913'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE result_quote_fts USING fts5("
    "quote, content='result', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER result_quote_fts_insert AFTER INSERT ON result BEGIN "
    "INSERT INTO result_quote_fts(rowid, quote) VALUES (new.rowid, new.quote); END",
    "CREATE TRIGGER result_quote_fts_delete AFTER DELETE ON result BEGIN "
    "INSERT INTO result_quote_fts(result_quote_fts, rowid, quote) VALUES ('delete', old.rowid, old.quote); END",
    "CREATE TRIGGER result_quote_fts_update AFTER UPDATE OF quote ON result BEGIN "
    "INSERT INTO result_quote_fts(result_quote_fts, rowid, quote) VALUES ('delete', old.rowid, old.quote); "
    "INSERT INTO result_quote_fts(rowid, quote) VALUES (new.rowid, new.quote); END",
    "INSERT INTO result_quote_fts(result_quote_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS result_quote_fts_update",
    "DROP TRIGGER IF EXISTS result_quote_fts_delete",
    "DROP TRIGGER IF EXISTS result_quote_fts_insert",
    "DROP TABLE IF EXISTS result_quote_fts",
]
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_result_quote_trgm ON result USING gin (quote gin_trgm_ops)",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_result_quote_trgm"]  # the extension may serve others: kept


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP)


def downgrade() -> None:
    _run(SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN)
