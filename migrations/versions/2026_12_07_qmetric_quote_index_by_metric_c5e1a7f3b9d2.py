"""qmetric: a quote index partitioned by metric, for searches sorted by value across metrics

Sorted by `value_base` with no metric filter, every metric's base unit stands in one order (tons of
opium as kg before cases and heroin's kg), so a text held by one metric's quotes only (`HEROIN`,
`criminal cases`, `kg`) has its matches after hundreds of thousands of rows that do not hold it:
neither walking that order nor reading every match's sort value settles a page fast. Partitioned
by metric, the index tells how many candidates each metric has; a page then walks the order of
the metrics that hold the text in many rows (`ix_result_metric_value_base`) and reads the
candidates of the rest, and merges them (app/read/results.py, `_by_metric`).

SQLite: `result_quote_by_metric`, a contentless FTS5 trigram table whose rowid is
`metric.rowid * 2**32 + result.rowid`, so one metric's entries are one rowid range (FTS5 reads a
range of a posting list without the rest); three triggers keep it, filled once here. PostgreSQL:
`quote_metric_grams(metric, quote)`, every lowered piece of one to three characters of the quote
prefixed by its metric (`heroin_seized:her`), in a GIN index whose statistics (ANALYZE) say how
many results of each metric hold a piece.

Revision ID: c5e1a7f3b9d2
Revises: 9a2d4c6e8f10
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

from alembic import op

from app.quote_index import METRIC_INDEX, POSTGRES_METRIC_DDL, POSTGRES_METRIC_INDEX

revision: str = "c5e1a7f3b9d2"
down_revision: str | None = "9a2d4c6e8f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "(SELECT rowid FROM metric WHERE slug = {row}.metric_slug) * 4294967296 + {row}.rowid"
INSERT_NEW = f"INSERT INTO {METRIC_INDEX}(rowid, quote) VALUES ({KEY.format(row='new')}, new.quote);"
DELETE_OLD = (
    f"INSERT INTO {METRIC_INDEX}({METRIC_INDEX}, rowid, quote) "
    f"VALUES ('delete', {KEY.format(row='old')}, old.quote);"
)
SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {METRIC_INDEX} USING fts5(quote, content='', tokenize='trigram', columnsize=0)",
    f"CREATE TRIGGER {METRIC_INDEX}_insert AFTER INSERT ON result BEGIN {INSERT_NEW} END",
    f"CREATE TRIGGER {METRIC_INDEX}_delete AFTER DELETE ON result BEGIN {DELETE_OLD} END",
    f"CREATE TRIGGER {METRIC_INDEX}_update AFTER UPDATE OF quote, metric_slug ON result "
    f"BEGIN {DELETE_OLD} {INSERT_NEW} END",
    f"INSERT INTO {METRIC_INDEX}(rowid, quote) SELECT metric.rowid * 4294967296 + result.rowid, result.quote "
    "FROM result JOIN metric ON metric.slug = result.metric_slug",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {METRIC_INDEX}_update",
    f"DROP TRIGGER IF EXISTS {METRIC_INDEX}_delete",
    f"DROP TRIGGER IF EXISTS {METRIC_INDEX}_insert",
    f"DROP TABLE IF EXISTS {METRIC_INDEX}",
]
POSTGRES_UP = [
    POSTGRES_METRIC_DDL,
    f"CREATE INDEX IF NOT EXISTS {POSTGRES_METRIC_INDEX} ON result "
    "USING gin (quote_metric_grams(metric_slug, quote))",
    "ANALYZE result",
]
POSTGRES_DOWN = [
    f"DROP INDEX IF EXISTS {POSTGRES_METRIC_INDEX}",
    "DROP FUNCTION IF EXISTS quote_metric_grams(text, text)",
]


def upgrade() -> None:
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
