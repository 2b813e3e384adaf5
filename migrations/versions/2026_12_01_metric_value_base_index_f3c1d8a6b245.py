"""an index for one metric's results sorted by value_base

`ix_result_metric_value_base` (metric_slug, retracted, value_base, id, operation_slug, as_of).
Values are stored in each metric's base unit, so one metric's rows sit in one stretch of
`ix_result_value_base_id` (opium, in kg from tons, begins a third of the way in). For
`metric=opium_seized&year=2015&sort=value_base&limit=20` PostgreSQL walked that index from its
start, filtering rows from the heap, to fill the LIMIT: 1.25 s at 1M results (EXPLAIN in
bench/README.md). With this index it reads one metric's entries in value_base order, operation
and as_of from the index itself.

Revision ID: f3c1d8a6b245
Revises: e5a7b3c9d120
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = 'f3c1d8a6b245'
down_revision: str | None = 'e5a7b3c9d120'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ['metric_slug', 'retracted', 'value_base', 'id', 'operation_slug', 'as_of']


def upgrade() -> None:
    op.create_index('ix_result_metric_value_base', 'result', COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index('ix_result_metric_value_base', table_name='result')
