"""Idempotency-Key on POST: a replay with the same body gets the first response and creates nothing.

How it works (one piece, used by every POST route through `idempotent_post`):
1. The request's fingerprint is SHA-256 of method, path, query and canonical JSON body.
2. A record (actor = key name, key) is inserted with no status ("in progress") in its own committed
   transaction, so concurrent duplicates (other threads, workers or servers) see it at once: the
   primary key makes exactly one request the owner.
3. A loser finds the record: another fingerprint → 422; still in progress → 409; done → the stored
   status, body and headers (Location, Content-Type, ETag) are replayed.
4. The owner runs the route; a 2xx/3xx answer is stored on the record. An error (4xx, 5xx or an
   exception) deletes the record, so fixing the cause and retrying with the same key works: only
   successes are replayed.
Records older than settings.idempotency_ttl_hours are purged whenever a key is claimed; a record still
"in progress" after ABANDONED_AFTER (its process died) is dropped so its key can be used again.
A request without a valid key skips all this: the route itself answers 401/403.
"""

import hashlib
import json
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import and_, delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.db import write_transaction
from app.http.auth import token_of
from app.http.problems import ProblemError
from app.models import IdempotencyRecord
from app.models.tables import utcnow

HEADER = "idempotency-key"
MAX_KEY = 200
ABANDONED_AFTER = timedelta(minutes=10)  # an unfinished request older than this died (crash, kill)
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


def actor_of(request: Request, session: Session) -> str | None:
    """The name of the active key a request carries, or None (the route will answer 401).

    The key check is the app's (`app.state.key_owner`, wired by main.py): HTTP knows no keys."""
    token = token_of(request.headers.get("authorization"))
    return request.app.state.key_owner(session, token) if token else None


def purge(*, session: Session, actor: str, key: str) -> None:
    """Drop expired records, and this key's record when its request died without finishing."""
    now = utcnow()
    expired = col(IdempotencyRecord.created_at) < now - timedelta(hours=get_settings().idempotency_ttl_hours)
    abandoned = and_(
        col(IdempotencyRecord.actor) == actor,
        col(IdempotencyRecord.key) == key,
        col(IdempotencyRecord.status_code).is_(None),
        col(IdempotencyRecord.created_at) < now - ABANDONED_AFTER,
    )
    session.execute(delete(IdempotencyRecord).where(or_(expired, abandoned)))


def claim(
    *, session: Session, actor: str, key: str, method: str, path: str, digest: str
) -> IdempotencyRecord | None:
    """Make this request the owner of the key (None), or return the record that already holds it."""
    for _ in range(3):
        try:
            with write_transaction(session):
                purge(session=session, actor=actor, key=key)
                existing = session.get(IdempotencyRecord, (actor, key), populate_existing=True)
                if existing is not None:
                    session.expunge(existing)  # keep its loaded state past the commit
                    return existing
                session.add(
                    IdempotencyRecord(
                        actor=actor, key=key, method=method, path=path[:500], request_hash=digest
                    )
                )
            return None
        except IntegrityError:  # a concurrent duplicate inserted it first: look again
            continue
    raise ProblemError(409, "The Idempotency-Key is busy; retry.", code="idempotency-conflict")


def finish(*, session: Session, actor: str, key: str, response: Response | None) -> None:
    """Store the owner's successful response, or free the key after a failure."""
    with write_transaction(session):
        rec = session.get(IdempotencyRecord, (actor, key), with_for_update=True, populate_existing=True)
        if rec is None:
            return
        if response is None or response.status_code >= 400:
            session.delete(rec)
            return
        rec.status_code = response.status_code
        rec.response_body = bytes(response.body).decode("utf-8")
        rec.response_headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
        session.add(rec)


def answer_existing(rec: IdempotencyRecord, digest: str) -> Response:
    """The answer to a request whose key is already held: replay, 409 in progress, 422 other body."""
    if rec.request_hash != digest:
        raise ProblemError(
            422,
            "This Idempotency-Key was used with another request; use a new key.",
            code="idempotency-key-reused",
        )
    if rec.status_code is None:
        raise ProblemError(
            409,
            "A request with this Idempotency-Key is still running; retry shortly.",
            code="idempotency-in-progress",
        )
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
    body = await request.body()
    digest = fingerprint(request.method, request.url.path, request.url.query, body)

    def start() -> tuple[str | None, IdempotencyRecord | None]:
        with request.app.state.sessions() as session:
            actor = actor_of(request, session)
            if actor is None:
                return None, None
            path = request.url.path
            return actor, claim(
                session=session, actor=actor, key=key, method="POST", path=path, digest=digest
            )

    def end(actor: str, response: Response | None) -> None:
        with request.app.state.sessions() as session:
            finish(session=session, actor=actor, key=key, response=response)

    actor, existing = await run_in_threadpool(start)
    if actor is None:
        return await handler(request)
    if existing is not None:
        return answer_existing(existing, digest)
    try:
        response = await handler(request)
    except BaseException:
        await run_in_threadpool(end, actor, None)
        raise
    await run_in_threadpool(end, actor, response)
    return response


class IdempotentRoute(APIRoute):
    """A route whose POSTs honour Idempotency-Key."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def idempotent_handler(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if request.method != "POST" or not key:
                return await handler(request)
            return await run_idempotently(request, key, handler)

        return idempotent_handler


def _documented_key(
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
