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
Records older than settings.idempotency_ttl_hours are swept at most once a minute per app (its
`Sweeper`, app.state.idempotency), and an expired record (or one left "in progress" by an older
version of this code) is dropped when its key is claimed again. The claim is made when the write lock
is taken (`WriteContext.when_locked`), in the hop of the key check; a route that does slow work
before its lock (POST /sources fetching a page) answers a replay before that work
(`replay_before_lock`) and is claimed under the lock all the same. The answer is stored on the
record in the commit's own hop, the endpoint's (app.http.edge.writes: WriteRoute, before_commit).
A request without a valid key skips all this: the route itself answers 401/403.
"""

import hashlib
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
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
from app.http.edge.writes import WriteRoute, request_write
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


class Sweeper:
    """When this app last dropped expired records (made with the app: `app.state.idempotency`)."""

    def __init__(self, every: float = SWEEP_SECONDS) -> None:
        self.every, self.swept_at = every, float("-inf")

    def due(self) -> bool:
        """True at most once per `every` seconds (and then counts as swept)."""
        now = time.monotonic()
        if now - self.swept_at < self.every:
            return False
        self.swept_at = now
        return True


def sweep_expired(*, session: Session, sweeper: Sweeper) -> None:
    """Drop records past settings.idempotency_ttl_hours (at most once a minute per app; an expired
    record of the key being claimed is dropped by the claim itself)."""
    if sweeper.due():
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
    *,
    session: Session,
    actor: str,
    key: str,
    method: str,
    path: str,
    digest: str,
    at: datetime,
    sweeper: Sweeper,
) -> IdempotencyRecord | None:
    """Make this request the owner of the key (None), or return the record that already holds it.

    Runs inside the request's write transaction: the insert is uncommitted until the write commits.
    A concurrent owner's uncommitted insert makes this one wait (PostgreSQL: on the primary key;
    SQLite: behind the write lock) and then do nothing: the record is looked up again."""
    sweep_expired(session=session, sweeper=sweeper)
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


class Replayed(Exception):
    """The request's key already holds a committed answer: this one is sent instead of the route's."""

    def __init__(self, answer: Response) -> None:
        super().__init__("replayed")
        self.answer = answer


@dataclass
class KeyClaim:
    """A request's Idempotency-Key, claimed once the write lock is held (`WriteContext.when_locked`),
    so a route may do slow work first (a page fetch) and still claim under the lock."""

    request: Request
    write: WriteContext
    key: str
    digest: str

    def under_lock(self) -> None:
        """Whose key this is and the claim on it; Replayed when a committed answer holds the key."""
        actor = actor_of(self.request, self.write)
        if actor is None:
            return  # the route answers 401
        session, key = self.write.session, self.key
        existing = claim(
            session=session,
            actor=actor,
            key=key,
            method="POST",
            path=self.request.url.path,
            digest=self.digest,
            at=self.write.instant,
            sweeper=self.request.app.state.idempotency,
        )
        if existing is not None:
            raise Replayed(answer_existing(existing, self.digest))
        self.write.before_commit(
            lambda answer: complete(session=session, actor=actor, key=key, response=answer)
        )

    def replay_early(self, actor: str) -> None:
        """Before the lock (and before slow work): Replayed when a committed answer holds the key
        already, read in a session of its own (the write's takes the lock at its first statement)."""
        with self.request.app.state.sessions() as session:
            rec = session.get(IdempotencyRecord, (actor, self.key))
            fresh = rec is not None and rec.created_at.replace(tzinfo=None) >= expiry_cutoff().replace(
                tzinfo=None
            )
            if rec is not None and rec.status_code is not None and fresh:
                raise Replayed(answer_existing(rec, self.digest))


CLAIM_STATE = "idempotency_claim"


async def replay_before_lock(request: Request, actor: str) -> None:
    """For a route doing slow work before its write lock: answer a replay now (Replayed), without
    the work; the claim under the lock checks again."""
    state: Any = request.scope.get("state", {})
    pending = state.get(CLAIM_STATE) if isinstance(state, dict) else None
    if isinstance(pending, KeyClaim):
        await run_in_threadpool(pending.replay_early, actor)


async def run_idempotently(request: Request, key: str, handler: Handler) -> Response:
    """Claim the key when the write lock is taken, then run the route once and keep its answer; or
    answer from the record."""
    if len(key) > MAX_KEY:
        raise ProblemError(
            422,
            f"An Idempotency-Key is at most {MAX_KEY} characters.",
            code="invalid-input",
            parameter=HEADER,
        )
    write = request_write(request)
    if write is None or not token_of(request.headers.get("authorization")):
        return await handler(request)  # not behind the write middleware, or the route answers 401
    body = await request.body()
    pending = KeyClaim(
        request, write, key, fingerprint(request.method, request.url.path, request.url.query, body)
    )
    request.scope.setdefault("state", {})[CLAIM_STATE] = pending
    write.when_locked(pending.under_lock)
    try:
        return await handler(request)
    except Replayed as replayed:
        return replayed.answer


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
