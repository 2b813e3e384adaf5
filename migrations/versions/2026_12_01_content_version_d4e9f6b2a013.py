"""content version: the version of the last write that changed more than the source registry

`dataversion.content_version` is the data version of the last write that changed what operations,
phases, results, totals, series, metrics or checks show. Adding a source document (or extracting
or rejecting candidates) bumps only `version`: the answers keyed by the content version keep their
ETags and cached bodies, while /sources and /changes, keyed by `version`, move with every write.

Revision ID: d4e9f6b2a013
Revises: c3d8e5a1f902
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'd4e9f6b2a013'
down_revision: str | None = 'c3d8e5a1f902'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dataversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_version', sa.Integer(), nullable=False, server_default='1'))
    op.execute("UPDATE dataversion SET content_version = version")


def downgrade() -> None:
    with op.batch_alter_table('dataversion', schema=None) as batch_op:
        batch_op.drop_column('content_version')
