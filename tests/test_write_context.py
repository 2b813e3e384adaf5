"""One write context per write: one instant for every row it makes, one commit, the lock taken visibly."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from app.models import (
    AuditLog,
    DataVersion,
    IdempotencyRecord,
    OperationSource,
    Phase,
    PhaseSource,
    Result,
    ResultRevision,
    Source,
)
from app.read.history import read_data_state
from app.seeds.load import ACTOR
from app.writes import WriteContext
from tests.factories import SOURCE, bearer


def utc(at: datetime) -> datetime:
    """A stored instant in UTC (SQLite keeps them naive)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def rfc3339(at: datetime) -> str:
    return utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seeding_instant(session: Session) -> datetime:
    """When the seed load wrote (its audit entries' one instant)."""
    stamps = set(session.exec(select(AuditLog.at).where(AuditLog.actor == ACTOR)))
    assert len(stamps) == 1, stamps
    return utc(stamps.pop())


def test_every_row_of_the_seed_load_carries_its_one_instant(session):
    """Sources, phases, links, results, revisions, audit entries and Last-Modified: one instant."""
    at = seeding_instant(session)
    stamps = {
        *session.exec(select(Source.created_at)),
        *session.exec(select(Phase.created_at)),
        *session.exec(select(PhaseSource.created_at)),
        *session.exec(select(OperationSource.created_at)),
        *session.exec(select(Result.created_at)),
        *session.exec(select(Result.updated_at)),
        *session.exec(select(ResultRevision.valid_from)),
    }
    assert {utc(s) for s in stamps if s is not None} == {at}
    version = session.get(DataVersion, 1)
    assert version is not None and utc(version.updated_at) == at


def test_the_past_never_holds_half_of_the_seed_load(client, session):
    """At the seeding instant every result answers with its source; a microsecond before, none
    exists (a 404, never the 500 a half-stamped write gave)."""
    at = seeding_instant(session)
    ids = list(session.exec(select(Result.id).order_by(col(Result.id))))
    for rid in ids[:: max(1, len(ids) // 12)]:
        for path in (f"/api/v1/results/{rid}", f"/api/v1/results/{rid}/cite"):
            then = client.get(path, params={"at": rfc3339(at)})
            assert then.status_code == 200, (path, then.text)
            before = client.get(path, params={"at": rfc3339(at - timedelta(microseconds=1))})
            assert before.status_code == 404, (path, before.text)
    listed = client.get("/api/v1/results", params={"at": rfc3339(at), "limit": 500}).json()
    assert listed["total"] == len(ids) - sum(1 for r in session.exec(select(Result.retracted)) if r)


def test_an_http_write_stamps_its_rows_audit_and_idempotency_record_alike(client, session):
    """A keyed POST: the source row, its audit entry and its Idempotency-Key record, one instant."""
    headers = {**bearer(session), "Idempotency-Key": "one-instant"}
    answer = client.post("/api/v1/sources", json={**SOURCE, "title": "one instant"}, headers=headers)
    assert answer.status_code == 201, answer.text
    source = session.get(Source, answer.json()["id"])
    assert source is not None and source.created_at is not None
    entry = session.exec(
        select(AuditLog).where(AuditLog.entity == "source", AuditLog.entity_id == str(source.id))
    ).one()
    record = session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == "one-instant")).one()
    assert utc(source.created_at) == utc(entry.at) == utc(record.created_at)
    assert entry.version == read_data_state(session=session).version


def test_a_write_context_locks_once_before_its_first_statement(session):
    """`instant` takes the lock first; the slot check runs before the lock; the lock is taken once."""
    calls: list[str] = []
    write = WriteContext(session, "test", edge_commits=True, before_lock=lambda: calls.append("slot"))
    assert not write.locked
    first = write.instant
    assert write.locked and calls == ["slot"]
    write.lock()
    assert write.instant == first and calls == ["slot"]


def test_a_write_without_its_slot_never_reaches_the_database(session):
    """The edge's guard refuses to lock (and so to write) before the slot is held."""

    def no_slot() -> None:
        raise RuntimeError("no slot")

    write = WriteContext(session, "test", edge_commits=True, before_lock=no_slot)
    with pytest.raises(RuntimeError):
        write.lock()
    assert not write.locked


def test_commit_runs_the_steps_on_the_answer_and_gives_the_version(session):
    """Steps see the answer; the version to announce comes back once; the context is closed."""
    seen: list[object] = []
    write = WriteContext(session, "test", edge_commits=True)
    write.lock()
    write.before_commit(seen.append)
    write.version = 41
    assert write.commit("answer") == 41
    assert seen == ["answer"] and write.closed and not write.locked and write.version is None
