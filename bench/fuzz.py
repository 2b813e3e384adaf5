"""schemathesis over every operation and method, with a curator and an admin key, in process.

    .venv/bin/python -m bench.fuzz --examples 300          # the long run (per operation and key)
    .venv/bin/pytest tests/test_fuzz.py                     # the bounded run CI does

The app runs over its own seeded SQLite file with rate limits raised (the fuzzer is one client).
Every answer is checked by every schemathesis check; the only failures tolerated are refusals of
data the schema admits that name the refused field or parameter (a 4xx problem with `field`,
`parameter` or `errors`): the server's rules (verbatim quotes, known slugs) are stricter than a
schema can say. The stateful phase follows the OpenAPI links (app/api/v1/links.py).
"""

import argparse
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import schemathesis
from fastapi import FastAPI
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlmodel import Session

from app import db as storage
from app.config import get_settings
from app.curation.keys import create_key
from app.db import engine_sessions, make_engine
from app.main import create_app
from app.models import KeyScope
from app.seeds.load import seed_database

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase, OpenApiOperation

FUZZ_LIMITS = {"RATE_LIMIT_WRITES": "1000000/minute", "RATE_LIMIT_AUTH_FAILURES": "1000000/minute"}
NAMED_REFUSAL = {"RejectedPositiveData", "Rejected positive data"}


@contextmanager
def raised_limits() -> Iterator[None]:
    """Settings with the rate limits raised, for the app built inside."""
    saved = {k: os.environ.get(k) for k in FUZZ_LIMITS}
    os.environ.update(FUZZ_LIMITS)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


def fuzz_app() -> tuple[FastAPI, dict[str, dict[str, str]]]:
    """The app over a fresh seeded SQLite file, and the Authorization headers of a curator and an admin."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='opstats-fuzz-')) / 'opstats.db'}"
    storage.upgrade(url)
    engine = make_engine(url)
    seed_database(engine=engine, root=get_settings().seeds_dir)
    keys = {}
    with Session(engine) as s:
        for scope in ("curator", "admin"):
            _, key = create_key(session=s, name=f"fuzz-{scope}", scope=KeyScope(scope))
            keys[scope] = {"Authorization": f"Bearer {key}"}
    with raised_limits():
        app = create_app(engine_sessions(engine))
    return app, keys


def fuzz_schema(app: FastAPI) -> OpenApiSchema:
    """The schemathesis schema of `app`; a missing If-Match is answered 428 (RFC 6585), as documented."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    expected = schema.config.checks.missing_required_header
    expected.expected_statuses = [*expected.expected_statuses, "428"]
    return schema


def names_what_it_refuses(response: Response) -> bool:
    """A 4xx problem that names the refused field or parameter."""
    if not 400 <= response.status_code < 500:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("field") or body.get("parameter") or body.get("errors"))


def real_failures(group: FailureGroup, response: Response) -> list[Failure]:
    """The failures of one case, without the tolerated named refusals."""
    out = []
    for failure in group.exceptions:
        title = f"{type(failure).__name__} {getattr(failure, 'title', '')}"
        if any(n in title for n in NAMED_REFUSAL) and names_what_it_refuses(response):
            continue
        out.append(failure)
    return out


def run_case(case: "OpenApiCase", headers: dict[str, str]) -> list[str]:
    """Call one case with a key and validate it with every check; the failures that count."""
    response = case.call(headers=headers)
    try:
        case.validate_response(response, headers=headers)
    except FailureGroup as group:
        return [
            f"{case.method} {case.path}: {getattr(f, 'title', f)} "
            f"({response.status_code} {response.text[:160]})"
            for f in real_failures(group, response)
        ]
    except AssertionError as exc:
        return [f"{case.method} {case.path}: {exc}"]
    return []


def fuzz_operation(
    operation: "OpenApiOperation", who: str, headers: dict[str, str], examples: int, failures: list[str]
) -> int:
    """Up to `examples` generated cases of one operation with one key; how many ran."""
    from hypothesis import HealthCheck, given, settings

    ran = 0

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    def one(case: "OpenApiCase") -> None:
        nonlocal ran
        ran += 1
        failures.extend(f"[{who}] {f}" for f in run_case(case, headers))

    one()
    return ran


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=300)
    args = parser.parse_args()
    app, keys = fuzz_app()
    schema = fuzz_schema(app)
    failures: list[str] = []
    cases = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # an operation the schema does not describe soundly: no run to speak of
        operation = result.ok()
        for who, headers in keys.items():
            cases += fuzz_operation(operation, who, headers, args.examples, failures)
    unique = sorted(set(failures))
    print(f"cases: {cases}, failures: {len(failures)} ({len(unique)} distinct)")
    for line in unique[:50]:
        print(" ", line)
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
