"""candidate scope and note: the scope extraction guesses, and why a candidate has no metric

Qualifiers need no change: `result.qualifier` and `candidate.qualifier` are VARCHAR(16) without an
enum type or check constraint, so `at_least` and `less_than` are stored as they are.

Revision ID: 5c2e9b7d41a3
Revises: 31a71ada6fdc
Create Date: 2026-12-01 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '5c2e9b7d41a3'
down_revision: str | None = '31a71ada6fdc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('scope')
