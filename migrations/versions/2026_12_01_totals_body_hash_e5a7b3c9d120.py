"""totals body hash: each stored total names its body, so readers re-read only what changed

`totalsaggregate.body_hash` is a BLAKE2b digest (16 bytes, hex) of `body`, written with it by every
write's unit of work. A worker keeps the bodies it has read by their hash: after a write, GET
totals reads the (operation, metric, hash) of every stored total and fetches only the bodies whose
hash it has not seen, instead of every body (megabytes at a million results).

Revision ID: e5a7b3c9d120
Revises: d4e9f6b2a013
Create Date: 2026-12-01 14:30:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'e5a7b3c9d120'
down_revision: str | None = 'd4e9f6b2a013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('totalsaggregate', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('body_hash', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default='')
        )
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT operation_key, metric_slug, body FROM totalsaggregate")).all()
    for key, metric, body in rows:
        digest = hashlib.blake2b(body.encode(), digest_size=16).hexdigest()
        conn.execute(
            sa.text("UPDATE totalsaggregate SET body_hash = :h WHERE operation_key = :k AND metric_slug = :m"),
            {"h": digest, "k": key, "m": metric},
        )


def downgrade() -> None:
    with op.batch_alter_table('totalsaggregate', schema=None) as batch_op:
        batch_op.drop_column('body_hash')
