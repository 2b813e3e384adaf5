"""Engine and sessions; SQLite gets WAL and foreign keys so it behaves like the production engine."""

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.config import get_settings


def is_sqlite(url: str) -> bool:
    """True for the embedded engine."""
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Foreign keys on, WAL for concurrent readers, a busy timeout instead of 'database is locked'."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for `url` with the per-dialect settings this project relies on."""
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    size = get_settings().db_pool_size
    return create_engine(url, pool_size=size, max_overflow=size, pool_pre_ping=True)


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process."""
    return make_engine(url or get_settings().database_url)


def get_session() -> Iterator[Session]:
    """A request-scoped session (FastAPI dependency)."""
    with Session(get_engine()) as session:
        yield session
