"""The OpenAPI document: one problem+json error shape on every operation, CSV and 304 documented."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.http.problems import PROBLEM_TYPE
from app.schemas.common import Problem


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_TYPE: {"schema": Problem.model_json_schema()}},
    }


def read_responses(*, csv_example: str | None = None, not_found: str | None = None) -> dict[int | str, Any]:
    """OpenAPI responses of a read endpoint: CSV, 304, and the problems it can answer."""
    csv_content: dict[str, Any] = {"schema": {"type": "string"}}
    if csv_example:
        csv_content["example"] = csv_example
    out: dict[int | str, Any] = {
        200: {
            "description": "JSON, or CSV with `Accept: text/csv` / `?format=csv` (header row = JSON field "
            "names; nested objects flattened with `_`; lists joined with `; `; `bom=true` leads it with a "
            "UTF-8 byte-order mark for spreadsheets). Carries a strong `ETag`, `Cache-Control` and "
            "`Vary: Accept`.",
            "content": {"text/csv": csv_content},
        },
        304: {"description": "Not modified: `If-None-Match` names the current ETag (empty body)"},
        422: _problem("A bad parameter (problem+json; `parameter` names it when it is a query parameter)"),
    }
    if not_found:
        out[404] = _problem(not_found)
    return out


def fetch_responses() -> dict[int | str, Any]:
    """The problems of a write that fetches a page: what the remote server did."""
    return {
        502: _problem("The page's server answered an error, or could not be reached or resolved"),
        504: _problem("The page's server did not answer within FETCH_TIMEOUT"),
    }


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


def install_openapi(app: FastAPI, extend: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
    """OpenAPI built once, with the one error shape documented on every operation (and `extend`'s
    additions, e.g. links, passed in by main.py)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema = _document_problems(schema)
            app.openapi_schema = extend(schema) if extend else schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
