"""Idempotency-Key on POST: a replay with the same body gets the first response and creates nothing.

How it works (one piece, used by every POST route through `idempotent_post`):
1. The request's fingerprint is SHA-256 of method, path, query and canonical JSON body.
2. Everything happens inside the one transaction the write middleware owns for the request
   (app.http.edge.writes): the record (actor = key name, key) is inserted first, the route runs, and its
   2xx/3xx answer is stored on the record; then the whole transaction commits: the write and its
   record become visible together, or (a crash, an error, a 4xx/5xx) neither does. No crash can
   leave an "in flight" record or a write without its record, so a retry replays the committed
   answer or performs the write once.
3. A concurrent duplicate waits for the owner: on SQLite behind the write lock, on PostgreSQL on the
   primary key of the uncommitted record; then it finds the record: another fingerprint → 422; the
   stored status, body and headers (Location, Content-Type, ETag) are replayed.
Records older than settings.idempotency_ttl_hours are swept at most once a minute per process, and
an expired record (or one left "in progress" by an older version of this code) is dropped when its
key is claimed again. The key check and the claim share one thread hop, and the answer is stored on
the record in the commit's own hop, the endpoint's (app.http.edge.writes: WriteRoute, before_commit).
A request without a valid key skips all this: the route itself answers 401/403.
"""

import hashlib
import json
import time
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy import Table, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.http.auth import token_of
from app.http.edge.writes import WriteRoute, request_write, take_write_slot
from app.http.problems import ProblemError
from app.models import IdempotencyRecord
from app.models.tables import utcnow
from app.writes import WriteContext

HEADER = "idempotency-key"
MAX_KEY = 200
REPLAYED_HEADERS = ("content-type", "location", "etag")
F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same": method, path, query and the body's JSON meaning."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(
        b"\x1f".join([method.encode(), path.encode(), query.encode(), canonical])
    ).hexdigest()


def actor_of(request: Request, write: WriteContext) -> str | None:
    """The name of the active key a request carries, or None (the route will answer 401).

    The key check is the app's (`app.state.key_owner`, wired by main.py): HTTP knows no keys."""
    token = token_of(request.headers.get("authorization"))
    owner: str | None = request.app.state.key_owner(write, token) if token else None
    return owner


SWEEP_SECONDS = 60.0
_swept_at = [float("-inf")]  # when this process last dropped expired records


def sweep_expired(*, session: Session) -> None:
    """Drop records past settings.idempotency_ttl_hours (at most once a minute per process; an
    expired record of the key being claimed is dropped by the claim itself)."""
    now = time.monotonic()
    if now - _swept_at[0] < SWEEP_SECONDS:
        return
    _swept_at[0] = now
    session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < expiry_cutoff()))


def expiry_cutoff() -> datetime:
    """Records created before this are forgotten."""
    return utcnow() - timedelta(hours=get_settings().idempotency_ttl_hours)


def held_record(session: Session, actor: str, key: str) -> IdempotencyRecord | None:
    """The committed record of (actor, key), dropping one that expired or that an older version of
    this code left unfinished."""
    existing = session.get(IdempotencyRecord, (actor, key), populate_existing=True)
    if existing is None:
        return None
    created = existing.created_at.replace(tzinfo=None)
    if existing.status_code is not None and created >= expiry_cutoff().replace(tzinfo=None):
        return existing
    session.delete(existing)
    session.flush()
    return None


def claim(
    *, session: Session, actor: str, key: str, method: str, path: str, digest: str, at: datetime
) -> IdempotencyRecord | None:
    """Make this request the owner of the key (None), or return the record that already holds it.

    Runs inside the request's write transaction: the insert is uncommitted until the write commits.
    A concurrent owner's uncommitted insert makes this one wait (PostgreSQL: on the primary key;
    SQLite: behind the write lock) and then do nothing: the record is looked up again."""
    sweep_expired(session=session)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for _ in range(3):
        existing = held_record(session, actor, key)
        if existing is not None:
            return existing
        row = {"actor": actor, "key": key, "method": method, "path": path[:500], "request_hash": digest}
        stmt = insert(IdempotencyRecord).values(**row, created_at=at).on_conflict_do_nothing()
        if session.execute(stmt.returning(col(IdempotencyRecord.key))).first() is not None:
            return None  # inserted (a conflict returns no row)
    raise ProblemError(409, "The Idempotency-Key is busy; retry.", code="idempotency-conflict")


def complete(*, session: Session, actor: str, key: str, response: Response) -> None:
    """Store the owner's successful response on its record, in the write's own transaction."""
    if response.status_code >= 400:
        return
    table: Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]  # Core: nothing to sync
    session.execute(
        update(table)
        .where(table.c.actor == actor, table.c.key == key)
        .values(
            status_code=response.status_code,
            response_body=bytes(response.body).decode("utf-8"),
            response_headers={h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers},
        )
    )


def answer_existing(rec: IdempotencyRecord, digest: str) -> Response:
    """The answer to a request whose key is already held (a committed, unexpired record): replay, or
    422 for another body."""
    if rec.request_hash != digest:
        raise ProblemError(
            422,
            "This Idempotency-Key was used with another request; use a new key.",
            code="idempotency-key-reused",
            parameter=HEADER,
        )
    assert rec.status_code is not None  # held_record drops unfinished records (none commit now)
    headers = {**(rec.response_headers or {}), "Idempotent-Replayed": "true"}
    return Response(content=rec.response_body or "", status_code=rec.status_code, headers=headers)


async def run_idempotently(request: Request, key: str, handler: Handler) -> Response:
    """Claim the key, then run the route once and keep its answer; or answer from the record."""
    if len(key) > MAX_KEY:
        raise ProblemError(
            422,
            f"An Idempotency-Key is at most {MAX_KEY} characters.",
            code="invalid-input",
            parameter=HEADER,
        )
    write = request_write(request)
    if write is None:  # not behind the write middleware: nothing to make atomic with
        return await handler(request)
    session = write.session
    body = await request.body()
    digest = fingerprint(request.method, request.url.path, request.url.query, body)
    path = request.url.path

    def start() -> tuple[str | None, IdempotencyRecord | None]:
        """In one thread hop: the write lock, whose key this is, and the claim on it."""
        write.lock()
        actor = actor_of(request, write)
        if actor is None:
            return None, None
        return actor, claim(
            session=session, actor=actor, key=key, method="POST", path=path, digest=digest, at=write.instant
        )

    if not token_of(request.headers.get("authorization")):
        return await handler(request)  # the route answers 401
    await take_write_slot(request)
    actor, existing = await run_in_threadpool(start)
    if actor is None:
        return await handler(request)
    if existing is not None:
        return answer_existing(existing, digest)
    write.before_commit(lambda answer: complete(session=session, actor=actor, key=key, response=answer))
    return await handler(request)


class IdempotentRoute(WriteRoute):
    """A route whose POSTs honour Idempotency-Key."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def idempotent_handler(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if request.method != "POST" or not key:
                return await handler(request)
            return await run_idempotently(request, key, handler)

        return idempotent_handler


async def _documented_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=MAX_KEY,
            description="Send the same key again to get the first response back instead of a second write.",
        ),
    ] = None,
) -> None:
    """Declares the header for the OpenAPI document (IdempotentRoute does the work)."""


def idempotent_post(router: APIRouter, path: str, **kwargs: Any) -> Callable[[F], F]:
    """Like `@router.post(path, ...)`, with Idempotency-Key replay."""

    def decorate(endpoint: F) -> F:
        deps = [*kwargs.pop("dependencies", []), Depends(_documented_key)]
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            route_class_override=IdempotentRoute,
            dependencies=deps,
            **kwargs,
        )
        return endpoint

    return decorate
