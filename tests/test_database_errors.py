"""Database errors mapped narrowly: 503 only for what a client can retry, 409 only for lost races."""

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.http.problems import is_retryable, lost_race
from tests.factories import FreshDatabase


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """A scratch database with one table of a raced uniqueness and one of another."""
    db = FreshDatabase(request.param, tmp_path)
    eng = create_engine(db.url)
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE source (id INTEGER PRIMARY KEY, content_hash VARCHAR(64) UNIQUE)"))
        conn.execute(text("CREATE TABLE other (id INTEGER PRIMARY KEY, tag VARCHAR(8) UNIQUE)"))
        conn.execute(text("INSERT INTO source VALUES (1, 'a')"))
        conn.execute(text("INSERT INTO other VALUES (1, 'a')"))
    yield eng
    eng.dispose()
    db.drop()


def error_of(engine: Engine, sql: str) -> DBAPIError:
    """The wrapped error the statement raises."""
    with pytest.raises(DBAPIError) as info, engine.begin() as conn:
        conn.execute(text(sql))
    return info.value


def test_a_bug_is_neither_busy_nor_a_conflict(engine):
    """A missing column (SQLite's OperationalError too) is a 500, not "busy, retry"."""
    exc = error_of(engine, "SELECT nothing_here FROM source")
    assert not is_retryable(exc) and not lost_race(exc)


def test_a_raced_uniqueness_is_a_conflict_and_any_other_is_not(engine):
    """Only the constraints a concurrent write can win, by table and columns."""
    assert lost_race(error_of(engine, "INSERT INTO source VALUES (2, 'a')"))
    assert not lost_race(error_of(engine, "INSERT INTO other VALUES (2, 'a')"))
    assert not lost_race(error_of(engine, "INSERT INTO source VALUES (1, 'b')"))  # the primary key
    assert not is_retryable(error_of(engine, "INSERT INTO source VALUES (2, 'a')"))


def test_a_lock_wait_past_its_bound_is_retryable(engine):
    """SQLite's busy result code; PostgreSQL's lock_not_available (a lock_timeout)."""
    sqlite = engine.dialect.name == "sqlite"
    holder = engine.connect()
    try:
        if sqlite:
            holder.exec_driver_sql("BEGIN IMMEDIATE")
            eng = create_engine(engine.url, connect_args={"timeout": 0.01})
        else:
            holder.execute(text("SELECT 1 FROM source WHERE id = 1 FOR UPDATE"))
            eng = create_engine(engine.url, connect_args={"options": "-c lock_timeout=10"})
        try:
            sql = "INSERT INTO other VALUES (3, 'c')" if sqlite else "UPDATE source SET id = 1 WHERE id = 1"
            exc = error_of(eng, sql)
        finally:
            eng.dispose()
    finally:
        holder.rollback()
        holder.close()
    assert is_retryable(exc), exc


def test_a_server_out_of_reach_and_a_pool_timeout_are_retryable():
    """No server to connect to (no SQLSTATE: the client's own failure) and an exhausted pool."""
    eng = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    with pytest.raises(OperationalError) as info:
        eng.connect()
    eng.dispose()
    assert is_retryable(info.value)
    assert is_retryable(PoolTimeout("QueuePool limit reached"))
    assert not is_retryable(ValueError("not a database error"))


@pytest.mark.expected_500
def test_a_database_bug_in_a_route_is_a_logged_500_not_a_503(client, monkeypatch):
    """The route's statement fails for a reason no retry cures: a 500 problem, no Retry-After."""

    def broken(*, session, **_):
        session.execute(text("SELECT nothing_here FROM result"))

    monkeypatch.setattr("app.api.v1.phases.list_phases", broken)
    answer = client.get("/api/v1/phases")
    assert answer.status_code == 500 and "retry-after" not in answer.headers
    assert answer.headers["content-type"].startswith("application/problem+json")
