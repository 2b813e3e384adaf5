"""Migrations run identically on SQLite and PostgreSQL, round-trip, and match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from app import db as storage
from app.db import QUOTE_INDEX_OBJECTS, make_engine, modelled

pytestmark = pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"} - QUOTE_INDEX_OBJECTS
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(fresh_db):
    storage.upgrade(fresh_db.url)
    first = tables(fresh_db.url)
    assert first == set(SQLModel.metadata.tables)
    storage.downgrade(fresh_db.url, "base")
    assert tables(fresh_db.url) == set()
    storage.upgrade(fresh_db.url)
    assert tables(fresh_db.url) == first


@pytest.mark.filterwarnings(  # the quote search's expression indexes (QUOTE_INDEX_OBJECTS): not reflected
    "ignore:Skipped unsupported reflection of expression-based index ix_result_quote"
)
def test_no_drift_between_models_and_migrations(fresh_db):
    storage.upgrade(fresh_db.url)
    engine = make_engine(fresh_db.url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": modelled})
            diff = compare_metadata(ctx, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_at_head_after_upgrade(fresh_db):
    storage.upgrade(fresh_db.url)
    engine = make_engine(fresh_db.url)
    try:
        assert storage.is_at_head(engine)
    finally:
        engine.dispose()


ROWS = [
    "INSERT INTO unit (symbol, label, dimension, pint, words) VALUES ('t', 't', 'mass', 'tonne', '[]')",
    "INSERT INTO metric (slug, label, dimension, base_unit, keywords) "
    "VALUES ('opium_seized', 'Opium seized', 'mass', 't', '[]')",
    "INSERT INTO operation (slug, name, purpose, status, position) "
    "VALUES ('channel', 'Channel', 'p', 'on', 0)",
    "INSERT INTO source (id, title, publisher, content_hash, text, created_at) "
    "VALUES (1, 'S', 'CSTO', 'h', :t, :c)",
    "INSERT INTO phase (slug, operation_slug, name, participants, observers) "
    "VALUES ('p1', 'channel', 'P', '[]', '[]')",
    "INSERT INTO phasesource (phase_slug, source_id) VALUES ('p1', 1)",
    "INSERT INTO result (id, operation_slug, phase_slug, metric_slug, value, unit, number_text, value_base, "
    "base_unit, qualifier, scope, as_of, source_id, quote, quote_start, quote_end, retracted, revision, "
    "created_at, updated_at) VALUES ('r1', 'channel', 'p1', 'opium_seized', 8.9, 't', '8.9', 8.9, 't', "
    "'more_than', 'phase', '2026-01-01', 1, :q, :s, :e, false, 1, :c, :c)",
    "INSERT INTO candidate (source_id, status, value, unit, number_text, number_start, qualifier, quote, "
    "quote_start, quote_end, confidence, result_id, created_at) "
    "VALUES (1, 'accepted', 8.9, 't', '8.9', :s, 'more_than', :q, :s, :e, 1, 'r1', :c)",
]


def test_citable_data_migration_fills_selectors_revisions_and_creation_times(fresh_db):
    """Rows that exist before 7d3a1c9e2b60 (referenced by others) get selectors, a revision, created_at."""
    from sqlalchemy import text

    storage.upgrade(fresh_db.url, "5c2e9b7d41a3")
    body = "Opening words of the release. More than 8.9 tons of opium were seized, it said. Next."
    quote = "More than 8.9 tons of opium were seized, it said."
    start = body.index(quote)
    values = {"t": body, "q": quote, "s": start, "e": start + len(quote), "c": "2026-01-02 03:04:05"}
    engine = make_engine(fresh_db.url)
    try:
        with engine.begin() as conn:
            for sql in ROWS:
                conn.execute(text(sql), {k: v for k, v in values.items() if f":{k}" in sql})
        storage.upgrade(fresh_db.url)
        with engine.connect() as conn:
            r = conn.execute(
                text("SELECT quote_prefix, quote_suffix, number_start, number_end FROM result")
            ).one()
            assert (r[0], r[1]) == (body[max(0, start - 32) : start], " Next.")
            assert body[r[2] : r[3]] == "8.9"
            rev = conn.execute(
                text("SELECT result_id, valid_to, revision, number_start FROM resultrevision")
            ).one()
            assert (rev[0], rev[1], rev[2], rev[3]) == ("r1", None, 1, r[2])
            for table in ("phase", "phasesource"):
                assert conn.execute(text(f"SELECT created_at FROM {table}")).scalar() is not None
    finally:
        engine.dispose()
