"""Who is writing, as HTTP sees it: the Bearer credential and the 401/403 answers."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.http.problems import ProblemError

bearer = HTTPBearer(auto_error=False, description="An API key made with `opstats keys create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def unauthorized(detail: str) -> ProblemError:
    """The 401 problem, with the challenge a client needs."""
    return ProblemError(401, detail, code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The key a request carries; 401 when there is none."""
    if credentials is None or not credentials.credentials:
        raise unauthorized("Writes need an `Authorization: Bearer <key>` header.")
    return credentials.credentials


def token_of(authorization: str | None) -> str | None:
    """The key of a raw Authorization header (`Bearer <key>`), or None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def forbidden(*, required: str, name: str, has: str) -> ProblemError:
    """The 403 problem for a key whose scope is too low for the write."""
    return ProblemError(
        403,
        f"This write needs the {required!r} scope; the key {name!r} has {has!r}.",
        code="forbidden",
        required_scope=required,
    )
