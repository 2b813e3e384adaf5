"""A failure in the middle of a write leaves nothing behind: no row, no audit entry, no version bump."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app import db as storage
from app.config import get_settings
from app.curation import unit_of_work
from app.curation.keys import create_key
from app.curation.unit_of_work import UnitOfWork
from app.db import engine_sessions, make_engine
from app.main import create_app
from app.models import (
    AuditLog,
    Candidate,
    IdempotencyRecord,
    KeyScope,
    OperationSource,
    Phase,
    Result,
    Source,
)
from app.read.history import read_data_version
from app.seeds.load import seed_database
from tests.factories import DIRECT, PHASE, SOURCE

TABLES = (Result, Source, AuditLog, Candidate, OperationSource, Phase, IdempotencyRecord)


class Boom(RuntimeError):
    """The injected failure."""


def boom(*_args, **_kwargs):
    raise Boom("injected")


def boom_on(action: str):
    """An audit step that fails on `action` only (the rest of the write has run by then)."""
    real = UnitOfWork.record

    def record(self, act, *args, **kwargs):
        if act == action:
            raise Boom("injected")
        return real(self, act, *args, **kwargs)

    return record


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path) -> Iterator[tuple[TestClient, Session, dict[str, str]]]:
    """A real, fresh, seeded database (real commits), an app on it, a session to look, a curator key."""
    from tests.factories import FreshDatabase

    db = FreshDatabase(request.param, tmp_path)
    storage.upgrade(db.url)
    engine = make_engine(db.url)
    seed_database(engine=engine, root=get_settings().seeds_dir)
    app = create_app(engine_sessions(engine))
    with Session(engine) as s:
        _, key = create_key(session=s, name="tx", scope=KeyScope.admin)
    try:
        with TestClient(app, raise_server_exceptions=False) as client, Session(engine) as look:
            yield client, look, {"Authorization": f"Bearer {key}"}
    finally:
        engine.dispose()
        db.drop()


def state(s: Session) -> dict[str, object]:
    """Row counts of every table a write touches, the pending candidates and the data version."""
    s.expire_all()
    out: dict[str, object] = {m.__name__: s.exec(select(func.count()).select_from(m)).one() for m in TABLES}
    out["pending"] = s.exec(
        select(func.count()).select_from(Candidate).where(Candidate.status == "pending")
    ).one()
    out["retracted"] = s.exec(select(func.count()).select_from(Result).where(Result.retracted)).one()
    out["version"] = read_data_version(session=s)
    return out


@pytest.mark.expected_500
def test_failed_result_write_leaves_nothing(world, monkeypatch):
    client, look, key = world
    sid = client.post("/api/v1/sources", json=SOURCE, headers=key).json()["id"]
    before = state(look)
    monkeypatch.setattr(UnitOfWork, "record", boom_on("create"))  # after the row and source link
    h = {**key, "Idempotency-Key": "fails-once"}
    r = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=h)
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json", r.text
    assert "injected" not in r.text
    assert state(look) == before
    monkeypatch.undo()
    r = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=h)
    assert r.status_code == 201, "the failed attempt freed its Idempotency-Key"


@pytest.mark.expected_500
def test_failed_source_write_leaves_nothing(world, monkeypatch):
    client, look, key = world
    before = state(look)
    monkeypatch.setattr(unit_of_work, "bump_data_version", boom)
    assert client.post("/api/v1/sources", json=SOURCE, headers=key).status_code == 500
    assert state(look) == before


@pytest.mark.expected_500
def test_failed_accept_leaves_the_candidate_pending(world, monkeypatch):
    client, look, key = world
    sid = client.post("/api/v1/sources", json=SOURCE, headers=key).json()["id"]
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=key).json()["items"]
    cid = next(c["id"] for c in cands if c["number_text"] == "203")
    before = state(look)
    monkeypatch.setattr(UnitOfWork, "record", boom_on("accept"))  # result made, candidate marked
    body = {"operation": "channel", "scope": "cumulative", "metric": "criminal_cases_opened"}
    assert client.post(f"/api/v1/candidates/{cid}/accept", json=body, headers=key).status_code == 500
    assert state(look) == before
    assert client.get(f"/api/v1/candidates/{cid}").json()["status"] == "pending"


@pytest.mark.expected_500
def test_failed_retract_and_phase_leave_nothing(world, monkeypatch):
    client, look, key = world
    before = state(look)
    monkeypatch.setattr(unit_of_work, "bump_data_version", boom)
    rid = "channel-center-2019-opium"
    assert client.post(f"/api/v1/results/{rid}/retract", json={"reason": "x"}, headers=key).status_code == 500
    monkeypatch.undo()
    monkeypatch.setattr(UnitOfWork, "record", boom_on("create"))
    assert client.post("/api/v1/phases", json=PHASE, headers=key).status_code == 500
    assert state(look) == before
    assert client.get(f"/api/v1/results/{rid}").json()["retracted"] is False
