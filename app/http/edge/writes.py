"""Writes at the edge: bounded write slots, one transaction per write request, 503 when busy.

Every write request (POST, PUT, PATCH, DELETE under /api/) is routed and its body parsed without a
slot; just before its first statement (`take_write_slot`: the key check) it waits for one of the
process's write slots in the event loop, holding no thread and no pooled connection, for at most
`timeout` seconds (then a 503 with `Retry-After`), and gives it back once committed. Reads that
arrive while a write holds a slot wait for it first, boundedly (`WritesFirst`). SQLite gets one
slot per process (it has one writer anyway; other processes queue in BEGIN IMMEDIATE's bounded
busy wait, also a 503 past it);
PostgreSQL `write_concurrency` slots, fewer than the pool, so reads keep a connection during write
bursts. A write request gets one `WriteContext` (app/writes.py) whose transaction this middleware
owns (`edge_commits`): the route's key check, its rows, its audit entries, its idempotency record
and its rendered answer share it; its first statement takes the write lock (`WriteContext.lock`),
and it commits (`WriteContext.commit`, with the steps registered by `before_commit`) after the
answer is rendered and before it is sent (rolled back for any 4xx/5xx). A write route
(`WriteRoute`) renders its answer and commits in the endpoint's own thread hop: under load every
return to the event loop waits behind the reads queued there, while the write lock is held. A
request holds one connection; no answer is sent for a write that did not commit, and no 500
covers one that did.
"""

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.problems import busy_response, is_retryable
from app.writes import WriteContext

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = logging.getLogger("opstats")
SessionScope = Callable[[], AbstractContextManager[Session]]


def is_write(scope: Scope) -> bool:
    """A write request to the API (the only requests that take a write slot)."""
    return scope["type"] == "http" and scope["method"] in WRITE_METHODS and scope["path"].startswith("/api/")


class WriteSlots:
    """An asyncio semaphore made in the running loop (test clients start a loop per client), and
    whether a write is running (reads arriving then let it finish first: `yield_to_writes`)."""

    def __init__(self, slots: int, timeout: float, read_pause: float = 0.0) -> None:
        self.slots, self.timeout, self.read_pause = max(1, slots), timeout, read_pause
        self._sem: asyncio.Semaphore | None = None
        self._idle = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.running = 0

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._loop is not loop:
            self._sem, self._idle, self._loop = asyncio.Semaphore(self.slots), asyncio.Event(), loop
            self._idle.set()
            self.running = 0
        return self._sem

    async def acquire(self) -> bool:
        """Wait for a slot; False when none came free within the timeout."""
        sem = self._semaphore()
        try:
            await asyncio.wait_for(sem.acquire(), self.timeout)
        except TimeoutError:
            return False
        self.running += 1
        self._idle.clear()
        return True

    def release(self) -> None:
        sem = self._semaphore()
        self.running -= 1
        if self.running <= 0:
            self.running = 0
            self._idle.set()
        sem.release()

    async def yield_to_writes(self) -> None:
        """Wait (at most `read_pause` seconds) for the running writes to finish.

        One process runs Python on one core at a time: a write holding the write lock shares it with
        every read served meanwhile, so under load it holds the lock (and the writes queued behind it
        wait) for several times its own cost. Reads that arrive while a write runs let it finish
        first, for a bounded time, so a burst of writes never stops reads."""
        if self.running and self.read_pause > 0 and self._loop is asyncio.get_running_loop():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.read_pause)

    @property
    def waiting(self) -> int:
        """Requests queued for a slot (for the metrics)."""
        sem = self._sem
        return len(getattr(sem, "_waiters", None) or ()) if sem is not None else 0


class QueueFull(Exception):
    """No write slot came free within the write lock timeout."""


Announce = Callable[[int], object] | None  # waits until a committed version is seen (VersionSource.wait_for)


class OwnedWrite:
    """The write context of one request, whose transaction the middleware opens, and commits or
    rolls back.

    Made on the event loop (a session does no I/O until used). The request takes its write slot
    just before its first statement (`take_write_slot`: routing, middleware and body parsing run
    without it) and gives it back once committed; the write lock is taken by the context's `lock`
    at that first statement (the key check), not by a hop of its own."""

    def __init__(self, sessions: SessionScope, slots: WriteSlots, announce: Announce = None) -> None:
        self._scope = sessions()
        self._announce = announce
        self.write = WriteContext(self._scope.__enter__(), edge_commits=True, before_lock=self._slot_held)
        self.closed = False
        self.slots = slots
        self.has_slot = False
        self._loop = asyncio.get_running_loop()

    def _slot_held(self) -> None:
        """Each path to a write's first statement takes the slot first."""
        if not self.has_slot:
            raise RuntimeError("a write request reached the database without its write slot")

    async def take_slot(self) -> None:
        """Wait for a write slot (once); QueueFull when none comes free in time."""
        if not self.has_slot:
            if not await self.slots.acquire():
                raise QueueFull
            self.has_slot = True

    def give_slot_back(self) -> None:
        """Release the slot (on the event loop; once)."""
        if self.has_slot:
            self.has_slot = False
            self.slots.release()

    def close(self, *, commit: bool, answer: Response | None = None) -> None:
        """Commit the write with its answer (or roll it back) and give the connection and the slot
        back; once only (a write route closes it in its own hop, the middleware after). A commit that
        set a data version returns once readers can see it."""
        if self.closed:
            return
        self.closed = True
        version = None
        try:
            if commit:
                version = self.write.commit(answer)
            else:
                self.write.rollback()
        finally:
            self._scope.__exit__(None, None, None)
            self._loop.call_soon_threadsafe(self.give_slot_back)  # from the commit's thread too
        self._announced(version)

    def _announced(self, version: int | None) -> None:
        """After the commit of a write that set `version` (its connection and slot given back): wait
        until this process's readers can see it (`VersionSource.wait_for`); the answer goes after."""
        if version is not None and self._announce is not None:
            self._announce(version)


class WritesFirst:
    """Reads (every request but a write) arriving while a write runs wait for it, boundedly
    (`WriteSlots.yield_to_writes`)."""

    def __init__(self, app: ASGIApp, *, slots: WriteSlots) -> None:
        self.app, self.slots = app, slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.slots.running and scope["type"] == "http" and not is_write(scope):
            await self.slots.yield_to_writes()
        await self.app(scope, receive, send)


class WriteTransactionMiddleware:
    """Write slots and the one owned transaction of each write request (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, sessions: SessionScope, slots: WriteSlots, announce: Announce = None
    ) -> None:
        self.app, self.sessions, self.slots, self.announce = app, sessions, slots, announce

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_write(scope):
            await self.app(scope, receive, send)
            return
        owner = OwnedWrite(self.sessions, self.slots, self.announce)
        try:
            answer = await self._owned(owner, scope, receive)
        finally:
            owner.give_slot_back()  # once committed or rolled back: the answer is sent without it
        if answer is None:
            await busy_response()(scope, receive, send)
            return
        for message in answer:
            await send(message)

    async def _owned(self, owner: OwnedWrite, scope: Scope, receive: Receive) -> list[Message] | None:
        """Run the request in its own transaction; its answer's messages, or None when the commit
        found the database busy (nothing was written)."""
        scope.setdefault("state", {}).update(write_owner=owner)
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            await run_in_threadpool(lambda: owner.close(commit=False))
            raise
        status = next((m["status"] for m in held if m["type"] == "http.response.start"), 500)
        if owner.closed:  # a write route committed (or rolled back) in its own hop
            return held
        try:
            await run_in_threadpool(lambda: owner.close(commit=status < 400, answer=_answer_of(held)))
        except Exception as exc:
            if not is_retryable(exc):
                raise
            log.warning("write not committed: the database was busy")
            return None
        return held


async def _on_queue_full(_request: Request, _exc: Exception) -> Response:
    """Every write slot stayed taken past WRITE_LOCK_TIMEOUT: 503, retry."""
    return busy_response("Too many writes are queued; retry shortly.")


def install_busy_handlers(app: FastAPI) -> None:
    """Answer a full write queue with a 503 and Retry-After (database errors: app/http/problems.py)."""
    app.add_exception_handler(QueueFull, _on_queue_full)


async def take_write_slot(request: Request) -> None:
    """Wait for this write request's slot, just before its first statement (a no-op outside a
    write request or once taken); a 503 with Retry-After when none comes free in time."""
    state: Any = request.scope.get("state", {})
    owner = state.get("write_owner") if isinstance(state, dict) else None
    if isinstance(owner, OwnedWrite):
        await owner.take_slot()


def _answer_of(held: list[Message]) -> Response:
    """The answer held as ASGI messages, as a Response (for the before-commit steps)."""
    start: Message = next((m for m in held if m["type"] == "http.response.start"), {"status": 500})
    body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
    answer = Response(body, status_code=start["status"])
    answer.raw_headers = list(start.get("headers", []))
    return answer


REQUEST_ARG = "opstats_request"
ANSWER_ARG = "opstats_answer"
COMMITS = "opstats_commits"  # marks an endpoint wrapped to commit in its own hop


class WriteRoute(APIRoute):
    """A route whose write endpoints (sync) render their answer and commit in their own thread hop."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        writes = set(kwargs.get("methods") or ()) & WRITE_METHODS
        if writes and not inspect.iscoroutinefunction(endpoint) and not hasattr(endpoint, COMMITS):
            endpoint = self._committing(endpoint)  # (a router included in another passes it wrapped)
        super().__init__(path, endpoint, **kwargs)

    def _committing(self, endpoint: Callable[..., Any]) -> Callable[..., Any]:
        """`endpoint`, then its answer rendered as FastAPI would (the route's response model, by
        alias), then the request's owned write committed: one thread hop from the rows to the commit."""
        sig = inspect.signature(endpoint)
        own = next((n for n, p in sig.parameters.items() if p.annotation is Response), None)
        added = [inspect.Parameter(REQUEST_ARG, inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
        if own is None:
            added.append(inspect.Parameter(ANSWER_ARG, inspect.Parameter.KEYWORD_ONLY, annotation=Response))

        @functools.wraps(endpoint)
        def committing(**kwargs: Any) -> Response:
            request: Request = kwargs.pop(REQUEST_ARG)
            sub: Response = kwargs[own] if own else kwargs.pop(ANSWER_ARG)
            value = endpoint(**kwargs)
            answer = value if isinstance(value, Response) else self._rendered(value, sub)
            owner = request.scope.get("state", {}).get("write_owner")
            if isinstance(owner, OwnedWrite):
                owner.close(commit=answer.status_code < 400, answer=answer)
            return answer

        committing.__signature__ = sig.replace(parameters=[*sig.parameters.values(), *added])  # type: ignore[attr-defined]
        setattr(committing, COMMITS, True)
        return committing

    @functools.cached_property
    def _adapter(self) -> TypeAdapter[Any]:
        """The response model's validator and serialiser (made once, at the first write)."""
        return TypeAdapter(self.response_model)

    def _rendered(self, value: Any, sub: Response) -> Response:
        """The JSON answer FastAPI would make of `value`, with the status and headers set on `sub`."""
        adapter = self._adapter
        body = adapter.dump_json(adapter.validate_python(value, from_attributes=True), by_alias=True)
        answer = Response(
            body, status_code=sub.status_code or self.status_code or 200, media_type="application/json"
        )
        answer.raw_headers.extend(sub.raw_headers)
        return answer


def request_write(request: Request) -> WriteContext | None:
    """The write context of the write request this is, if any."""
    state: Any = request.scope.get("state", {})
    owner = state.get("write_owner") if isinstance(state, dict) else None
    return owner.write if isinstance(owner, OwnedWrite) else None
