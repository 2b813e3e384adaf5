"""database epoch: a random id made with the schema, so ETags and caches never outlive a reset

A database dropped (`opstats db downgrade base --yes`) and made again starts its data version at 1
again; the epoch, new each time this migration runs, is part of every ETag and cache key, so an
answer from before the reset is never confirmed (304) or served after it.

Revision ID: 7e1f0c9a2b44
Revises: 5c2e9b7d41a3
Create Date: 2026-12-01 10:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '7e1f0c9a2b44'
down_revision: str | None = '5c2e9b7d41a3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        'databaseepoch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('epoch', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_databaseepoch')),
    )
    op.bulk_insert(table, [{'id': 1, 'epoch': uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table('databaseepoch')
