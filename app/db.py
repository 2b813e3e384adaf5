"""Engine, sessions and migrations: the storage every capability shares (writes: app/writes.py).

SQLite gets WAL and foreign keys so it behaves like the production engine; Alembic is driven from
code so `opstats db ...`, `serve` and the tests migrate the same way.
"""

import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from app.config import get_settings

SessionScope = Callable[[], AbstractContextManager[Session]]


def is_sqlite(url: str) -> bool:
    """True for the embedded engine."""
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Foreign keys on, WAL for concurrent readers, a bounded busy wait (then 503) instead of 'locked',
    and a bounded page cache: each pooled connection keeps its own, so their sum grows with the pool."""
    settings = get_settings()
    busy_ms = int(settings.write_lock_timeout * 1000)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.execute(f"PRAGMA cache_size=-{max(64, settings.sqlite_cache_kib)}")
    cur.close()


def pool_options(url: str) -> dict[str, Any]:
    """Pool size, overflow and checkout timeout from the settings, for both engines (file SQLite too)."""
    if is_sqlite(url) and (url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url):
        return {}  # an in-memory database lives in one connection: no pool to size
    settings = get_settings()
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
    }


def make_engine(url: str) -> Engine:
    """An engine for `url` with the per-dialect settings this project relies on."""
    settings = get_settings()
    if is_sqlite(url):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": settings.write_lock_timeout},
            **pool_options(url),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No ping before each checkout (a round trip each: a keyed write went from p50 24 to 20 ms
    # here, bench/RESULTS.md): the app's version listener sees a restart and replaces the pool
    # (app/versions.py); elsewhere a dead connection fails its one request (503 in the app) and
    # SQLAlchemy then discards every connection made before it.
    return create_engine(url, **pool_options(url))


def make_read_engine(url: str, timeout: float) -> Engine:
    """An engine on a read-only standby that gives up fast (connect and statement timeout), so a
    slow or dead standby costs a request `timeout` at most before it reads from the primary."""
    connect = max(1, math.ceil(timeout))  # libpq's connect_timeout is whole seconds
    options = f"-c statement_timeout={max(1, int(timeout * 1000))}"
    return create_engine(  # one snapshot per session: the version row checked is the data read
        url,
        connect_args={"connect_timeout": connect, "options": options},
        isolation_level="REPEATABLE READ",
        **pool_options(url),
    )


ANALYSIS_LIMIT = 400  # rows ANALYZE reads per index: the limit SQLite's ANALYZE documentation suggests


def refresh_statistics(engine: Engine) -> None:
    """Give SQLite's planner row counts, as PostgreSQL's autovacuum keeps them: without any, it answers
    a metric's one-year page sorted by value by walking the whole metric in value order (1M results:
    ~10,000 index entries for 100 rows, instead of one year's ~2,500). A bounded ANALYZE: a few
    bounded cost at any size. Nothing to do on PostgreSQL."""
    if not is_sqlite(str(engine.url)):
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        conn.exec_driver_sql("ANALYZE")


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process."""
    return make_engine(url or get_settings().database_url)


def engine_sessions(engine: Engine | None = None) -> SessionScope:
    """The session scope production uses: a new session on the (configured) engine each time."""

    @contextmanager
    def scope() -> Iterator[Session]:
        with Session(engine or get_engine()) as session:
            yield session

    return scope


def describe(url: str) -> str:
    """A URL safe to print (password hidden)."""
    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------- migrations


# What the quote index's migration (4b8e2d7f1a90) makes outside the models, which cannot describe
# them: SQLite's FTS5 table with its shadow tables, PostgreSQL's pg_trgm GIN index.
QUOTE_INDEX_OBJECTS = frozenset(
    {"result_quote_fts", "ix_result_quote_trgm"}
    | {f"result_quote_fts_{shadow}" for shadow in ("data", "idx", "docsize", "config")}
)


def modelled(_object: object, name: str | None, *_: object) -> bool:
    """Autogenerate's `include_object`: leave out the quote index, which no model describes."""
    return name not in QUOTE_INDEX_OBJECTS


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at this project's migrations and `url`."""
    settings = get_settings()
    cfg = Config()
    cfg.set_main_option("script_location", str(settings.migrations_dir))
    cfg.set_main_option("sqlalchemy.url", (url or settings.database_url).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s_%%(rev)s")
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Migrate the database down to `revision`."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    """The newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    """True when the database schema is the one this code expects."""
    return current_revision(engine) == head_revision()
