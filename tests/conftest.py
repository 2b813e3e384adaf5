"""Test fixtures: every API test runs on SQLite and PostgreSQL, each in a transaction rolled back.

PostgreSQL is taken from OPSTATS_TEST_PG_URL (default: the local server, database `test`'s
cluster). Locally a missing server skips those tests with a reason; with CI=true it fails.
"""

import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app import db as storage
from app.config import get_settings
from app.db import make_engine
from app.main import create_app
from app.seeds.load import seed_database

warnings.filterwarnings("ignore", message=".*httpx2.*")

PG_ADMIN_URL = os.environ.get("OPSTATS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["sqlite", "postgres"]


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"


def require_pg() -> None:
    """Skip (locally) or fail (in CI) when PostgreSQL is missing."""
    why = pg_available()
    if why is None:
        return
    if IN_CI:
        pytest.fail(f"{why} (CI=true: PostgreSQL is required)")
    pytest.skip(why)


class FreshDatabase:
    """An empty database of one backend, dropped afterwards."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp / f'opstats-{uuid.uuid4().hex[:8]}.db'}"
            return
        require_pg()
        self.name = f"opstats_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.url = make_url(PG_ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        """Remove the database (PostgreSQL); SQLite files go with tmp_path."""
        if self.backend != "postgres":
            return
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FreshDatabase]:
    """An empty database; parametrize indirectly with 'sqlite' or 'postgres'."""
    db = FreshDatabase(getattr(request, "param", "sqlite"), tmp_path)
    yield db
    db.drop()


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated and seeded database per backend for the whole run (tests roll back)."""
    db = FreshDatabase(request.param, tmp_path_factory.mktemp(request.param))
    storage.upgrade(db.url)
    engine = make_engine(db.url)
    seed_database(engine=engine, root=get_settings().seeds_dir)
    yield engine
    engine.dispose()
    db.drop()


@pytest.fixture
def session(seeded_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test; commits become savepoints."""
    conn = seeded_engine.connect()
    trans = conn.begin()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN")  # pysqlite defers BEGIN: open the outer transaction for real
    s = Session(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield s
    finally:
        s.close()
        trans.rollback()
        conn.close()


@pytest.fixture
def app(session: Session) -> FastAPI:
    """A fresh app (empty caches) whose requests all use the test's session."""

    @contextmanager
    def the_tests_session() -> Iterator[Session]:
        yield session

    return create_app(the_tests_session)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """httpx against the ASGI app."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def backend(seeded_engine: Engine) -> str:
    """Which engine the test runs on."""
    return seeded_engine.dialect.name
