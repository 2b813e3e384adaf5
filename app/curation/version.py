"""The data version: one row bumped inside every write transaction, read cheaply for ETags."""

from sqlalchemy import text, update
from sqlmodel import Session

from app.models import DataVersion
from app.models.tables import utcnow


def bump_data_version(*, session: Session) -> None:
    """Mark that the data changed; call inside the write's own transaction."""
    session.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)  # type: ignore[arg-type]
        .values(version=DataVersion.version + 1, updated_at=utcnow())
    )


def read_data_version(*, session: Session) -> int:
    """The current data version: a primary-key lookup of one row, never a scan."""
    value = session.execute(text("SELECT version FROM dataversion WHERE id = 1")).scalar()
    return int(value or 0)
