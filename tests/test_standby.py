"""Reads from a real streaming standby (DATABASE_READ_URL): from it once it has replayed the version
the app knows, from the primary before, and when it is down; never an older answer, never a 5xx.

Builds its own primary and standby (bench/standby.py) on their own ports; fails in CI when the
PostgreSQL server binaries are missing, skips locally."""

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import db as storage
from app.curation.keys import create_key
from app.models import KeyScope
from bench.standby import Topology, available, standby_topology
from tests.factories import IN_CI, SOURCE, app_with_env, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.standby]


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    """A migrated primary and its streaming standby, for this module."""
    if not available():
        if IN_CI:
            pytest.fail("PostgreSQL server binaries are missing (CI=true: the standby tests are required)")
        pytest.skip("PostgreSQL server binaries are missing")
    with standby_topology(free_port(), free_port()) as topo:
        storage.upgrade(topo.primary_url)
        topo.wait_replayed()  # the schema on the standby before any test reads it there
        yield topo


@pytest.fixture(scope="module")
def standby_engine(topology: Topology) -> Iterator[Engine]:
    """Autocommit connections to the standby, for the test's own checks and controls."""
    engine = create_engine(topology.standby_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def client(topology: Topology, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on the primary, reading from the standby."""
    env = {"DATABASE_URL": topology.primary_url, "DATABASE_READ_URL": topology.standby_url}
    with app_with_env(monkeypatch, **env) as c:
        yield c


def curator() -> dict[str, str]:
    """A committed curator key on the primary."""
    with Session(storage.get_engine()) as session:
        _, key = create_key(session=session, name=f"c-{uuid.uuid4().hex[:6]}", scope=KeyScope.curator)
        session.commit()
    return {"Authorization": f"Bearer {key}"}


def write(client: TestClient, headers: dict[str, str]) -> None:
    """A new source through the app (a new data version)."""
    body = dict(SOURCE, title=f"standby {uuid.uuid4().hex}", text=SOURCE["text"] + uuid.uuid4().hex)
    r = client.post("/api/v1/sources", json=body, headers=headers)
    assert r.status_code == 201, r.text


def standby_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT version FROM dataversion WHERE id = 1")).scalar_one())


def replayed(engine: Engine, version: int, timeout: float = 20.0) -> float:
    """Seconds until the standby has replayed `version`."""
    start = time.monotonic()
    while standby_version(engine) < version:
        assert time.monotonic() - start < timeout, "the standby did not replay in time"
        time.sleep(0.01)
    return time.monotonic() - start


def read(client: TestClient, floor: int) -> int:
    """A GET of the sources: 200, at a version no lower than `floor`; its Data-Version."""
    r = client.get("/api/v1/sources", params={"limit": 5})
    assert r.status_code == 200, r.text
    version = int(r.headers["data-version"])
    assert version >= floor, (version, floor)
    return version


def test_a_write_is_read_from_the_standby_once_replayed(client, standby_engine):
    replica = client.app.state.replica
    cur = curator()
    write(client, cur)
    known = read(client, 0)
    lag = replayed(standby_engine, known)
    used = replica.stats.used
    write(client, cur)
    after = read(client, known + 1)  # a cache miss at the new version
    replayed(standby_engine, after)
    client.get("/api/v1/sources", params={"limit": 6})  # another query at that version
    assert replica.stats.used > used, replica.stats
    print(f"standby replayed a write in {lag * 1000:.1f} ms")


def test_a_lagging_standby_is_passed_over_for_the_primary(client, standby_engine):
    replica = client.app.state.replica
    cur = curator()
    write(client, cur)
    seen = read(client, 0)
    replayed(standby_engine, seen)
    with standby_engine.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
    try:
        used, lagging = replica.stats.used, replica.stats.lagging
        for _ in range(3):
            write(client, cur)
            seen = read(client, seen + 1)  # the new version, so from the primary
        assert standby_version(standby_engine) < seen
        assert replica.stats.used == used and replica.stats.lagging > lagging, replica.stats
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        standby = ready.json()["standby"]
        assert standby["state"] == "paused" and standby["lag_versions"] >= 3, standby
        print(f"paused standby: {standby}")
    finally:
        with standby_engine.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
    replayed(standby_engine, seen)
    assert client.get("/readyz").json()["standby"]["lag_versions"] == 0


def test_a_dead_standby_moves_reads_to_the_primary(client, topology, standby_engine):
    cur = curator()
    seen = read(client, 0)
    statuses: list[int] = []
    try:
        for i in range(12):
            if i == 4:
                topology.stop_standby("immediate")
            write(client, cur)
            seen = read(client, seen + 1)
            statuses.append(client.get("/api/v1/sources", params={"limit": 7}).status_code)
        assert set(statuses) == {200}, statuses
        assert client.app.state.replica.stats.failed >= 1
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "degraded" and ready.json()["standby"]["state"] == "down"
    finally:
        topology.start_standby()
        standby_engine.dispose()
    replayed(standby_engine, seen, timeout=60)


def test_a_standby_lost_under_a_read_is_read_again_from_the_primary(client, standby_engine):
    """The app's standby connection is terminated after its version check, before its query: the
    GET still answers 200, read again from the primary, and the standby is marked down."""
    replica = client.app.state.replica
    cur = curator()
    write(client, cur)
    known = read(client, 0)
    replayed(standby_engine, known)
    killed: list[int] = []

    def terminate_before_the_query(conn, _cursor, statement, *_args) -> None:
        if killed or "dataversion" in statement:
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with standby_engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed.append(pid)

    before = dict(replica.stats.counts())
    event.listen(replica.engine, "before_cursor_execute", terminate_before_the_query)
    try:
        r = client.get("/api/v1/sources", params={"limit": 9})
    finally:
        event.remove(replica.engine, "before_cursor_execute", terminate_before_the_query)
    assert killed, "the standby was not read"
    assert r.status_code == 200, r.text
    assert int(r.headers["data-version"]) == known
    after = replica.stats.counts()
    assert after["read_again"] == before["read_again"] + 1, (before, after)
    assert after["standby"] == before["standby"] + 1, (before, after)
    metrics = client.get("/metrics").text
    assert f'opstats_standby_reads_total{{outcome="read_again"}} {float(after["read_again"])}' in metrics
