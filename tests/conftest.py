"""Test fixtures: every API test runs on SQLite and PostgreSQL, each in a transaction rolled back.

PostgreSQL is taken from OPSTATS_TEST_PG_URL (default: the local server, database `test`'s
cluster). Locally a missing server skips those tests with a reason; with CI=true it fails.
"""

import logging
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import db as storage
from app.config import get_settings
from app.db import make_engine
from app.main import create_app
from app.seeds.load import seed_database
from tests.factories import FreshDatabase

warnings.filterwarnings("ignore", message=".*httpx2.*")

BACKENDS = ["sqlite", "postgres"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `postgres` every test run on PostgreSQL (any parameter "postgres": the seeded engine, a
    fresh database, a backend) and `browser` every test that drives Chromium, so that
    `-m "not postgres and not browser"` (make test-fast) selects the rest."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and any(v == "postgres" for v in callspec.params.values()):
            item.add_marker(pytest.mark.postgres)
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def no_lookup_leaves_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every host a page fetch resolves is 127.0.0.1 in tests: no DNS query or fetch goes out, and
    with FETCH_ALLOW_PRIVATE unset every generated URL is refused as not public."""
    real = socket.getaddrinfo

    def loopback(_host: str, port: object, *args: object, **kwargs: object) -> object:
        return real("127.0.0.1", port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("app.curation.pages.socket.getaddrinfo", loopback)


class _Unhandled(logging.Handler):
    """Collects the 500s the app logs (app/http/problems.py: `_on_crash`)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("unhandled error"):
            self.seen.append(self.format(record))


@pytest.fixture(autouse=True)
def no_unexpected_500(request: pytest.FixtureRequest) -> Iterator[None]:
    """Any 500 an app answers in a test fails it (with the traceback), unless the test injects the
    crash itself (`@pytest.mark.expected_500`): a bug never passes for load or for a refusal."""
    handler = _Unhandled()
    logger = logging.getLogger("opstats")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.seen and request.node.get_closest_marker("expected_500") is None:
        pytest.fail("the app answered 500:\n" + "\n".join(handler.seen), pytrace=False)


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
