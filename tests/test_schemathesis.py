"""Property-based run of the whole read schema, in process, over a seeded SQLite database.

Every GET operation of the OpenAPI document gets up to MAX_EXAMPLES generated requests (valid and
invalid); each answer must be no server error, a documented status and content type, and (for
documented media types) conform to the response schema.
"""

import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import db as storage
from app.config import get_settings
from app.db import engine_sessions, make_engine
from app.main import create_app
from app.seeds.load import seed_database

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def seeded_app() -> FastAPI:
    """The app over its own seeded SQLite file (made once, at collection)."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='opstats-schemathesis-')) / 'opstats.db'}"
    storage.upgrade(url)
    engine = make_engine(url)
    seed_database(engine=engine, root=get_settings().seeds_dir)
    return create_app(engine_sessions(engine))


schema = schemathesis.openapi.from_asgi("/openapi.json", seeded_app()).include(method="GET")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_reads_conform_to_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
