"""The application factory."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from app.api.v1 import api_router
from app.api.v1.health import router as health_router
from app.config import get_settings
from app.http.cache import VersionedLRU
from app.http.conditional import ConditionalGetMiddleware
from app.http.cors import ReadOnlyCORS
from app.http.problems import PROBLEM_TYPE, install_problem_handlers
from app.schemas.common import Problem

DESCRIPTION = """
Statistics of the CSTO's standing security operations (**Channel**, **Mercenary**, **Illegal**,
**PROXY**), their phases and the results they report. Every figure carries the verbatim quote of
its source with character offsets, its qualifier ("more than", "about", ...), its unit as stated
and the date of the statement; totals never add cumulative figures to phase figures, country
shares to wholes, or the same figure twice.

**Reads** are public and open to any origin (CORS for GET/HEAD only). Every GET answers JSON, or
CSV with `Accept: text/csv` or `?format=csv` (a list as CSV holds every matching row, streamed).
Every GET carries a strong `ETag` (from the data version, which every write changes) and
`Cache-Control`; send it back in `If-None-Match` for a `304`. Lists are
`{"items", "next_cursor", "total"}` with a `Link: <...>; rel="next"` header; cursors are keyset
cursors, so a page never skips or repeats a row when rows are added in between.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a 4xx for every bad
input; a bad or unknown query parameter is a 422 whose `parameter` member names it. Dates are
`YYYY-MM-DD`. A method a path does not take is a 405 whose `Allow` lists the path's methods;
`OPTIONS` answers 204 with the same `Allow`.

**Writes** need `Authorization: Bearer <key>`.
"""


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation's 4xx answers are problem+json: FastAPI's default 422 shape is replaced."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
    problem = {PROBLEM_TYPE: {"schema": PROBLEM_REF}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            default_422 = responses.get("422", {}).get("content", {}).get("application/json")
            if default_422 is not None:
                responses["422"] = {
                    "description": "Invalid input (problem+json naming it)",
                    "content": problem,
                }
            responses.setdefault(
                "4XX", {"description": "Any other client error (problem+json)", "content": problem}
            )
    return schema


def install_openapi(app: FastAPI) -> None:
    """OpenAPI built once, with the one error shape documented on every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            app.openapi_schema = _document_problems(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app() -> FastAPI:
    """Build the API; docs assets are served locally so /docs works with no internet."""
    app = FastAPIOffline(
        title="opstats",
        version="1.0.0",
        description=DESCRIPTION,
    )
    install_problem_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router)
    install_openapi(app)
    settings = get_settings()
    app.state.value_cache = VersionedLRU(settings.response_cache_size)
    app.add_middleware(ConditionalGetMiddleware, cache_size=settings.response_cache_size)
    app.add_middleware(ReadOnlyCORS)
    return app
