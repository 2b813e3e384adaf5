"""totals aggregates, the data-version notification, indexes for filtered pages

Indexes (chosen from EXPLAIN plans at 1M results, see bench/README.md): (operation_slug,
metric_slug, as_of, retracted, value_base, value, id) and (metric_slug, as_of, ...) turn a
filtered page's year range, its sorted ids and its exact count into an index-only range instead
of visiting every row of the operation and metric; (duplicate_of) lets a write find the reports linked to the one it changes.

`totalsaggregate` holds the current totals of each (operation, metric) — '' for the programme —
maintained by every write's unit of work, so GET totals read a few rows instead of scanning
results. `aggregatestate.totals_built` says whether they cover every result: true when the table
is made on a database without results, else false until `opstats db rebuild-aggregates` (which
`opstats serve` runs when needed).

On PostgreSQL a trigger NOTIFYs `opstats_data_version` with the new version on every bump, so each
worker's listener learns of a write at its commit without polling.

Revision ID: 9a4f1c2e7b60
Revises: 7d3a1c9e2b60
Create Date: 2026-12-01 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '9a4f1c2e7b60'
down_revision: str | None = '7d3a1c9e2b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION opstats_notify_data_version() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('opstats_data_version', NEW.version::text);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
NOTIFY_TRIGGER = """
CREATE TRIGGER dataversion_notify AFTER UPDATE ON dataversion
FOR EACH ROW EXECUTE FUNCTION opstats_notify_data_version()
"""


def upgrade() -> None:
    op.create_table('totalsaggregate',
    sa.Column('operation_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('metric_slug', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('operation_key', 'metric_slug', name=op.f('pk_totalsaggregate'))
    )
    op.create_table('aggregatestate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('totals_built', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aggregatestate'))
    )
    op.execute(
        "INSERT INTO aggregatestate (id, totals_built) "
        "SELECT 1, NOT EXISTS (SELECT 1 FROM result)"
    )
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.create_index('ix_result_operation_metric_as_of', ['operation_slug', 'metric_slug', 'as_of', 'retracted', 'value_base', 'value', 'id'], unique=False)
        batch_op.create_index('ix_result_metric_as_of', ['metric_slug', 'as_of', 'retracted', 'value_base', 'value', 'id'], unique=False)
        batch_op.create_index('ix_result_duplicate_of', ['duplicate_of'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS dataversion_notify ON dataversion")
        op.execute("DROP FUNCTION IF EXISTS opstats_notify_data_version()")
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.drop_index('ix_result_duplicate_of')
        batch_op.drop_index('ix_result_metric_as_of')
        batch_op.drop_index('ix_result_operation_metric_as_of')
    op.drop_table('aggregatestate')
    op.drop_table('totalsaggregate')
