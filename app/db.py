"""Engine, sessions and migrations: the storage every capability shares (writes: app/writes.py).

SQLite gets WAL and foreign keys so it behaves like the production engine; Alembic is driven from
code so `opstats db ...`, `serve` and the tests migrate the same way.
"""

import logging
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
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from app.config import get_settings
from app.quote_index import refresh_sqlite_statistics, register_fold

log = logging.getLogger("opstats")
SessionScope = Callable[[], AbstractContextManager[Session]]


def is_sqlite(url: str) -> bool:
    """True for the embedded engine."""
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Foreign keys on, WAL for concurrent readers, a bounded busy wait (then 503) instead of 'locked',
    and a bounded page cache: each pooled connection keeps its own, so their sum grows with the pool;
    `quote_fold`, the quote index's case folding, for checking a quote search's candidates."""
    settings = get_settings()
    busy_ms = int(settings.write_lock_timeout * 1000)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.execute(f"PRAGMA cache_size=-{max(64, settings.sqlite_cache_kib)}")
    cur.close()
    register_fold(dbapi_conn)


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
    # No ping before each checkout (a round trip each, on every write: bench/RESULTS.md): the
    # app's version listener sees a restart and replaces the pool
    # (app/versions.py); elsewhere a dead connection fails its one request (503 in the app) and
    # SQLAlchemy then discards every connection made before it.
    return create_engine(url, connect_args=postgres_connect_args(url), **pool_options(url))


def is_pooled(url: str) -> bool:
    """True when `url` goes through a transaction-mode pooler: DATABASE_POOLER=transaction and it is
    not the direct DATABASE_LISTEN_URL."""
    settings = get_settings()
    return settings.database_pooler == "transaction" and url != settings.database_listen_url


def postgres_connect_args(url: str) -> dict[str, Any]:
    """psycopg's options for `url`: through a transaction-mode pooler, no server-side prepared
    statements (psycopg prepares a query after its 5th run on a connection; the next transaction
    may land on another server connection: DuplicatePreparedStatement or "does not exist").
    Direct connections keep them: planning each query again costs (bench/RESULTS-cluster.md)."""
    return {"prepare_threshold": None} if is_pooled(url) else {}


def listen_url() -> str | None:
    """Where the data-version listener and other session-scoped features connect: DATABASE_LISTEN_URL,
    else DATABASE_URL unless it is pooled (then None: no listener)."""
    settings = get_settings()
    if settings.database_listen_url:
        return settings.database_listen_url
    return None if is_pooled(settings.database_url) else settings.database_url


def pooling_notes() -> list[str]:
    """What `opstats serve` says at start about a pooled DATABASE_URL: what falls back without a
    direct URL, and what the direct URL is used for."""
    settings = get_settings()
    if settings.database_pooler != "transaction" or is_sqlite(settings.database_url):
        return []
    notes = [
        f"DATABASE_URL {describe(settings.database_url)} is pooled (transaction mode): no prepared statements"
    ]
    if settings.database_listen_url:
        notes.append(f"data-version listener on DATABASE_LISTEN_URL {describe(settings.database_listen_url)}")
    else:
        notes.append(
            "no DATABASE_LISTEN_URL: no data-version listener (LISTEN needs a direct connection);"
            " every GET reads the version row instead (one query more per request)"
        )
    return notes


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
    bounded cost at any size; and the quote search's trigram statistics, made afresh when the results
    grew or shrank by a tenth since (app/quote_index.py). Nothing to do on PostgreSQL, whose
    ANALYZE and autovacuum keep both."""
    if not is_sqlite(str(engine.url)):
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        conn.exec_driver_sql("ANALYZE")
        refresh_sqlite_statistics(conn)


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process."""
    return make_engine(url or get_settings().database_url)


def engine_sessions(engine: Engine | None = None) -> SessionScope:
    """The session scope production uses: a new session on the (configured) engine each time."""

    @contextmanager
    def scope() -> Iterator[Session]:
        session = Session(engine or get_engine())
        try:
            yield session
        finally:
            close_quietly(session)

    return scope


def close_quietly(session: Session) -> None:
    """Close `session`; a connection found gone by the closing ROLLBACK is not an error (the server
    rolled it back; SQLAlchemy has discarded it): a read's answer may already be on its way, and a
    write's outcome was decided by its COMMIT (a PgBouncer or server restart between the two)."""
    try:
        session.close()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("connection lost while closing a session: %s", type(exc.orig).__name__)


def describe(url: str) -> str:
    """A URL safe to print (password hidden)."""
    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------- migrations


# What the quote index's migrations (4b8e2d7f1a90, 8c1f5e2a7d34, 9a2d4c6e8f10, c5e1a7f3b9d2) make
# outside the models, which cannot describe them: SQLite's FTS5 tables with their shadow tables, its
# trigram statistics and the index of retracted results; PostgreSQL's pg_trgm GIN index and its GIN
# indexes of quote_grams(quote) and quote_metric_grams(metric_slug, quote).
QUOTE_INDEX_OBJECTS = frozenset(
    {"result_quote_fts", "ix_result_quote_trgm", "result_quote_trigram", "result_quote_vocab"}
    | {"ix_result_quote_grams", "ix_result_quote_metric_grams", "result_quote_by_metric"}
    | {f"result_quote_by_metric_{shadow}" for shadow in ("data", "idx", "config")}
    | {"ix_result_retracted", "ix_result_quote_last", "ix_result_quote_second_last"}
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
