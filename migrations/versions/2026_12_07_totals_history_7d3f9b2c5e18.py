"""maintained totals keep their history: `at=` totals are read, not recomputed

`totalsrevision` holds each (operation, metric) total as it stood from `valid_from` until `valid_to`
(null: current); `aggregatestate.history_from` is the instant since which it is complete. Stored
totals that are built are copied in as valid from this migration's instant (they equal the data
then); before it, `at=` totals are still computed from the revisions of the results.

Revision ID: 7d3f9b2c5e18
Revises: 4b8e2d7f1a90
Create Date: 2026-12-07 12:10:00
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '7d3f9b2c5e18'
down_revision: str | None = '4b8e2d7f1a90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'totalsrevision',
        sa.Column('operation_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('metric_slug', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('valid_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('valid_to', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_hash', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint('operation_key', 'metric_slug', 'valid_from'),
    )
    op.create_index('ix_totalsrevision_valid', 'totalsrevision', ['valid_from', 'valid_to'], unique=False)
    with op.batch_alter_table('aggregatestate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('history_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    _copy_current()


def _copy_current() -> None:
    """The built stored totals, as valid from now: the history starts here."""
    conn = op.get_bind()
    built = conn.execute(sa.text('SELECT totals_built FROM aggregatestate WHERE id = 1')).scalar()
    if not built:
        return
    now = datetime.now(UTC)
    rows = conn.execute(sa.text('SELECT operation_key, metric_slug, body FROM totalsaggregate')).all()
    revisions = sa.table(
        'totalsrevision',
        sa.column('operation_key'), sa.column('metric_slug'), sa.column('body'), sa.column('body_hash'),
        sa.column('valid_from', sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    if rows:
        op.bulk_insert(revisions, [
            {'operation_key': k, 'metric_slug': m, 'body': b, 'valid_from': now,
             'body_hash': hashlib.blake2b(b.encode(), digest_size=16).hexdigest()}
            for k, m, b in rows
        ])
    state = sa.table('aggregatestate', sa.column('id'), sa.column('history_from', sqlmodel.sql.sqltypes.UTCDateTime()))
    conn.execute(state.update().where(state.c.id == 1).values(history_from=now))


def downgrade() -> None:
    with op.batch_alter_table('aggregatestate', schema=None) as batch_op:
        batch_op.drop_column('history_from')
    op.drop_index('ix_totalsrevision_valid', table_name='totalsrevision')
    op.drop_table('totalsrevision')
