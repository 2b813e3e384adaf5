"""a source's language, and where a web page came from

`language` (BCP 47) on every source: stored rows get the tag their text's script implies, as the
API detects it for a new source given no tag. `retrieved_at` and `raw_hash` (SHA-256 of the bytes
fetched or sent) keep a web page's provenance beside its `url`; both stay empty for plain text.

Revision ID: a4b8c2d6e913
Revises: f3c1d8a6b245
Create Date: 2026-12-07 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.domain.text.languages import detect_language

revision: str = 'a4b8c2d6e913'
down_revision: str | None = 'f3c1d8a6b245'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=35), nullable=False, server_default='en'))
        batch_op.add_column(sa.Column('retrieved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('raw_hash', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    source = sa.table('source', sa.column('id', sa.Integer), sa.column('text', sa.Text), sa.column('language'))
    for sid, text in conn.execute(sa.select(source.c.id, source.c.text)).all():
        tag = detect_language(text or '')
        if tag != 'en':
            conn.execute(sa.update(source).where(source.c.id == sid).values(language=tag))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both engines (SQLite >= 3.35): a batch copy of `source` would
    # drop the table results point at, which SQLite's foreign keys refuse.
    for column in ('raw_hash', 'retrieved_at', 'language'):
        op.execute(f'ALTER TABLE source DROP COLUMN {column}')
