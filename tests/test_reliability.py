"""Concurrent writers and SIGKILL rounds on real servers (short versions of bench/writers.py and
bench/crash.py), and one connection per request on a pool of one."""

import asyncio
import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app import db as storage
from app.config import get_settings
from app.db import make_engine
from app.http.edge.writes import WriteSlots
from app.main import create_app
from app.writes import WriteContext
from bench import crash, writers
from tests.factories import SOURCE, bearer, require_pg


def _backend(name: str) -> None:
    if name == "postgres":
        require_pg()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_writers_get_no_5xx(backend, tmp_path):
    _backend(backend)
    figures = writers.run(backend, writes=64, clients=32, tmp=tmp_path)
    assert figures["ok"], figures
    assert figures["statuses"] == {201: 64} and figures["stored"] == 64


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_sigkill_loses_and_duplicates_nothing(backend, tmp_path):
    _backend(backend)
    summary = crash.run(backend, rounds=1, writes=60, clients=16, tmp=tmp_path)
    assert summary["ok"], summary
    assert summary["writes_verified"] == 60


@pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)
def test_a_keyed_write_needs_one_connection(fresh_db, monkeypatch):
    """On a pool of one connection (no overflow) a keyed write, its key check, its idempotency record
    and its replay all succeed: no request holds a second connection."""
    monkeypatch.setenv("DB_POOL_SIZE", "1")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("DB_POOL_TIMEOUT", "2")
    get_settings.cache_clear()
    try:
        storage.upgrade(fresh_db.url)
        engine = make_engine(fresh_db.url)
        assert engine.pool.size() == 1  # type: ignore[attr-defined]

        @contextmanager
        def sessions() -> Iterator[Session]:
            with Session(engine) as s:
                yield s

        with Session(engine) as s:
            auth = bearer(s)
            s.commit()
        with TestClient(create_app(sessions), raise_server_exceptions=False) as c:
            h = {**auth, "Idempotency-Key": "one-connection"}
            first = c.post("/api/v1/sources", json=SOURCE, headers=h)
            assert first.status_code == 201, first.text
            again = c.post("/api/v1/sources", json=SOURCE, headers=h)
            assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
            assert c.get("/api/v1/sources").json()["total"] == 1
        engine.dispose()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("kib", [None, 300])
def test_sqlite_connections_keep_a_bounded_page_cache(tmp_path, monkeypatch, kib):
    """Every pooled SQLite connection's page cache is SQLITE_CACHE_KIB (default 256 KiB), so a server's
    memory grows by at most pool x that as the database grows."""
    if kib is not None:
        monkeypatch.setenv("SQLITE_CACHE_KIB", str(kib))
    get_settings.cache_clear()
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
        with engine.connect() as one, engine.connect() as two:
            for conn in (one, two):
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -(kib or 256)
        engine.dispose()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("path", ["/api/v1/operations", "/api/v1/results?at=2026-01-01T00:00:00Z"])
def test_a_data_version_that_cannot_be_read_is_a_503_not_a_500(app, monkeypatch, path):
    """The version is read before any route runs (no route's handlers there): a database that went
    away, or no connection free in time, answers 503 with Retry-After."""

    def gone() -> None:
        raise OperationalError("SELECT version", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(app.state.versions, "_read", gone)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get(path)
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "1" and r.headers["content-type"] == "application/problem+json"


def test_the_objects_made_at_startup_are_frozen_while_the_app_serves(app):
    """A full collection walks only what requests made, not the app's startup heap (a ~90 ms pause
    for every request in flight, measured at 1M results); the objects are given back at shutdown."""
    gc.unfreeze()
    with TestClient(app) as c:
        assert gc.get_freeze_count() > 50_000
        assert c.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 50_000
    assert gc.get_freeze_count() == 0


def test_a_commit_that_finds_the_database_busy_is_a_503_and_writes_nothing(client, session, monkeypatch):
    """The write route commits in its own hop; a busy database there is a 503 with Retry-After."""
    headers = {**bearer(session), "Idempotency-Key": "busy-at-commit"}
    real = WriteContext.commit

    def busy(self: WriteContext, answer: object = None) -> int | None:
        if self.edge_commits:
            self.rollback()
            raise OperationalError("COMMIT", {}, Exception("database is locked"))
        return real(self, answer)

    monkeypatch.setattr(WriteContext, "commit", busy)
    before = client.get("/api/v1/sources").json()["total"]
    answer = client.post("/api/v1/sources", json=SOURCE, headers=headers)
    assert answer.status_code == 503 and answer.headers["retry-after"]
    assert answer.headers["content-type"].startswith("application/problem+json")
    monkeypatch.setattr(WriteContext, "commit", real)
    assert client.get("/api/v1/sources").json()["total"] == before
    again = client.post("/api/v1/sources", json=SOURCE, headers=headers)  # the key was not kept
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers


def test_a_read_arriving_while_a_write_runs_waits_for_it_boundedly() -> None:
    """Writes first: a read waits while a write holds its slot, and no longer than the pause."""

    async def scenario() -> tuple[bool, bool, float]:
        slots = WriteSlots(1, timeout=1.0, read_pause=0.5)
        assert await slots.acquire()
        read = asyncio.ensure_future(slots.yield_to_writes())
        await asyncio.sleep(0.05)
        waited = not read.done()
        slots.release()
        await asyncio.sleep(0.01)
        released = read.done()
        assert await slots.acquire()  # a write that never ends: the read goes on after the pause
        start = time.monotonic()
        await slots.yield_to_writes()
        return waited, released, time.monotonic() - start

    waited, released, paused = asyncio.run(scenario())
    assert waited and released and 0.45 <= paused < 1.0
    idle = WriteSlots(1, timeout=1.0, read_pause=0.5)
    start = time.monotonic()
    asyncio.run(idle.yield_to_writes())  # no write running: no wait
    assert time.monotonic() - start < 0.05
