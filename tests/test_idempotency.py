"""Idempotency-Key on POST: replays, conflicts, failures, expiry, and 20 concurrent duplicates."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app import db as storage
from app.curation.keys import create_key
from app.db import make_engine
from app.models import IdempotencyRecord, KeyScope, Result, Source
from app.models.tables import utcnow
from tests.factories import DIRECT, SAMPLE, SOURCE, add_source

ROOT = Path(__file__).resolve().parents[1]
LOG: list[Path] = []


@pytest.fixture
def key(session):
    _, k = create_key(session=session, name=f"idem-{uuid.uuid4().hex[:6]}", scope=KeyScope.curator)
    return {"Authorization": f"Bearer {k}"}


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_replay_returns_the_first_response_and_creates_nothing(client, session, key):
    h = {**key, "Idempotency-Key": "k-1"}
    body = {**SOURCE, "text": SAMPLE + "\nreplay"}
    first = client.post("/api/v1/sources", json=body, headers=h)
    assert first.status_code == 201, first.text
    n = count(session, Source)
    reordered = dict(reversed(list(body.items())))  # same JSON meaning, other key order
    again = client.post("/api/v1/sources", json=reordered, headers=h)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert count(session, Source) == n
    other = client.post("/api/v1/sources", json={**body, "title": "other"}, headers=h)
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
    elsewhere = client.post("/api/v1/phases", json={"operation": "channel", "name": "Z"}, headers=h)
    assert elsewhere.status_code == 422, "the same key on another path is another request"


def test_replayed_accept_creates_one_result(client, session, key):
    sid = add_source(client, key)
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=key).json()["items"]
    cid = next(c["id"] for c in cands if c["number_text"] == "203")
    h = {**key, "Idempotency-Key": "accept-203"}
    body = {"operation": "channel", "scope": "cumulative", "metric": "criminal_cases_opened"}
    n = count(session, Result)
    first = client.post(f"/api/v1/candidates/{cid}/accept", json=body, headers=h)
    again = client.post(f"/api/v1/candidates/{cid}/accept", json=body, headers=h)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json()["id"] == first.json()["id"] and count(session, Result) == n + 1
    assert client.post(f"/api/v1/candidates/{cid}/accept", json=body, headers=key).status_code == 409


def test_no_in_flight_record_outlives_its_request(client, session, key):
    """Claims are only visible once committed with their answer: a record left unfinished (by a
    process of an older version) never answers 409 "in flight"; the retry performs the write."""
    actor = client.get("/api/v1/candidates").status_code and _actor(session, key)
    path = "/api/v1/sources"
    body = {**SOURCE, "text": "left unfinished"}
    session.add(IdempotencyRecord(actor=actor, key="busy", method="POST", path=path, request_hash="2" * 64))
    session.commit()
    r = client.post(path, json=body, headers={**key, "Idempotency-Key": "busy"})
    assert r.status_code == 201, r.text
    again = client.post(path, json=body, headers={**key, "Idempotency-Key": "busy"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"


def _actor(session, headers) -> str:
    from app.curation.keys import find_active_key

    found = find_active_key(session=session, key=headers["Authorization"].removeprefix("Bearer "))
    assert found is not None
    return found.name


def test_a_failed_request_frees_its_key(client, session, key):
    sid = add_source(client, key)
    h = {**key, "Idempotency-Key": "retry-me"}
    bad = client.post("/api/v1/results", json={**DIRECT, "source_id": sid, "value": 42}, headers=h)
    assert bad.status_code == 422
    assert session.get(IdempotencyRecord, (_actor(session, key), "retry-me")) is None
    good = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=h)
    assert good.status_code == 201, good.text
    again = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=h)
    assert again.status_code == 201 and again.json()["id"] == good.json()["id"]


def test_expired_records_are_purged(client, session, key):
    actor = _actor(session, key)
    old = IdempotencyRecord(
        actor=actor, key="old", method="POST", path="/x", request_hash="0" * 64, status_code=201
    )
    old.created_at = utcnow() - timedelta(hours=49)
    session.add(old)
    session.commit()
    r = client.post(
        "/api/v1/sources", json={**SOURCE, "text": "expired key"}, headers={**key, "Idempotency-Key": "old"}
    )
    assert r.status_code == 201, "an expired record neither replays nor conflicts"
    rec = session.get(IdempotencyRecord, (actor, "old"), populate_existing=True)
    assert rec is not None and rec.request_hash != "0" * 64


def test_an_abandoned_in_progress_record_is_taken_over(client, session, key):
    actor = _actor(session, key)
    dead = IdempotencyRecord(
        actor=actor, key="dead", method="POST", path="/api/v1/sources", request_hash="1" * 64
    )
    dead.created_at = utcnow() - timedelta(minutes=11)
    session.add(dead)
    session.commit()
    h = {**key, "Idempotency-Key": "dead"}
    assert client.post("/api/v1/sources", json={**SOURCE, "text": "taken over"}, headers=h).status_code == 201


def test_keys_are_per_actor_and_bounded(client, session, key):
    _, other = create_key(session=session, name=f"other-{uuid.uuid4().hex[:6]}", scope=KeyScope.curator)
    h1 = {**key, "Idempotency-Key": "shared"}
    h2 = {"Authorization": f"Bearer {other}", "Idempotency-Key": "shared"}
    assert client.post("/api/v1/sources", json={**SOURCE, "text": "one"}, headers=h1).status_code == 201
    assert client.post("/api/v1/sources", json={**SOURCE, "text": "two"}, headers=h2).status_code == 201
    long = {**key, "Idempotency-Key": "k" * 201}
    assert client.post("/api/v1/sources", json={**SOURCE, "text": "three"}, headers=long).status_code == 422
    nokey = client.post("/api/v1/sources", json=SOURCE, headers={"Idempotency-Key": "x"})
    assert nokey.status_code == 401


# ---------------------------------------------------------------- a real server, concurrent clients


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(fresh_db, tmp_path):
    """`opstats serve` (uvicorn, one worker) on a fresh database; yields (base URL, engine)."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": fresh_db.url}
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    LOG[:] = [tmp_path / "server.log"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("server did not start: " + (tmp_path / "server.log").read_text()[-500:])
    engine = make_engine(fresh_db.url)
    try:
        yield base, engine
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        engine.dispose()


def _fire(n: int, send) -> list[int]:
    codes: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        barrier.wait()
        status = send(i)
        with lock:
            codes.append(status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


@pytest.mark.slow
@pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)
def test_concurrent_duplicates_create_exactly_one(live):
    base, engine = live
    assert storage.is_at_head(engine)
    with Session(engine) as s:
        _, k = create_key(session=s, name="concurrent", scope=KeyScope.curator)
    auth = {"Authorization": f"Bearer {k}"}
    with httpx.Client(base_url=base, headers=auth, timeout=60) as c:
        src = c.post("/api/v1/sources", json=SOURCE)
        assert src.status_code == 201, src.text
        body = {**DIRECT, "source_id": src.json()["id"]}

        def same(_: int) -> int:
            with httpx.Client(base_url=base, headers={**auth, "Idempotency-Key": "twenty"}, timeout=60) as cc:
                return cc.post("/api/v1/results", json=body).status_code

        codes = _fire(20, same)
        assert codes == [201] * 20, (codes, LOG[0].read_text()[-3000:])
        with Session(engine) as s:
            n = s.exec(select(func.count()).select_from(Result).where(Result.quote == DIRECT["quote"])).one()
        assert n == 1

        def different(i: int) -> int:
            with httpx.Client(base_url=base, headers=auth, timeout=60) as cc:
                return cc.post("/api/v1/sources", json={**SOURCE, "text": f"document {i}"}).status_code

        assert _fire(20, different) == [201] * 20, "concurrent writers queue, never 'database is locked'"
