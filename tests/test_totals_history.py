"""Maintained totals keep their history: `at=` totals are read from it, equal what was answered then
and what the results at that instant add up to; before the history starts they are computed."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import text
from sqlmodel import Session, col, select

from app import db as storage
from app.config import get_settings
from app.curation.totals import mark_stale
from app.db import make_engine
from app.main import create_app
from app.models import AggregateState, Operation, TotalsAggregate, TotalsRevision
from app.read import aggregates
from app.read.asof import Snapshot
from app.read.checks import computed_all_totals, computed_operation_totals
from app.seeds.load import seed_database
from app.seeds.prepare import recompute_stored_totals
from tests.factories import BUMP_SQL
from tests.test_aggregates import apply, steps
from tests.test_asof_property import Story

TOT = "/api/v1/operations/channel/totals"


def computed(session: Session, at: datetime) -> dict[str, object]:
    """What the results as of `at` add up to, per operation and for all (the recompute)."""
    snap = Snapshot(at)
    out: dict[str, object] = {
        op.slug: computed_operation_totals(session=session, operation=op, snap=snap).model_dump(mode="json")
        for op in session.exec(select(Operation)).all()
    }
    out["*"] = computed_all_totals(session=session, snap=snap).model_dump(mode="json")
    return out


def stored(session: Session, at: datetime) -> dict[str, object]:
    """The same, read from the totals' history (None where it does not answer)."""
    snap = Snapshot(at)
    out: dict[str, object] = {}
    for op in session.exec(select(Operation)).all():
        assert aggregates.stored_totals(session=session, operation=op.slug, snap=snap) is not None, (
            op.slug,
            at,
        )
        out[op.slug] = _json(aggregates.operation_totals_json(session=session, operation=op, snap=snap))
    out["*"] = _json(aggregates.all_totals_json(session=session, snap=snap))
    return out


def _json(body: bytes) -> object:
    return orjson.loads(body)


def history_from(session: Session) -> datetime | None:
    state = session.get(AggregateState, 1)
    return state.history_from if state else None


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_the_history_answers_every_earlier_instant_as_a_recompute_does(session, sequence):
    """Random creates, patches, retractions and duplicate links: at each write's instant the totals'
    history holds exactly what the results then add up to (rolled back)."""
    savepoint = session.begin_nested()
    try:
        made: list[str] = []
        instants = []
        for step in sequence:
            apply(session, made, step)
            latest = select(TotalsRevision.valid_from).order_by(col(TotalsRevision.valid_from).desc())
            instants += [session.exec(latest).first(), datetime.now(UTC)]
        for at in instants:
            assert at is not None
            assert stored(session, at) == computed(session, at), at
    finally:
        savepoint.rollback()


def test_at_totals_are_read_from_the_history_not_computed(client, session, monkeypatch):
    story = Story(client, session)
    instants = [story.write(kind) for kind in ("result", "patch", "retract", "result")]
    answers = {at: client.get(f"{TOT}?at={quote(at)}").json() for at in instants}

    def no_recompute(**_kwargs: object) -> None:
        raise AssertionError("at= totals were computed, not read")

    monkeypatch.setattr(aggregates, "computed_operation_totals", no_recompute)
    monkeypatch.setattr(aggregates, "computed_all_totals", no_recompute)

    @contextmanager
    def the_tests_session() -> Iterator[Session]:
        yield session

    with TestClient(create_app(the_tests_session), raise_server_exceptions=False) as cold:  # no cache
        for at, then in answers.items():
            r = cold.get(f"{TOT}?at={quote(at)}")
            assert r.status_code == 200 and r.json() == then, at
            assert cold.get(f"/api/v1/totals?at={quote(at)}").status_code == 200
            assert cold.get(f"{TOT}?at={quote(at)}&format=csv").status_code == 200


def test_each_write_revises_only_the_totals_it_changed(client, session):
    story = Story(client, session)
    story.write("result")
    open_before = {(r.operation_key, r.metric_slug, r.valid_from) for r in _open(session)}
    at = story.write("patch")  # a note: no total changes
    assert {(r.operation_key, r.metric_slug, r.valid_from) for r in _open(session)} == open_before, at
    at = story.write("retract")
    changed = [
        r for r in _open(session) if r.valid_from.isoformat() == datetime.fromisoformat(at).isoformat()
    ]
    assert changed, "the retraction changed a total but opened no revision"
    for r in changed:
        closed = session.exec(
            select(TotalsRevision)
            .where(
                TotalsRevision.operation_key == r.operation_key, TotalsRevision.metric_slug == r.metric_slug
            )
            .where(col(TotalsRevision.valid_to) == r.valid_from)
        ).all()
        assert len(closed) == 1, (r.operation_key, r.metric_slug)
    current = {(t.operation_key, t.metric_slug): t.body_hash for t in session.exec(select(TotalsAggregate))}
    assert {(r.operation_key, r.metric_slug): r.body_hash for r in _open(session)} == current


def _open(session: Session) -> list[TotalsRevision]:
    return list(session.exec(select(TotalsRevision).where(col(TotalsRevision.valid_to).is_(None))))


def test_before_the_history_starts_totals_are_computed(client, session):
    story = Story(client, session)
    early = story.write("result")
    expected = client.get(f"{TOT}?at={quote(early)}").json()
    mark_stale(session=session)  # a bulk load past the write path: the history no longer holds
    session.execute(text(BUMP_SQL))
    assert history_from(session) is None
    assert client.get(f"{TOT}?at={quote(early)}").json() == expected
    later = story.write("retract")  # the stored totals are not kept while stale
    assert history_from(session) is None
    assert client.get(f"{TOT}?at={quote(later)}").status_code == 200


def test_a_rebuild_starts_the_history_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    storage.upgrade(url)
    engine = make_engine(url)
    try:
        seed_database(engine=engine, root=get_settings().seeds_dir)
        with Session(engine) as session:
            mark_stale(session=session)
            session.commit()
        recompute_stored_totals(engine, actor="test")
        with Session(engine) as session:
            since = history_from(session)
            assert since is not None
            assert stored(session, since) == computed(session, since)
            before = since - timedelta(microseconds=1)
            assert (
                aggregates.stored_totals(session=session, operation="channel", snap=Snapshot(before)) is None
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)
def test_the_migration_starts_the_history_from_the_built_totals(fresh_db):
    storage.upgrade(fresh_db.url)
    engine = make_engine(fresh_db.url)
    try:
        seed_database(engine=engine, root=get_settings().seeds_dir)
        storage.downgrade(fresh_db.url, "4b8e2d7f1a90")
        storage.upgrade(fresh_db.url)
        with Session(engine) as session:
            since = history_from(session)
            assert since is not None
            current = {
                (t.operation_key, t.metric_slug): t.body for t in session.exec(select(TotalsAggregate))
            }
            revisions = _open(session)
            assert {(r.operation_key, r.metric_slug): r.body for r in revisions} == current
            assert {r.valid_from for r in revisions} == {since}
            assert stored(session, since) == computed(session, since)
    finally:
        engine.dispose()
