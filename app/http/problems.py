"""The one error shape (RFC 9457 problem details), built here and nowhere else."""

import json
import logging
from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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


# ---------------------------------------------------------------- database errors, narrowly

RETRY_AFTER = "1"
# PostgreSQL SQLSTATEs a client can retry: serialization failure, deadlock, lock not available (a
# lock_timeout), query cancelled (a statement_timeout), the server shutting down or not yet up,
# too many connections; and class 08, the connection lost.
RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"})
SQLITE_BUSY, SQLITE_LOCKED = 5, 6  # primary result codes; the extended ones keep them in the low byte
# The uniqueness a write can lose a race on (nothing was written: retry), as (table, columns).
RACES = frozenset(
    {
        ("source", ("content_hash",)),
        ("phase", ("slug",)),
        ("apikey", ("name",)),
        ("idempotencyrecord", ("actor", "key")),
        ("operationsource", ("operation_slug", "source_id")),
        ("phasesource", ("phase_slug", "source_id")),
        ("candidate", ("source_id", "number_start")),
        ("result", ("id",)),
    }
)


def is_retryable(exc: BaseException) -> bool:
    """A database error that says "busy or gone, try again", by SQLSTATE or SQLite result code:
    a lock or pool wait past its bound, a busy database, a lost connection, a serialization failure
    or deadlock. Anything else (a missing column, a syntax error) is a bug, not load."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError) or isinstance(exc, IntegrityError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return state in RETRY_SQLSTATES or state.startswith("08")
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    # no SQLSTATE and no SQLite code: the client library's own failure to reach the server
    return isinstance(exc, OperationalError)


def lost_race(exc: BaseException) -> bool:
    """A uniqueness violation on a constraint a concurrent write can win (RACES), by name."""
    if not isinstance(exc, IntegrityError):
        return False
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # PostgreSQL: the table, and the columns its detail names
        detail = getattr(diag, "message_detail", None) or ""
        if getattr(orig, "sqlstate", None) != "23505" or not detail.startswith("Key ("):
            return False
        columns = tuple(c.strip() for c in detail[5 : detail.index(")=")].split(","))
        return (getattr(diag, "table_name", None), columns) in RACES
    text = str(orig)  # SQLite: "UNIQUE constraint failed: source.content_hash"
    if not text.startswith("UNIQUE constraint failed: "):
        return False
    named = [c.strip().split(".", 1) for c in text.removeprefix("UNIQUE constraint failed: ").split(",")]
    tables = {t for t, _ in named}
    return len(tables) == 1 and (tables.pop(), tuple(c for _, c in named)) in RACES


def busy_response(detail: str = "The database is busy; retry shortly.") -> Response:
    """The 503 a client retries after `Retry-After` seconds."""
    return problem_response(503, detail, code="busy", headers={"Retry-After": RETRY_AFTER})


async def _on_database(request: Request, exc: Exception) -> Response:
    """A retryable database error is a 503, a lost race a 409 (nothing was written either way);
    any other is a bug: a 500, logged with its traceback."""
    if is_retryable(exc):
        log.warning("database busy on %s: %s", request.url.path, type(getattr(exc, "orig", exc)).__name__)
        return busy_response()
    if lost_race(exc):
        log.warning("lost a race on %s: %s", request.url.path, getattr(exc, "orig", exc))
        return problem_response(
            409,
            "A concurrent write conflicted with this one; nothing was written. Retry.",
            code="write-conflict",
            headers={"Retry-After": RETRY_AFTER},
        )
    return await _on_crash(request, exc)


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "An internal error occurred; it has been logged.", instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error the app can raise through the one problem shape."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(DomainError, _on_domain)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(DBAPIError, _on_database)
    app.add_exception_handler(PoolTimeout, _on_database)
    app.add_exception_handler(Exception, _on_crash)
