"""A primary restarted under a full pool: the first request on a dead connection answers 503 with
Retry-After, and that first disconnect discards every pooled connection, so the next requests all
succeed (no 503 per stale connection, no 500).

A real PostgreSQL of the test's own (bench/postgres.py) on its own port, stopped with
`pg_ctl -m fast` (every session ended) and started again. The writes come first after the restart:
a GET would ask the version listener, which sees the restart and replaces the pool itself. The
control keeps the pool on a disconnect (what SQLAlchemy would do without `invalidate_pool_on_
disconnect`), to show the stale connections are there to be found.
"""

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, ExceptionContext
from sqlmodel import Session

from app import db as storage
from app.curation.keys import create_key
from app.models import KeyScope
from bench.postgres import PG_BIN, Postgres, available, owned, run
from tests.factories import IN_CI, SOURCE, app_with_env, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
POOLED = 6  # connections idle in the pool when the primary goes


@pytest.fixture(scope="module")
def primary() -> Iterator[Postgres]:
    """A migrated primary of this module's own."""
    if not available():
        if IN_CI:
            pytest.fail("PostgreSQL server binaries are missing (CI=true: this test is required)")
        pytest.skip("PostgreSQL server binaries are missing")
    root = owned(Path(tempfile.mkdtemp(prefix="opstats-restart-")))
    server = Postgres(root / "primary", free_port())
    try:
        server.init("fsync = off\n")
        server.start()
        run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "opstats")
        storage.upgrade(server.url())
        yield server
    finally:
        server.stop_quietly()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def client(primary: Postgres, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on the primary (its own pool, its own listener)."""
    with app_with_env(monkeypatch, DATABASE_URL=primary.url()) as c:
        yield c


def curator(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        _, key = create_key(session=session, name=f"c-{uuid.uuid4().hex[:6]}", scope=KeyScope.curator)
        session.commit()
    return {"Authorization": f"Bearer {key}"}


def fill_pool(engine: Engine) -> None:
    """POOLED connections opened at once, used and given back: idle in the pool."""
    conns = [engine.connect() for _ in range(POOLED)]
    for conn in conns:
        conn.execute(text("SELECT 1"))
    for conn in conns:
        conn.close()
    assert engine.pool.checkedin() >= POOLED  # type: ignore[attr-defined]


def writes_after_restart(client: TestClient, primary: Postgres) -> list[tuple[int, str | None]]:
    """The pool filled, the primary restarted, then POOLED writes one after another: their status
    and Retry-After."""
    engine = storage.get_engine()
    headers = curator(engine)
    fill_pool(engine)
    primary.stop("fast")
    primary.start()
    out = []
    for _ in range(POOLED):
        body = dict(SOURCE, title=f"restart {uuid.uuid4().hex}", text=SOURCE["text"] + uuid.uuid4().hex)
        r = client.post("/api/v1/sources", json=body, headers=headers)
        out.append((r.status_code, r.headers.get("retry-after")))
    return out


def keep_pool(ctx: ExceptionContext) -> None:
    ctx.invalidate_pool_on_disconnect = False


def test_the_first_disconnect_discards_the_whole_pool(client, primary):
    seen = writes_after_restart(client, primary)
    print(f"writes after the restart: {seen}")
    assert [status for status, _ in seen] == [503] + [201] * (POOLED - 1), seen
    assert seen[0][1], "503 without Retry-After"


def test_control_a_pool_kept_on_disconnect_fails_once_per_stale_connection(client, primary):
    event.listen(storage.get_engine(), "handle_error", keep_pool)
    seen = writes_after_restart(client, primary)
    print(f"writes after the restart, pool kept: {seen}")
    assert [status for status, _ in seen].count(503) > 1, seen
    assert {status for status, _ in seen} <= {201, 503}, seen
