"""citable data: result revisions (answers `at=`), creation times of phases and links, quote selectors

Existing results get one revision, valid from their creation (the history before this migration is
in the audit log); phases and source links get the creation time of their earliest source; quote
prefix/suffix and number offsets are computed from each result's source text.

Revision ID: 7d3a1c9e2b60
Revises: 7e1f0c9a2b44
Create Date: 2026-12-01 09:20:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '7d3a1c9e2b60'
down_revision: str | None = '7e1f0c9a2b44'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTEXT = 32
STR = sqlmodel.sql.sqltypes.AutoString
TS = sqlmodel.sql.sqltypes.UTCDateTime


def _now() -> sa.BindParameter[datetime]:
    return sa.bindparam('now', value=datetime.now(UTC), type_=TS())


def _created_at(table: str, source_of: str) -> None:
    """Add created_at to a table, filled from its (earliest) source's creation time. It stays nullable in
    the schema (always set by the code): making it NOT NULL would rebuild the table on SQLite, which
    rows that reference it (foreign keys on) forbid."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', TS(), nullable=True))
    op.execute(sa.text(
        f'UPDATE {table} SET created_at = COALESCE(({source_of}), (SELECT MIN(created_at) FROM source), :now)'
    ).bindparams(_now()))


def _number_offsets(quote: str, number_text: str, value: float) -> int:
    """Where the result's number stands in its quote (the occurrence worth its value, else the first)."""
    try:
        from app.domain.text.numbers import find_numbers

        for m in find_numbers(quote):
            if m.text == number_text and m.value == Decimal(str(value)):
                return m.start
    except Exception:  # noqa: BLE001 - the plain search below is the fallback
        pass
    return max(0, quote.find(number_text))


def _selectors() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        'SELECT r.id, r.quote_start, r.quote_end, r.quote, r.number_text, r.value, s.text '
        'FROM result r JOIN source s ON s.id = r.source_id'
    )).all()
    for rid, start, end, quote, number_text, value, text in rows:
        n = start + _number_offsets(quote, number_text, value)
        conn.execute(
            sa.text('UPDATE result SET quote_prefix = :p, quote_suffix = :s, number_start = :ns, '
                    'number_end = :ne WHERE id = :id'),
            {'p': text[max(0, start - CONTEXT):start], 's': text[end:end + CONTEXT], 'ns': n,
             'ne': n + len(number_text), 'id': rid},
        )


def upgrade() -> None:
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quote_prefix', STR(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('quote_suffix', STR(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('number_start', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('number_end', sa.Integer(), nullable=False, server_default='0'))
    _selectors()  # the server defaults stay: dropping them would rebuild the table on SQLite
    _created_at('phase', 'SELECT MIN(s.created_at) FROM phasesource ps JOIN source s ON s.id = ps.source_id '
                         'WHERE ps.phase_slug = phase.slug')
    _created_at('phasesource', 'SELECT s.created_at FROM source s WHERE s.id = phasesource.source_id')
    _created_at('operationsource', 'SELECT s.created_at FROM source s WHERE s.id = operationsource.source_id')
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
        batch_op.create_index('ix_auditlog_at_id', ['at', 'id'], unique=False)
    op.create_table('resultrevision',
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('result_id', STR(length=64), nullable=False),
    sa.Column('valid_from', TS(), nullable=False),
    sa.Column('valid_to', TS(), nullable=True),
    sa.Column('operation_slug', STR(length=32), nullable=True),
    sa.Column('phase_slug', STR(length=100), nullable=True),
    sa.Column('metric_slug', STR(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', STR(length=16), nullable=False),
    sa.Column('number_text', STR(length=64), nullable=False),
    sa.Column('value_base', sa.Float(), nullable=False),
    sa.Column('base_unit', STR(length=16), nullable=False),
    sa.Column('qualifier', STR(length=16), nullable=False),
    sa.Column('scope', STR(length=16), nullable=False),
    sa.Column('country', STR(length=64), nullable=True),
    sa.Column('period_start', STR(length=10), nullable=True),
    sa.Column('period_end', STR(length=10), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('quote_start', sa.Integer(), nullable=False),
    sa.Column('quote_end', sa.Integer(), nullable=False),
    sa.Column('quote_prefix', STR(length=32), nullable=False),
    sa.Column('quote_suffix', STR(length=32), nullable=False),
    sa.Column('number_start', sa.Integer(), nullable=False),
    sa.Column('number_end', sa.Integer(), nullable=False),
    sa.Column('duplicate_of', STR(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('retracted', sa.Boolean(), nullable=False),
    sa.Column('retracted_reason', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', TS(), nullable=False),
    sa.Column('updated_at', TS(), nullable=False),
    sa.PrimaryKeyConstraint('revision_id', name=op.f('pk_resultrevision')),
    sa.UniqueConstraint('result_id', 'revision', name=op.f('uq_resultrevision_result_id_revision'))
    )
    with op.batch_alter_table('resultrevision', schema=None) as batch_op:
        batch_op.create_index('ix_resultrevision_valid', ['valid_from', 'valid_to'], unique=False)
        batch_op.create_index('ix_resultrevision_totals', ['operation_slug', 'metric_slug', 'scope', 'retracted'],
                              unique=False)
    columns = [c['name'] for c in sa.inspect(op.get_bind()).get_columns('result') if c['name'] != 'id']
    listed = ', '.join(columns)
    op.execute(f'INSERT INTO resultrevision (result_id, valid_from, valid_to, {listed}) '
               f'SELECT id, created_at, NULL, {listed} FROM result')


def downgrade() -> None:
    with op.batch_alter_table('resultrevision', schema=None) as batch_op:
        batch_op.drop_index('ix_resultrevision_totals')
        batch_op.drop_index('ix_resultrevision_valid')
    op.drop_table('resultrevision')
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.drop_index('ix_auditlog_at_id')
        batch_op.drop_column('version')
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 and PostgreSQL): a batch table rebuild would
    # DROP TABLE phase / result while other rows reference them, which SQLite's foreign keys refuse.
    for table in ('operationsource', 'phasesource', 'phase'):
        op.execute(f'ALTER TABLE {table} DROP COLUMN created_at')
    for name in ('number_end', 'number_start', 'quote_suffix', 'quote_prefix'):
        op.execute(f'ALTER TABLE result DROP COLUMN {name}')
