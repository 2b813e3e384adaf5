"""Shared test helpers: fresh databases, seeded sentences, sample sources, keys and figures."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from app import db as storage
from app.config import get_settings
from app.curation.keys import create_key
from app.curation.results import create_result, retract_row
from app.curation.unit_of_work import UnitOfWork
from app.curation.unit_of_work import finish as finish_write
from app.curation.verify import check_figure
from app.main import create_app
from app.models import KeyScope, Result, Source
from app.schemas.results import ResultBase
from app.writes import WriteContext

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("OPSTATS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


BUMP_SQL = "UPDATE dataversion SET version = version + 1, content_version = version + 1 WHERE id = 1"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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


REDIS_URL = os.environ.get("OPSTATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis() -> str:
    """The test Redis URL; skip (locally) or fail (in CI) when Redis does not answer a PING."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return REDIS_URL
    except redis.RedisError as exc:
        why = f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}"
    if IN_CI:
        pytest.fail(f"{why} (CI=true: Redis is required)")
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


CHANNEL_CENTER = "002_b2518f460fecc24b.txt"


STATEMENT_2023 = "004_fe582fb0e5078a95.txt"


DRUGS_SENTENCE = (
    "As a result of coordinated actions, about 11.4 tons of drugs were removed from illicit trafficking, "
    "more than 8.9 tons of opium, more than 1.8 tons of hashish, more than 221 kg of heroin, "
    "more than 127 kg of marijuana, more than 205 kg of drugs of synthetic origin."
)


CRIMES_SENTENCE = "784 drug crimes were revealed, about 4 thousand criminal cases were initiated."


def finish(uow: UnitOfWork) -> None:
    """What unit_of_work does before its commit: the hooks, one version bump, the stamped revisions."""
    uow.run_hooks()
    finish_write(uow)


def add_figure(session: Session, result_id: str, *, file: str = CHANNEL_CENTER, **fields: Any) -> Result:
    """A figure added through the write path (check_figure + create_result), in the test's transaction."""
    source = session.exec(select(Source).where(Source.file_name == file)).one()
    checked = check_figure(session=session, draft=ResultBase(**fields), source=source)
    uow = UnitOfWork(WriteContext(session, "test"))
    row = create_result(uow, checked, result_id=result_id)
    finish(uow)
    session.flush()  # not commit: on SQLite (pysqlite) releasing the test's savepoint would persist it
    return row


def retract(session: Session, result_id: str) -> None:
    """Retract a result through the write path."""
    row = session.get(Result, result_id)
    assert row is not None
    uow = UnitOfWork(WriteContext(session, "test"))
    retract_row(uow, row, reason="test")
    finish(uow)
    session.flush()


def retract_and_time(session: Session) -> None:
    """Seeded results with what a representation must write exactly: channel-center-2019-heroin
    retracted; -opium updated at a whole second (2026-01-02T03:04:05Z), -hashish one with 5 µs."""
    retract(session, "channel-center-2019-heroin")
    for result_id, micro in (("channel-center-2019-opium", 0), ("channel-center-2019-hashish", 5)):
        row = session.get(Result, result_id)
        assert row is not None
        row.updated_at = datetime(2026, 1, 2, 3, 4, 5, micro, tzinfo=UTC)
        session.add(row)
    session.flush()


def walk(client, url: str) -> list[dict]:
    """Every item from `url` to the last page, following next_cursor."""
    items: list[dict] = []
    cursor = None
    for _ in range(1000):
        r = client.get(f"{url}&cursor={quote(cursor)}" if cursor else url)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("no last page")


def all_results(client) -> list[dict]:
    return walk(client, "/api/v1/results?limit=500")


def ids(items: list[dict]) -> list[str]:
    return [i["id"] for i in items]


SAMPLE = """05.06.2025

Results of the international anti-drug operation "Channel - Harbour" announced in Astana

From 19 to 23 May 2025, the competent authorities of the CSTO member states carried out the \
international anti-drug operation "Channel - Harbour". Its coordination headquarters worked in \
Astana, Kazakhstan.

During the operation more than 1.4 tons of drugs were seized, among them about 640 kg of hashish and \
over 85 kg of heroin. 517 drug crimes were detected and 203 criminal cases were opened.

Officers also seized 41 firearms and about 1.2 thousand rounds of ammunition.

Back to the section
"""


SOURCE = {
    "text": SAMPLE,
    "title": "Channel - Harbour (test)",
    "publisher": "CSTO",
    "published_on": "2025-06-05",
}


PHASE = {
    "operation": "channel",
    "name": "Channel - Harbour",
    "start_date": "2025-05-19",
    "end_date": "2025-05-23",
    "headquarters": "Astana",
}


def bearer(session, scope: str = "curator", name: str | None = None) -> dict[str, str]:
    """A new key's Authorization header."""
    _, key = create_key(
        session=session, name=name or f"{scope}-{uuid.uuid4().hex[:6]}", scope=KeyScope(scope)
    )
    return {"Authorization": f"Bearer {key}"}


def add_source(client, cur) -> int:
    r = client.post("/api/v1/sources", json=SOURCE, headers=cur)
    assert r.status_code == 201, r.text
    return r.json()["id"]


CATALOG_GETS = [  # the catalog's versioned reads, keyed by the content version
    "/api/v1/operations",
    "/api/v1/operations/channel",
    "/api/v1/operations/channel/phases",
    "/api/v1/operations/channel/totals",
    "/api/v1/phases",
    "/api/v1/phases/channel-center-2019",
    "/api/v1/metrics",
]


DIRECT = {
    "operation": "channel",
    "scope": "cumulative",
    "metric": "firearms_seized",
    "value": 41,
    "unit": "count",
    "quote": "Officers also seized 41 firearms and about 1.2 thousand rounds of ammunition.",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server not ready in time")


def start(url: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def cli_key(env: dict[str, str], name: str) -> str:
    """A new curator key made by `opstats keys create` on the database of `env` (the clear key)."""
    made = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--name", name],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip().splitlines()[-1]


@contextmanager
def app_with_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[TestClient]:
    """A fresh app of its own engine and settings made from `env` (writes unlimited), then the
    engine disposed and both caches cleared."""
    for name, value in {"RATE_LIMIT_WRITES": "10000/minute", **env}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    storage.get_engine.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c
    storage.get_engine().dispose()
    storage.get_engine.cache_clear()
    get_settings.cache_clear()
