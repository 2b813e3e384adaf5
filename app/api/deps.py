"""Dependencies shared by the routers: the request's session, data version, operation and writer."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import contextmanager_in_threadpool
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.curation.keys import find_active_key
from app.db import close_quietly
from app.domain.errors import NotFound
from app.http.auth import Credentials, bearer_token, forbidden, unauthorized
from app.http.edge.standby import READ_AGAIN
from app.http.edge.writes import request_write, take_write_slot
from app.models import ApiKey, KeyScope, Operation
from app.read.catalog import operation_slugs, resolve_operation
from app.read.history import read_data_version
from app.writes import WriteContext

RANK = {KeyScope.curator.value: 1, KeyScope.admin.value: 2}


@contextmanager
def read_session(request: Request) -> Iterator[Session]:
    """A request's own session (an `at=` read takes its snapshot from its query: app/read/asof.py):
    on the standby when there is one at the version the HTTP layer read, else on the primary. A
    standby failing under the read marks the request to be read again from the primary
    (app/http/edge/standby.py)."""
    standby = standby_session(request)
    if standby is None:
        with request.app.state.sessions() as session:
            yield session
        return
    try:
        yield standby
    except DBAPIError as exc:
        if request.app.state.replica.failed_under_read(exc):
            setattr(request.state, READ_AGAIN, True)
        raise
    finally:
        close_quietly(standby)


def standby_session(request: Request) -> Session | None:
    """A GET's session on the standby (DATABASE_READ_URL) when it has replayed this request's version."""
    replica = getattr(request.app.state, "replica", None)
    version = getattr(request.state, "data_version", None)
    if replica is None or request.method not in ("GET", "HEAD") or not isinstance(version, int):
        return None
    session: Session | None = replica.session_at(version)
    return session


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A request-scoped session from the app's session scope (main.py wires it; tests pass their own).

    A write request uses the session of the transaction the write middleware owns: one connection,
    and no thread hop to hand it over; a read opens and closes its own in a worker thread."""
    write = request_write(request)
    if write is not None:
        yield write.session
        return
    async with contextmanager_in_threadpool(read_session(request)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def current_version(request: Request, session: SessionDep) -> int:
    """The data version the HTTP layer read for this request (or, when it read none, read now in a
    worker thread); async, so that a versioned GET spends no thread hop on it."""
    version = getattr(request.state, "data_version", None)
    if isinstance(version, int):
        return version
    return await run_in_threadpool(lambda: read_data_version(session=session))


VersionDep = Annotated[int, Depends(current_version)]


def operation_not_found(session: Session, key: str) -> NotFound:
    """The 404 for an unknown operation, listing the valid slugs."""
    slugs = operation_slugs(session=session)
    return NotFound(
        f"No operation {key!r}. Valid operations: {', '.join(slugs)} (or any of their aliases).",
        code="operation-not-found",
        valid_operations=slugs,
    )


def get_operation(
    session: SessionDep,
    key: Annotated[
        str,
        Path(
            max_length=100,
            description="Operation slug or any alias, case-insensitive (channel, Kanal, Канал, PROXI, ...)",
            examples=["channel"],
        ),
    ],
) -> Operation:
    """Resolve an operation slug or alias, or answer the one not-found problem."""
    op = resolve_operation(session=session, key=key)
    if op is None:
        raise operation_not_found(session, key)
    return op


OperationDep = Annotated[Operation, Depends(get_operation)]


def active_key(write: WriteContext, token: str) -> ApiKey | None:
    """The active key `token` is, looked up once per write (which checks it twice: for its
    Idempotency-Key record and for its scope); the lookup is the write's first statement, so the
    context takes the write lock first."""
    if token not in write.keys:
        write.lock()  # (what runs under the lock first, the idempotency claim, may look it up)
    if token not in write.keys:
        write.keys[token] = find_active_key(session=write.session, key=token)
    return write.keys[token]


def key_owner(write: WriteContext, token: str) -> str | None:
    """The name of the active key `token` is, or None (what idempotency records are keyed by)."""
    key = active_key(write, token)
    return key.name if key else None


def require_scope(scope: KeyScope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the request's key, 401 without a valid one, 403 when its scope is too low."""

    async def dependency(request: Request, credentials: Credentials, session: SessionDep) -> ApiKey:
        token = bearer_token(credentials)
        write = request_write(request)
        if write is None:  # outside the write middleware (no write to lock for): a plain lookup
            key = await run_in_threadpool(lambda: find_active_key(session=session, key=token))
        else:
            if token not in write.keys:
                await take_write_slot(request)  # a write's first statement: its slot first
            key = (
                write.keys[token]
                if token in write.keys
                else await run_in_threadpool(active_key, write, token)
            )
        key = _checked(key, scope)
        if write is not None:
            write.actor = key.name
        return key

    return dependency


def _checked(key: ApiKey | None, scope: KeyScope) -> ApiKey:
    """The key, or the 401 (none) or 403 (its scope is too low)."""
    if key is None:
        raise unauthorized("The API key is unknown or revoked.")
    if RANK.get(key.scope, 0) < RANK[scope.value]:
        raise forbidden(required=scope.value, name=key.name, has=key.scope)
    return key


def scope_before_lock(scope: KeyScope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency for slow work before a write's lock (a page fetch): the key checked in a read
    session of its own, no slot or lock taken, so no one unauthorised gets the work done; the write's
    own key check (`require_scope`) looks it up again under the lock (a key revoked meanwhile)."""

    def lookup(request: Request, token: str) -> ApiKey | None:
        with read_session(request) as session:
            return find_active_key(session=session, key=token)

    async def dependency(request: Request, credentials: Credentials) -> ApiKey:
        token = bearer_token(credentials)
        return _checked(await run_in_threadpool(lookup, request, token), scope)

    return dependency


CuratorDep = Annotated[ApiKey, Depends(require_scope(KeyScope.curator))]
CuratorBeforeLockDep = Annotated[ApiKey, Depends(scope_before_lock(KeyScope.curator))]
AdminDep = Annotated[ApiKey, Depends(require_scope(KeyScope.admin))]


def _write_of(request: Request) -> WriteContext:
    write = request_write(request)
    if write is None:  # every write route runs behind the write middleware (app/main.py)
        raise RuntimeError("a write route ran outside the write middleware")
    return write


async def curator_write(request: Request, _key: CuratorDep) -> WriteContext:
    """The write context of a curator's request, its actor the key's name."""
    return _write_of(request)


async def admin_write(request: Request, _key: AdminDep) -> WriteContext:
    """The write context of an admin's request, its actor the key's name."""
    return _write_of(request)


CuratorWriteDep = Annotated[WriteContext, Depends(curator_write)]
AdminWriteDep = Annotated[WriteContext, Depends(admin_write)]
