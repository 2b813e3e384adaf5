"""The one error shape (RFC 9457 problem details), built here and nowhere else."""

import json
import logging
from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

from app.domain.errors import (
    BadParameter,
    Conflict,
    DomainError,
    FigureRejected,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    RemoteFailed,
    RemoteTimeout,
    Unavailable,
)

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("opstats")
UNKNOWN_PARAMETER = "Unknown query parameter"
PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


# The one place domain errors become statuses (first match wins; subclasses before their bases).
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (BadParameter, 422),
    (FigureRejected, 422),
    (InvalidInput, 422),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (PreconditionRequired, 428),
    (Unavailable, 503),
    (RemoteFailed, 502),
    (RemoteTimeout, 504),
)


def status_of(exc: DomainError) -> int:
    """The HTTP status a domain error is answered with."""
    return next((status for kind, status in DOMAIN_STATUS if isinstance(exc, kind)), 400)


class ProblemError(Exception):
    """Raise anywhere to answer with a problem+json; `extra` adds members (e.g. valid slugs)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.code = code or TITLES.get(status, "error").lower().replace(" ", "-")
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra


def problem_body(
    status: int,
    detail: str,
    *,
    code: str,
    title: str | None = None,
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON members of a problem."""
    body: dict[str, Any] = {
        "type": f"urn:opstats:problem:{code}",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response."""
    code = code or TITLES.get(status, "error").lower().replace(" ", "-")
    body = problem_body(status, detail, code=code, title=title, instance=instance, **extra)
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_TYPE)


def _json_error(err: dict[str, Any], doc: object) -> str:
    """What is wrong with a body that is not JSON, and where: line, column and character."""
    loc = err.get("loc", ())
    pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
    text = doc.decode("utf-8", "replace") if isinstance(doc, bytes) else doc if isinstance(doc, str) else ""
    reason = str((err.get("ctx") or {}).get("error", "invalid JSON"))
    at = json.JSONDecodeError(reason, text, min(pos, len(text)))
    return f"{reason} at line {at.lineno}, column {at.colno} (char {pos})"


def _error_entry(err: dict[str, Any], body: object) -> dict[str, Any]:
    """One pydantic error reduced to where (body/query/path + name) and what, without echoing input."""
    loc = [str(p) for p in err.get("loc", ())]
    where = loc[0] if loc else ""
    if err.get("type") == "json_invalid":
        return {"in": "body", "name": "", "message": _json_error(err, body)}
    message = str(err.get("msg", "")).removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden" and where == "query":
        message = UNKNOWN_PARAMETER
    return {"in": where, "name": ".".join(loc[1:]), "message": message}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic errors in the problem's `errors` member."""
    return [_error_entry(err, exc.body) for err in exc.errors()]


def _validation_detail(errors: list[dict[str, Any]], parameter: str | None) -> str:
    """The sentence of an invalid-input problem: the bad JSON, the first bad query parameter, or all."""
    first = errors[0] if errors else {"in": "", "name": "", "message": ""}
    if first["in"] == "body" and not first["name"]:
        return f"The body is not valid JSON: {first['message']}."
    if parameter is not None:
        bad = next(e for e in errors if e["in"] == "query")
        more = f" ({len(errors) - 1} more in `errors`)" if len(errors) > 1 else ""
        if bad["message"] == UNKNOWN_PARAMETER:
            return f"Unknown query parameter {parameter!r}: this endpoint does not take it.{more}"
        return f"Query parameter {parameter!r}: {bad['message']}.{more}"
    names = ", ".join(sorted({f"{e['in']} {e['name']}".strip() for e in errors}))
    return f"Invalid input: {names}."


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        code=exc.code,
        title=exc.title,
        headers=exc.headers,
        instance=request.url.path,
        **exc.extra,
    )


async def _on_domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem_response(status_of(exc), exc.detail, code=exc.code, instance=request.url.path, **exc.extra)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    parameter = next((e["name"] for e in errors if e["in"] == "query"), None)
    extra = {"parameter": parameter} if parameter is not None else {}
    field = next((e["name"] for e in errors if e["in"] == "body" and e["name"]), None)
    if field is not None:  # the refused member, as every other 422 of a body names it
        extra["field"] = field
    return problem_response(
        422,
        _validation_detail(errors, parameter),
        code="invalid-input",
        instance=request.url.path,
        errors=errors,
        **extra,
    )


def _takes(route: BaseRoute, scope: Scope) -> bool:
    """Whether a route answers this path and method (mounted static files answer reads only)."""
    if isinstance(route, Mount):
        return scope["method"] == "GET" and route.matches(scope)[0] != Match.NONE
    return route.matches(scope)[0] == Match.FULL


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> str:
    """The `Allow` of a path: every method some route takes on it (GET implies HEAD, OPTIONS always),
    so the GET and POST routes of one path are listed together."""
    routes = list(routes)
    found = [m for m in PROBED_METHODS if any(_takes(r, {**scope, "method": m}) for r in routes)]
    if "GET" in found:
        found.insert(1, "HEAD")
    return ", ".join([*found, "OPTIONS"])


def _method_not_allowed(request: Request, exc: StarletteHTTPException) -> Response:
    """OPTIONS (not a CORS preflight, which the CORS middleware answers) is 204 with `Allow`; any
    other method the path does not take is a 405 problem with the same `Allow`."""
    allow = allowed_methods(request.app.router.routes, request.scope)
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    return problem_response(
        405,
        f"{request.method} is not allowed on {request.url.path}; it takes {allow}.",
        headers={**(exc.headers or {}), "Allow": allow},
        instance=request.url.path,
    )


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        return _method_not_allowed(request, exc)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    return problem_response(
        exc.status_code, detail, headers=getattr(exc, "headers", None), instance=request.url.path
    )


async def _on_crash(request: Request, _exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "An internal error occurred; it has been logged.", instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error the app can raise through the one problem shape."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(DomainError, _on_domain)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_crash)
