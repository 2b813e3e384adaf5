"""`opstats seed --check`: the whole load, run on a throwaway in-memory database and discarded."""

from pathlib import Path

from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from app.curation.unit_of_work import UnitOfWork
from app.db import alembic_config
from app.progress import SILENT, Progress
from app.seeds.load import ACTOR, SeedReport, apply_seeds
from app.writes import WriteContext


def check_seeds(*, root: Path, progress: Progress = SILENT) -> SeedReport:
    """Validate every seed file and figure exactly as a real load would, writing nothing anywhere."""
    from alembic import command

    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with engine.connect() as conn:
            cfg = alembic_config("sqlite://")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
        with Session(engine) as session:
            report = apply_seeds(
                uow=UnitOfWork(WriteContext(session, ACTOR)), root=root, progress=progress
            )  # never committed
            session.rollback()
        return report
    finally:
        engine.dispose()
