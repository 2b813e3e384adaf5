"""phase choice aggregates: each phase's whole figure per metric, kept by the writes

A write re-ranks only the phases it touched (through ix_result_phase_metric) and assembles its
metric's totals from these rows, instead of ranking every phase of the operation again.
`aggregatestate.totals_built` is cleared on a database that already holds results, so `opstats
serve` (or `opstats db rebuild-aggregates`) fills the new table before serving from it.

Revision ID: c3d8e5a1f902
Revises: 9a4f1c2e7b60
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'c3d8e5a1f902'
down_revision: str | None = '9a4f1c2e7b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('phasechoiceaggregate',
    sa.Column('operation_slug', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('phase_slug', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('metric_slug', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('operation_slug', 'phase_slug', 'metric_slug', name=op.f('pk_phasechoiceaggregate'))
    )
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.create_index('ix_result_phase_metric', ['phase_slug', 'metric_slug', 'scope', 'retracted', 'country'], unique=False)
    op.execute("UPDATE aggregatestate SET totals_built = NOT EXISTS (SELECT 1 FROM result)")


def downgrade() -> None:
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.drop_index('ix_result_phase_metric')
    op.drop_table('phasechoiceaggregate')
