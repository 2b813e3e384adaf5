"""Who is writing: a Bearer key checked against stored hashes, and whether its scope allows the write."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.curation.keys import find_active_key
from app.db import get_session
from app.http.problems import ProblemError
from app.models import ApiKey, KeyScope

RANK = {KeyScope.curator.value: 1, KeyScope.admin.value: 2}
bearer = HTTPBearer(auto_error=False, description="An API key made with `opstats keys create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def unauthorized(detail: str) -> ProblemError:
    """The 401 problem, with the challenge a client needs."""
    return ProblemError(401, detail, code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def authenticate(*, session: Session, credentials: HTTPAuthorizationCredentials | None) -> ApiKey:
    """The active key named by the Authorization header; 401 when missing, unknown or revoked."""
    if credentials is None or not credentials.credentials:
        raise unauthorized("Writes need an `Authorization: Bearer <key>` header.")
    key = find_active_key(session=session, key=credentials.credentials)
    if key is None:
        raise unauthorized("The API key is unknown or revoked.")
    return key


def allows(key: ApiKey, scope: KeyScope) -> bool:
    """True when the key's scope covers `scope` (admin covers curator)."""
    return RANK.get(key.scope, 0) >= RANK[scope.value]


def require_scope(scope: KeyScope) -> Callable[..., ApiKey]:
    """A dependency: the request's key, 401 without a valid one, 403 when its scope is too low."""

    def dependency(credentials: Credentials, session: Annotated[Session, Depends(get_session)]) -> ApiKey:
        key = authenticate(session=session, credentials=credentials)
        if not allows(key, scope):
            raise ProblemError(
                403,
                f"This write needs the {scope.value!r} scope; the key {key.name!r} has {key.scope!r}.",
                code="forbidden",
                required_scope=scope.value,
            )
        return key

    return dependency
