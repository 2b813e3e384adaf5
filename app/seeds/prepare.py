"""Preparing a database before serving: migrate and seed once, even when two servers start at once."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import db as storage
from app.config import get_settings
from app.curation.totals import recompute_all_totals
from app.curation.unit_of_work import unit_of_work
from app.db import is_sqlite, make_engine, refresh_statistics
from app.progress import SILENT, Progress
from app.read.aggregates import totals_built
from app.seeds.load import SeedReport, is_empty, seed_database
from app.writes import WriteContext

LOCK_KEY = 0x0F57A75  # pg_advisory_xact_lock key shared by every opstats process


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrate+seed across processes: an advisory lock (PostgreSQL) or a file lock (SQLite)."""
    url = engine.url
    if is_sqlite(str(url)):
        db = url.database or ""
        lock_path = Path(db + ".lock") if db and db != ":memory:" else None
        if lock_path is None:
            yield
            return
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    # A transaction-scoped lock, held by a transaction left open while another connection migrates
    # and seeds: it needs no session state, so it holds through a transaction-mode pooler too
    # (a session lock would stay on whichever server connection took it).
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        yield


def prepare_database(url: str | None = None, *, seed_if_empty: bool = True) -> SeedReport | None:
    """Migrate to head and, on an empty database, load seeds/; then planner statistics (SQLite); safe
    to run concurrently."""
    url = url or get_settings().database_url
    engine = make_engine(url)
    try:
        with startup_lock(engine):
            storage.upgrade(url)
            report = _seed_or_repair(engine) if seed_if_empty else None
            refresh_statistics(engine)
            return report
    finally:
        engine.dispose()


def _seed_or_repair(engine: Engine) -> SeedReport | None:
    """Seeds on an empty database; otherwise stale maintained totals rebuilt."""
    with Session(engine) as session:
        empty = is_empty(session=session)
    if empty:
        return seed_database(engine=engine, root=get_settings().seeds_dir)
    ensure_aggregates(engine)
    return None


def recompute_stored_totals(
    engine: Engine, actor: str = "opstats db rebuild-aggregates", progress: Progress = SILENT
) -> int:
    """Recompute every maintained total from the results in one audited write (a version bump)."""
    with Session(engine) as session, unit_of_work(WriteContext(session, actor)) as uow:
        count = recompute_all_totals(session=session, instant=uow.instant, progress=progress)
        uow.record("rebuild", "aggregates", "totals", after={"entries": count})
        return count


def ensure_aggregates(engine: Engine) -> int | None:
    """Rebuild the maintained totals when a bulk load left them stale; how many, or None when fine."""
    with Session(engine) as session:
        if totals_built(session=session):
            return None
    return recompute_stored_totals(engine, actor="opstats serve")
