"""Domain errors: what went wrong in the terms of the data; app/http/problems.py gives each a status."""

from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on; `code` names it, `extra` adds members (e.g. valid slugs)."""

    code = "error"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or type(self).code
        self.extra = extra


class NotFound(DomainError):
    """The thing named does not exist (a result, source, candidate, phase, operation)."""

    code = "not-found"


class BadParameter(DomainError):
    """A query parameter names something unknown or malformed; `parameter` says which."""

    code = "invalid-parameter"

    def __init__(self, parameter: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, parameter=parameter, **extra)
        self.parameter = parameter


class InvalidInput(DomainError):
    """A body is well-formed JSON but not a valid request; `field` or `errors` say where."""

    code = "invalid-input"


class FigureRejected(DomainError):
    """A figure whose quote, number, unit or qualifier does not check out against its source."""

    code = "figure-rejected"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"The figure does not check out: {field} {message}.", field=field)
        self.field, self.message = field, message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class Conflict(DomainError):
    """The write clashes with the stored state (a taken slug, a decided candidate)."""

    code = "conflict"


class PreconditionRequired(DomainError):
    """A write that must name the state it changes (If-Match) did not."""

    code = "precondition-required"


class PreconditionFailed(DomainError):
    """The state a write names is no longer the stored one."""

    code = "precondition-failed"


class Unavailable(DomainError):
    """The database cannot answer now (not reachable, not migrated, locked too long)."""

    code = "not-ready"


class RemoteFailed(DomainError):
    """A page's server answered with an error, refused the connection or sent what cannot be read."""

    code = "remote-failed"


class RemoteTimeout(DomainError):
    """A page's server did not answer within the fetch time limit."""

    code = "remote-timeout"
