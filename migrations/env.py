"""Alembic environment: batch mode for SQLite, type comparison, the models' metadata."""

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on the metadata)
from app.config import get_settings
from app.db import make_engine, modelled

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    """The URL given by the caller (tests, CLI) or the configured one."""
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    """Emit SQL without a database connection."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        include_object=modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live connection (one handed in by the caller, or a fresh engine)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    """Configure and run in one transaction."""
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=modelled,
    )
    with context.begin_transaction():
        context.run_migrations()
        if context.get_context().dialect.name == "postgresql":
            # Running servers keep the data state from a LISTEN (app/versions.py): a migration may
            # have made the database anew (another epoch), so tell them to read it again.
            context.execute("SELECT pg_notify('opstats_data_version', 'migrated')")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
