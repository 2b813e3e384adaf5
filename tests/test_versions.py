"""The data version in microseconds: kept-connection reads that still see every commit at once."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app import db as storage
from app.config import get_settings
from app.db import get_engine, make_engine
from app.main import create_app
from app.versions import (
    LISTENER_NAME,
    DataState,
    PostgresVersion,
    QueryVersion,
    SqliteVersion,
    version_source,
)
from tests.factories import BUMP_SQL, DIRECT, SOURCE, cli_key, free_port, wait_healthy


def bump(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(BUMP_SQL))
    finally:
        engine.dispose()


def stored_version(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT version FROM dataversion WHERE id = 1")).scalar() or 0)
    finally:
        engine.dispose()


def version_of(state: DataState | None) -> int | None:
    return None if state is None else state.version


def migrated(fresh_db) -> str:
    storage.upgrade(fresh_db.url)
    return fresh_db.url


def test_sqlite_source_sees_each_commit_of_another_connection(fresh_db):
    url = migrated(fresh_db)
    source = version_source(url, lambda: -1)
    assert isinstance(source, SqliteVersion)
    first = version_of(source.peek())
    assert first == stored_version(url)
    assert version_of(source.peek()) == first  # unchanged: the kept connection answers without a new read
    bump(url)
    assert version_of(source.peek()) == first + 1  # at once: no polling interval
    source.close()


def test_sqlite_source_falls_back_before_the_schema_exists(tmp_path):
    state = DataState("e", 7, "")
    source = version_source(f"sqlite:///{tmp_path / 'empty.db'}", lambda: state)
    assert source.peek() is None and source.read() == state


def test_other_urls_read_by_query():
    state = DataState("e", 3, "")
    source = version_source("sqlite://", lambda: state)
    assert isinstance(source, QueryVersion) and source.peek() is None and source.read() == state


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("fresh_db", ["postgres"], indirect=True)
def test_postgres_listener_follows_bumps_and_survives_losing_its_connection(fresh_db):
    url = migrated(fresh_db)
    source = version_source(url, lambda: DataState("e", stored_version(url), ""))
    assert isinstance(source, PostgresVersion) and source.listening
    first = version_of(source.peek())
    assert first == stored_version(url)
    bump(url)
    assert _wait_for(lambda: version_of(source.peek()) == first + 1, timeout=1.0)
    engine = make_engine(url)
    with engine.begin() as conn:  # cut the listener off, as a server restart would
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": LISTENER_NAME},
        )
    engine.dispose()
    bump(url)
    assert _wait_for(lambda: version_of(source.peek()) in (None, first + 2))
    assert source.read().version == first + 2  # the fallback (a query) while the listener is down
    assert _wait_for(lambda: source.listening)
    bump(url)
    assert _wait_for(lambda: version_of(source.peek()) == first + 3)
    source.close()


@pytest.mark.parametrize("fresh_db", ["postgres"], indirect=True)
def test_a_committed_version_is_waited_for_until_the_listener_has_it(fresh_db, monkeypatch):
    """What a write's answer waits for: once `wait_for(v)` returns True, `peek()` (no I/O) says v,
    with no polling; a version nobody commits is given up on after ANNOUNCE_SECONDS."""
    url = migrated(fresh_db)
    source = version_source(url, lambda: DataState("e", stored_version(url), ""))
    assert isinstance(source, PostgresVersion)
    first = version_of(source.peek())
    assert first is not None
    for n in range(1, 21):
        bump(url)
        assert source.wait_for(first + n)
        assert version_of(source.peek()) == first + n
    monkeypatch.setattr("app.versions.ANNOUNCE_SECONDS", 0.2)
    started = time.monotonic()
    assert not source.wait_for(first + 100)
    assert 0.2 <= time.monotonic() - started < 1.0
    source.close()
    assert not source.wait_for(first + 21)  # no listener: the caller cannot count on it


def test_sqlite_and_query_sources_have_nothing_to_wait_for(fresh_db):
    url = migrated(fresh_db)
    source = version_source(url, lambda: DataState("e", 0, ""))
    assert isinstance(source, SqliteVersion) and source.wait_for(10**9)
    source.close()
    assert QueryVersion(lambda: DataState("e", 0, "")).wait_for(10**9)


@pytest.mark.parametrize("fresh_db", ["postgres"], indirect=True)
def test_a_server_restart_costs_no_request_an_error(fresh_db, monkeypatch):
    """Every connection of the app is cut, as a restart does: the listener sees it, the pool is
    replaced, and the next requests (which need the database) all answer 200, though the pool pings
    no connection before using it."""
    url = migrated(fresh_db)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            assert client.get("/api/v1/operations").status_code == 200
            assert app_connections(url) >= 2  # the listener and the pooled one
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            engine.dispose()
            assert _wait_for(lambda: app_connections(url) == 0)
            time.sleep(0.2)  # the listener's socket has the server's goodbye
            statuses = [client.get(f"/api/v1/results?limit={n}").status_code for n in range(1, 6)]
            assert statuses == [200] * 5
    finally:
        get_engine.cache_clear()
        get_settings.cache_clear()


def app_connections(url: str) -> int:
    """Connections to the test database other than the one asking."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = (
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return int(conn.execute(text(query)).scalar() or 0)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- two workers, one database


def _get(port: int, path: str) -> tuple[str, bytes]:
    """A GET on a new connection (so the kernel spreads them over both workers)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.headers["ETag"], r.read()


def _post(port: int, path: str, body: dict, key: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


@pytest.mark.slow
@pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)
def test_a_write_through_one_worker_is_seen_by_every_worker_at_once(fresh_db):
    env = dict(os.environ, DATABASE_URL=fresh_db.url)
    port = free_port()
    cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"]
    with ExitStack() as stack:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        stack.callback(proc.wait, 20)
        stack.callback(proc.terminate)
        wait_healthy(port, proc)
        key = cli_key(env, "w2")
        path = "/api/v1/operations/channel/totals"
        before = {_get(port, path) for _ in range(16)}  # both workers now hold it cached
        assert len(before) == 1
        listed = {_get(port, "/api/v1/sources?limit=500") for _ in range(16)}
        source = _post(port, "/api/v1/sources", SOURCE, key)
        for _ in range(16):  # a registry-only write: every worker lists it, and keeps its totals
            etag, body = _get(port, "/api/v1/sources?limit=500")
            assert (etag, body) not in listed and source["id"] in [s["id"] for s in json.loads(body)["items"]]
            assert _get(port, path) in before
        _post(port, "/api/v1/results", {**DIRECT, "source_id": source["id"]}, key)
        for _ in range(16):
            etag, body = _get(port, path)
            assert (etag, body) not in before
            firearms = next(m for m in json.loads(body)["metrics"] if m["metric"] == "firearms_seized")
            assert firearms["cumulative"]["value_base"] == 41
