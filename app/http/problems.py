"""The one error shape (RFC 9457 problem details), built here and nowhere else."""

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.errors import (
    BadParameter,
    Conflict,
    DomainError,
    FigureRejected,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unavailable,
)

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("opstats")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    500: "Internal server error",
    503: "Service unavailable",
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


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic errors reduced to where (body/query/path + name) and what, without echoing input."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append({"in": loc[0] if loc else "", "name": ".".join(loc[1:]), "message": err.get("msg", "")})
    return out


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
    names = ", ".join(sorted({f"{e['in']} {e['name']}".strip() for e in errors}))
    return problem_response(
        422,
        f"Invalid input: {names}.",
        code="invalid-input",
        instance=request.url.path,
        errors=errors,
    )


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
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
