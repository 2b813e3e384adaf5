"""Maintained totals: after any sequence of writes they equal a full recompute, and can be rebuilt."""

import dataclasses
import os
import subprocess
import sys
import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session, select

from app import db as storage
from app.config import get_settings
from app.curation.results import create_result, retract_row, update_result_checked
from app.curation.totals import mark_stale
from app.curation.unit_of_work import UnitOfWork, finish
from app.curation.verify import CheckedFigure
from app.db import make_engine
from app.models import Operation, Result, TotalsAggregate
from app.read import aggregates
from app.read.aggregates import body_hash, stored_totals, totals_built
from app.read.checks import warned
from app.read.totals import operation_totals, programme_totals
from app.seeds.load import seed_database
from app.seeds.prepare import ensure_aggregates
from app.writes import WriteContext
from tests.factories import BUMP_SQL

PHASES = {"channel": ["channel-center-2019", "channel-2023-stage-1"], "mercenary": [None]}
METRICS = {"opium_seized": ("t", 1000.0), "heroin_seized": ("kg", 1.0)}
QUALIFIERS = ["exact", "more_than", "about", "up_to", "at_least", "almost"]

create = st.tuples(
    st.just("create"),
    st.sampled_from(["channel", "mercenary", None]),
    st.integers(0, 1),  # which phase of the operation (None: none)
    st.sampled_from(sorted(METRICS)),
    st.sampled_from(["phase", "phase", "cumulative", "programme"]),
    st.sampled_from([None, None, "Iran"]),
    st.integers(1, 50),
    st.sampled_from(QUALIFIERS),
    st.integers(0, 5),  # as_of: days after a fixed date (ties broken by id)
)
patch = st.tuples(
    st.just("patch"),
    st.integers(0, 30),  # which earlier result
    st.integers(1, 50),
    st.sampled_from(QUALIFIERS),
    st.integers(0, 5),
    st.sampled_from(["keep", "keep", "other_metric", "other_phase", "no_country"]),
)
retract = st.tuples(st.just("retract"), st.integers(0, 30))
link = st.tuples(st.just("link"), st.integers(0, 30), st.integers(0, 30))
steps = st.lists(st.one_of(create, create, patch, retract, link), min_size=1, max_size=8)


def figure(op, phase_idx, metric, scope, country, value, qualifier, day) -> CheckedFigure:
    """A figure as the write path stores it (verification is tested elsewhere: totals only count)."""
    if scope == "programme":
        op = None
    phase = PHASES[op][phase_idx % len(PHASES[op])] if op and scope == "phase" else None
    unit, factor = METRICS[metric]
    return CheckedFigure(
        operation=op,
        phase=phase,
        metric=metric,
        value=float(value),
        unit=unit,
        number_text=str(value),
        value_base=value * factor,
        base_unit="kg",
        qualifier=qualifier,
        scope="phase" if phase else ("programme" if op is None else "cumulative"),
        country=country if phase else None,
        period_start=None,
        period_end=None,
        as_of=date(2024, 1, 1) + timedelta(days=day),
        source_id=1,
        quote=f"q {value}",
        quote_start=0,
        quote_end=3,
        quote_prefix="",
        quote_suffix="",
        number_start=2,
        number_end=2 + len(str(value)),
        duplicate_of=None,
        note=None,
    )


def checked_of(row: Result) -> CheckedFigure:
    names = [f.name for f in dataclasses.fields(CheckedFigure)]
    renamed = {"operation": "operation_slug", "phase": "phase_slug", "metric": "metric_slug"}
    return CheckedFigure(**{n: getattr(row, renamed.get(n, n)) for n in names})


def patched(row: Result, value: int, qualifier: str, day: int, change: str) -> CheckedFigure:
    base = checked_of(row)
    unit, factor = METRICS[base.metric]
    out = dataclasses.replace(
        base,
        value=float(value),
        unit=unit,
        value_base=value * factor,
        qualifier=qualifier,
        as_of=date(2024, 1, 1) + timedelta(days=day),
    )
    if change == "other_metric":
        metric = next(m for m in METRICS if m != base.metric)
        unit, factor = METRICS[metric]
        out = dataclasses.replace(out, metric=metric, unit=unit, value_base=value * factor)
    elif change == "other_phase" and base.phase:
        out = dataclasses.replace(out, phase=next(p for p in PHASES["channel"] if p != base.phase))
    elif change == "no_country":
        out = dataclasses.replace(out, country=None)
    return out


def linkable(dup: Result, target: Result) -> bool:
    """What check_duplicate_link accepts (the write path refuses the rest with a 422)."""
    return (
        dup.id != target.id
        and target.duplicate_of is None
        and target.metric_slug == dup.metric_slug
        and target.operation_slug == dup.operation_slug
    )


def apply(session: Session, made: list[str], step: tuple) -> None:
    """One write of the sequence, through the write functions and their before-commit hooks."""
    uow = UnitOfWork(WriteContext(session, "property"))
    kind = step[0]
    if kind == "create":
        made.append(create_result(uow, figure(*step[1:]), result_id=f"prop-{len(made)}").id)
    elif made:
        row = session.get(Result, made[step[1] % len(made)])
        assert row is not None
        if kind == "patch" and not row.retracted:
            update_result_checked(uow, row, patched(row, *step[2:]), reason="p")
        elif kind == "retract":
            retract_row(uow, row, reason="r")
        elif kind == "link" and not row.retracted:
            target = session.get(Result, made[step[2] % len(made)])
            if target is not None and linkable(row, target):
                update_result_checked(
                    uow, row, dataclasses.replace(checked_of(row), duplicate_of=target.id), reason="l"
                )
    uow.run_hooks()
    finish(uow)  # revisions and audit entries, as a committed write has them


def assert_maintained_equal_recompute(session: Session) -> None:
    for op in session.exec(select(Operation)).all():
        expected = [
            m.model_dump(mode="json")
            for m in warned(session, operation_totals(session=session, operation=op)).metrics
        ]
        assert stored_totals(session=session, operation=op.slug) == expected, op.slug
    expected = [m.model_dump(mode="json") for m in warned(session, programme_totals(session=session)).metrics]
    assert stored_totals(session=session, operation=None) == expected
    for row in session.exec(select(TotalsAggregate)).all():  # each body named by its own hash
        assert row.body_hash == body_hash(row.body), (row.operation_key, row.metric_slug)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.slow
@given(sequence=steps)
def test_maintained_totals_equal_a_full_recompute(session, sequence):
    """Random creates, patches, retractions and duplicate links, on both engines (rolled back)."""
    savepoint = session.begin_nested()
    try:
        made: list[str] = []
        for step in sequence:
            apply(session, made, step)
            assert_maintained_equal_recompute(session)
    finally:
        savepoint.rollback()


def test_totals_endpoints_serve_the_maintained_rows(client, session):
    """What GET serves is the stored row: a row changed behind the write path shows (then is repaired)."""
    row = session.get(TotalsAggregate, ("channel", "opium_seized"))
    assert row is not None and totals_built(session=session)
    before = client.get("/api/v1/operations/channel/totals").json()
    row.body = row.body.replace('"label":"', '"label":"(stored) ', 1)
    row.body_hash = body_hash(row.body)
    session.add(row)
    session.flush()
    session.execute(text(BUMP_SQL))
    after = client.get("/api/v1/operations/channel/totals").json()
    labels = {m["metric"]: m["label"] for m in after["metrics"]}
    assert labels["opium_seized"].startswith("(stored) ")
    all_labels = {m["label"] for o in client.get("/api/v1/totals").json()["operations"] for m in o["metrics"]}
    assert labels["opium_seized"] in all_labels
    assert [m["metric"] for m in after["metrics"]] == [m["metric"] for m in before["metrics"]]


def test_totals_read_only_the_bodies_this_process_has_not_kept(client, session, monkeypatch):
    """After a write, GET totals fetch the changed bodies only; a row without its hash is read whole."""
    client.get("/api/v1/totals")
    fetched: list[str] = []
    bodies = client.app.state.caches.totals.bodies
    put = bodies.put
    monkeypatch.setattr(bodies, "put", lambda v, h, body: (fetched.append(h), put(v, h, body)))
    row = session.get(TotalsAggregate, ("channel", "opium_seized"))
    assert row is not None
    row.body = row.body.replace('"label":"', f'"label":"(changed {uuid.uuid4()}) ', 1)  # a body unseen
    row.body_hash = body_hash(row.body)
    session.add(row)
    session.flush()
    session.execute(text(BUMP_SQL))
    changed = client.get("/api/v1/totals").json()
    assert fetched == [row.body_hash]
    assert any(m["label"].startswith("(changed ") for o in changed["operations"] for m in o["metrics"])
    session.execute(text("UPDATE totalsaggregate SET body_hash = '' WHERE metric_slug = 'opium_seized'"))
    session.execute(text(BUMP_SQL))
    assert client.get("/api/v1/totals").json() == changed
    assert client.get("/api/v1/operations/channel/totals").json() == next(
        o for o in changed["operations"] if o["operation"] == "channel"
    )


def test_unchanged_totals_are_not_spliced_again_after_a_write(client, session, monkeypatch):
    """A write that changed no total (here a bare version bump) finds the spliced answer kept."""
    first = client.get("/api/v1/totals").content
    spliced: list[int] = []
    real = aggregates._operation_parts
    monkeypatch.setattr(aggregates, "_operation_parts", lambda *a: (spliced.append(1), real(*a))[1])
    session.execute(text(BUMP_SQL))
    assert client.get("/api/v1/totals").content == first and spliced == []
    row = session.get(TotalsAggregate, ("channel", "opium_seized"))
    assert row is not None
    row.body = row.body.replace('"label":"', f'"label":"(spliced {uuid.uuid4()}) ', 1)
    row.body_hash = body_hash(row.body)
    session.add(row)
    session.flush()
    session.execute(text(BUMP_SQL))
    assert b"(spliced " in client.get("/api/v1/totals").content and spliced


def test_stale_aggregates_fall_back_to_a_recompute(client, session):
    before = client.get("/api/v1/operations/channel/totals").json()
    session.execute(text("DELETE FROM totalsaggregate"))
    mark_stale(session=session)
    session.execute(text(BUMP_SQL))
    assert client.get("/api/v1/operations/channel/totals").json() == before


def _stale_copy(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'agg.db'}"
    storage.upgrade(url)
    engine = make_engine(url)
    seed_database(engine=engine, root=get_settings().seeds_dir)
    with Session(engine) as session:
        session.execute(text("UPDATE totalsaggregate SET body = '{}'"))
        mark_stale(session=session)
        session.commit()
    engine.dispose()
    return url


def _stored_equal_recompute(url: str) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert totals_built(session=session)
            assert_maintained_equal_recompute(session)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_rebuild_aggregates_command_repairs_the_totals(tmp_path):
    url = _stale_copy(tmp_path)
    r = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "rebuild-aggregates"],
        env=dict(os.environ, DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "rebuilt" in r.stdout
    _stored_equal_recompute(url)


@pytest.mark.slow
def test_serving_rebuilds_stale_aggregates_once(tmp_path):
    url = _stale_copy(tmp_path)
    engine = make_engine(url)
    try:
        assert ensure_aggregates(engine) is not None
        assert ensure_aggregates(engine) is None
    finally:
        engine.dispose()
    _stored_equal_recompute(url)
