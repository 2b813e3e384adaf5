"""asofidx: result's read indexes on resultrevision, each ending with the validity interval

An `at=` read is a temporal query over `resultrevision` (`valid_from <= at < valid_to`); with
only (valid_from, valid_to) and the totals index, a filtered or sorted page read and sorted every
revision of the filter. These mirror `result`'s indexes (result_id for id), with valid_from and
valid_to last, so a page's keys and its exact count come from one index, as the present's do.
The totals index gains the interval too (same name). Statistics refreshed afterwards.

Revision ID: 7c2e9a4d5b18
Revises: 7d3f9b2c5e18
Create Date: 2026-12-07 12:20:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '7c2e9a4d5b18'
down_revision: str | None = '7d3f9b2c5e18'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VALIDITY = ["valid_from", "valid_to"]
TOTALS = ["operation_slug", "metric_slug", "scope", "retracted"]
INDEXES = {
    "ix_resultrevision_retracted_valid": ["retracted", *VALIDITY],
    "ix_resultrevision_metric_valid": ["metric_slug", "retracted", *VALIDITY],
    "ix_resultrevision_retracted_id": ["retracted", "result_id", *VALIDITY],
    "ix_resultrevision_as_of": ["as_of", "result_id", *VALIDITY, "retracted"],
    "ix_resultrevision_value_base": ["value_base", "result_id", *VALIDITY, "retracted"],
    "ix_resultrevision_operation_metric_as_of": [
        "operation_slug", "metric_slug", "as_of", "retracted", "value_base", "value", "result_id", *VALIDITY
    ],
    "ix_resultrevision_metric_as_of": [
        "metric_slug", "as_of", "retracted", "value_base", "value", "result_id", *VALIDITY
    ],
    "ix_resultrevision_metric_value_base": [
        "metric_slug", "retracted", "value_base", "result_id", "operation_slug", "as_of", *VALIDITY
    ],
    "ix_resultrevision_phase_metric": ["phase_slug", "metric_slug", "scope", "retracted", "country", *VALIDITY],
    "ix_resultrevision_source": ["source_id", *VALIDITY],
}


def _analyze() -> None:
    """The planner's statistics of the table and its new indexes (bounded on SQLite)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit=400")
    op.execute("ANALYZE resultrevision")


def upgrade() -> None:
    op.drop_index("ix_resultrevision_totals", table_name="resultrevision")
    op.create_index("ix_resultrevision_totals", "resultrevision", [*TOTALS, *VALIDITY])
    for name, columns in INDEXES.items():
        op.create_index(name, "resultrevision", columns)
    _analyze()


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="resultrevision")
    op.drop_index("ix_resultrevision_totals", table_name="resultrevision")
    op.create_index("ix_resultrevision_totals", "resultrevision", TOTALS)
