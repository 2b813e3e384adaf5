"""DATABASE_URL through a transaction-mode pooler: no prepared statements on it, the listener on
DATABASE_LISTEN_URL (or none), a start lock that needs no session, sessions that close quietly on a
lost connection. The real PgBouncer is in tests/test_cluster.py (bench/cluster.py)."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import db as storage
from app.config import get_settings
from app.db import (
    engine_sessions,
    get_engine,
    is_pooled,
    listen_url,
    make_engine,
    pooling_notes,
    postgres_connect_args,
)
from app.main import create_app
from app.seeds.prepare import LOCK_KEY, startup_lock
from app.versions import PostgresVersion, QueryVersion

POOLED = "postgresql+psycopg://app@pooler:6432/opstats"
DIRECT = "postgresql+psycopg://app@primary:5432/opstats"


@pytest.fixture
def settings_env(monkeypatch) -> Iterator[pytest.MonkeyPatch]:
    """Environment changes seen by get_settings (and a fresh engine cache), undone after."""
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
    get_engine.cache_clear()


def configure(env: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        env.setenv(name, value)
    get_settings.cache_clear()


def test_only_the_pooled_url_loses_prepared_statements(settings_env):
    configure(settings_env, DATABASE_URL=POOLED, DATABASE_POOLER="transaction", DATABASE_LISTEN_URL=DIRECT)
    assert is_pooled(POOLED) and postgres_connect_args(POOLED) == {"prepare_threshold": None}
    assert not is_pooled(DIRECT) and postgres_connect_args(DIRECT) == {}
    assert listen_url() == DIRECT
    configure(settings_env, DATABASE_POOLER="none", DATABASE_LISTEN_URL="")
    assert not is_pooled(POOLED) and postgres_connect_args(POOLED) == {}
    assert listen_url() == POOLED and pooling_notes() == []


def test_a_pooled_url_without_a_direct_one_has_no_listener_and_says_so(settings_env):
    configure(settings_env, DATABASE_URL=POOLED, DATABASE_POOLER="transaction", DATABASE_LISTEN_URL="")
    assert listen_url() is None
    notes = " ".join(pooling_notes())
    assert "no DATABASE_LISTEN_URL" in notes and "every GET reads the version row" in notes
    configure(settings_env, DATABASE_LISTEN_URL=DIRECT)
    assert "listener on DATABASE_LISTEN_URL" in " ".join(pooling_notes())


def test_a_bad_pooler_mode_is_refused(settings_env):
    configure(settings_env, DATABASE_POOLER="statement")
    with pytest.raises(ValueError, match="database_pooler"):
        get_settings()


@pytest.mark.parametrize("fresh_db", ["postgres"], indirect=True)
def test_the_app_listens_on_the_direct_url_only(fresh_db, settings_env):
    storage.upgrade(fresh_db.url)
    pooled = make_url(fresh_db.url).set(query={"application_name": "via-pooler"})
    pooled_url = pooled.render_as_string(hide_password=False)
    configure(settings_env, DATABASE_URL=pooled_url, DATABASE_POOLER="transaction", DATABASE_LISTEN_URL="")
    assert isinstance(create_app().state.versions, QueryVersion)
    get_engine.cache_clear()
    configure(settings_env, DATABASE_LISTEN_URL=fresh_db.url)
    versions = create_app().state.versions
    try:
        assert isinstance(versions, PostgresVersion) and versions.listening
    finally:
        versions.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("fresh_db", ["postgres"], indirect=True)
def test_the_start_lock_is_a_transactions_and_leaves_nothing_behind(fresh_db):
    engine, other = make_engine(fresh_db.url), make_engine(fresh_db.url)
    try:
        with startup_lock(engine):
            assert not try_lock(other), "held while migrate and seed run"
        assert try_lock(other), "released with its transaction"
        with other.connect() as conn:
            held = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar()
        assert held == 0, "no session lock left on a server connection (a pooler would keep it)"
    finally:
        engine.dispose()
        other.dispose()


def try_lock(engine) -> bool:
    with engine.connect() as conn, conn.begin():
        return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}).scalar())


@pytest.mark.parametrize("fresh_db", ["postgres"], indirect=True)
def test_a_session_whose_connection_went_away_closes_quietly(fresh_db, caplog):
    """What a PgBouncer restart does between a read's answer and its session's closing ROLLBACK."""
    engine, admin = make_engine(fresh_db.url), make_engine(fresh_db.url)
    try:
        with engine_sessions(engine)() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
            with admin.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            threading.Event().wait(0.2)
        assert any("connection lost while closing" in r.getMessage() for r in caplog.records)
    finally:
        engine.dispose()
        admin.dispose()
