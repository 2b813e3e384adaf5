"""Migrations run identically on SQLite and PostgreSQL, round-trip, and match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from app import db as storage
from app.db import make_engine

pytestmark = pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
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


def test_no_drift_between_models_and_migrations(fresh_db):
    storage.upgrade(fresh_db.url)
    engine = make_engine(fresh_db.url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
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
