"""Conditional GETs at the edge: ETag from the data version, 304 and cached bodies before any query.

For the read resources (every GET under /api/v1 its route does not name exempt: `VersionedPaths`,
taken from the app's router) the ETag is derived from (database epoch, data version, path,
query, representation; the epoch is new whenever the database is made anew, so no ETag or cached
body outlives a reset): the state comes from a `VersionSource` (app/versions.py: a kept SQLite
connection's data_version or a PostgreSQL LISTEN, microseconds; a query when those are not
available), so a write through any worker is seen by every worker's next GET, and a matching
If-None-Match is answered 304 without routing, validation or queries, and a repeated GET is
served from an in-process LRU of rendered bodies, as ASGI messages of bytes. Every other
successful GET without its own ETag gets one from a hash of its body and `Cache-Control:
no-cache` (revalidate each time). Versioned GETs carry the Cache-Control of
`app.http.negotiation.cache_control` and every successful GET `Vary: Accept`; errors carry
`Cache-Control: no-store`. HEAD is answered as GET without a body.

Most versioned resources are keyed by the content version (the version of the last write that
changed more than the source registry: app/domain/scopes.py), so storing a new press release
leaves the ETags and cached bodies of totals, results and operations as they were; /sources and
/changes (`x-etag: data-version`) are keyed by the data version itself. Answers without `at=` under /api/v1
carry `Data-Version` and `Last-Modified` (the time of the last write), set as each answer is sent
(a cached body keeps its bytes, not its version headers). An `at=` answer of a settled instant
(app/versions.py `settled`, decided from the state read here, before the route reads the data) is
of a past state that never changes: its ETag names (path, query, representation) only, it is
`immutable`, and it is kept in a cache of its own, never under a data version. An instant not yet
settled (a write stamped at or before it may still be committing) is answered at once from what
is committed, with `Cache-Control: no-cache`, and kept nowhere (`request.state.at_settled` False
tells the routes' value caches so).
"""

import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.caches import Caches
from app.domain.instants import instant_of
from app.http.edge.body import nul_location
from app.http.negotiation import IMMUTABLE, cache_control, representation_of, request_header
from app.http.problems import busy_response, is_retryable, problem_response
from app.http.routes import route_contexts
from app.versions import DataState, VersionSource, settled

ETAG = "x-etag"  # a GET route's openapi_extra member: how its ETag is made (default CONTENT)
CONTENT = "content-version"  # the content version: writes to the source registry leave it
DATA = "data-version"  # the data version: every write changes it (EVERY_WRITE)
EXEMPT = frozenset({"own", "body-hash"})  # the route sets its own ETag, or its body's hash is it


@dataclass(frozen=True)
class VersionedPaths:
    """Which GET paths are versioned, taken from the app's router: every GET under /api/v1 is, by
    the content version unless its route says `x-etag: data-version` (EVERY_WRITE) or names itself
    exempt (`own`: it sets its ETag itself; `body-hash`)."""

    content: tuple[re.Pattern[str], ...] = ()
    every_write: tuple[re.Pattern[str], ...] = ()

    def versioned(self, path: str) -> bool:
        return any(p.match(path) for p in self.content) or self.every_write_path(path)

    def every_write_path(self, path: str) -> bool:
        return any(p.match(path) for p in self.every_write)


def etag_mode(route: APIRoute) -> str:
    """How a GET route's answers get their ETag (its `x-etag`, by default the content version)."""
    return str((route.openapi_extra or {}).get(ETAG, CONTENT))


def versioned_paths(routes: Iterable[BaseRoute]) -> VersionedPaths:
    """The versioned GET paths of these routes (an app's: `app.routes`)."""
    content: list[re.Pattern[str]] = []
    every_write: list[re.Pattern[str]] = []
    for route, path in route_contexts(routes):
        if not isinstance(route, APIRoute) or "GET" not in (route.methods or set()):
            continue
        if not path.startswith("/api/v1/"):
            continue
        mode = etag_mode(route)
        if mode not in EXEMPT:
            (every_write if mode == DATA else content).append(compile_path(path)[0])
    return VersionedPaths(tuple(content), tuple(every_write))


MAX_HELD_BODY = 1_000_000  # a plain GET's body is held (to hash it) up to this size
PLAIN_CACHE_CONTROL = "no-cache"  # bodies outside VERSIONED may change without a version bump
SendFn = Callable[[Message], Awaitable[None]]
SETTLE_BOUND = 21.0  # seconds after which an instant is settled whatever was written (main.py sets it)


def make_etag(*parts: object) -> str:
    """A strong ETag naming one representation of one state."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def none_match(header: str | None, etag: str) -> bool:
    """True when If-None-Match names this exact ETag (strong or weak form; `*` is not taken)."""
    if not header:
        return False
    tags = {t.strip() for t in header.split(",")}
    return etag in tags or f"W/{etag}" in tags


@dataclass
class Capture:
    """A response as it passes: its start message and, while small enough, its body."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    complete: bool = False
    limit: int = MAX_HELD_BODY  # bodies larger than this are passed on, not kept

    def add(self, body: bytes, more: bool) -> None:
        self.size += len(body)
        if self.size <= self.limit:
            self.chunks.append(body)
        self.complete = not more

    @property
    def cacheable(self) -> bool:
        return self.status == 200 and self.complete and self.size <= self.limit

    def cached(self) -> "Cached":
        """What the body cache keeps: headers, body bytes and the ETag they carry."""
        etag = next((v for k, v in self.headers if k == b"etag"), b"").decode("latin-1")
        return self.headers, b"".join(self.chunks), etag


def _success_headers(message: MutableMapping[str, Any], etag: str | None, control: str | None = None) -> None:
    """ETag (unless the route set one), Cache-Control and Vary: Accept on a 200."""
    headers = MutableHeaders(scope=message)
    if etag and "etag" not in headers:
        headers["ETag"] = etag
    if "cache-control" not in headers:
        headers["Cache-Control"] = control or cache_control()
    if "accept" not in headers.get("vary", "").lower():
        headers["Vary"] = ", ".join([*headers.getlist("vary"), "Accept"])


def _error_headers(message: MutableMapping[str, Any]) -> None:
    headers = MutableHeaders(scope=message)
    if "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"


def has_instant(query_string: bytes) -> bool:
    """True when the query names an `at=` instant (validated by the route)."""
    if b"at" not in query_string and b"%" not in query_string:  # no parse on the hot path
        return False
    return any(k == "at" and v for k, v in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


def _query_value(scope: Scope, name: str) -> str | None:
    """The last value of one query parameter."""
    query = scope.get("query_string", b"").decode("latin-1")
    found = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == name]
    return found[-1] if found else None


async def _send_304(send: SendFn, etag: str, control: str | None = None) -> None:
    """Not Modified: the ETag, Cache-Control and Vary a 200 would carry, and no body."""
    headers = [
        (b"etag", etag.encode("latin-1")),
        (b"cache-control", (control or cache_control()).encode("latin-1")),
        (b"vary", b"Accept"),
    ]
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class ConditionalGetMiddleware:
    """ETags, 304s and a body cache for GETs; NUL bytes in the URL refused for every method."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        versions: VersionSource,
        caches: Caches,
        versioned: VersionedPaths,
        settle_bound: float = SETTLE_BOUND,
    ) -> None:
        self.app = app
        self.settle_bound = settle_bound
        self.versions = versions
        self.cache = caches.responses  # keyed by the content version
        self.live = caches.live  # EVERY_WRITE: keyed by the data version
        self.frozen = caches.frozen  # at= answers: one version (0), never change
        self.versioned = versioned

    async def state(self) -> DataState:
        """Epoch, version and Last-Modified: peeked in microseconds when the source can, else read off
        the event loop."""
        peeked = self.versions.peek()
        return peeked if peeked is not None else await run_in_threadpool(self.versions.read)

    async def _state_or_busy(self, scope: Scope, receive: Receive, send: Send) -> DataState | None:
        """The state; or, when the database cannot be read (down, or no connection free in time), a
        503 with Retry-After sent and None: never a 500 from out here, where no route handles it."""
        try:
            return await self.state()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            await busy_response("The database cannot be reached; retry shortly.")(scope, receive, send)
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            response = problem_response(
                422, "The URL holds a NUL character.", code="invalid-input", **nul_location(scope)
            )
            await response(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
            send = _without_body(send)
        rep = representation_of(scope.get("query_string", b""), request_header(scope, b"accept"))
        if has_instant(scope.get("query_string", b"")):
            await self._immutable(scope, receive, send, rep)
        elif self.versioned.versioned(scope["path"]) and rep != "invalid":
            await self._versioned(scope, receive, send, rep)
        else:
            await self._plain(scope, receive, send)

    async def _immutable(self, scope: Scope, receive: Receive, send: Send, rep: str) -> None:
        """An `at=` answer: a state that never changes, cached (and revalidated) by its URL and the headers
        that choose its representation (Host too: a citation holds absolute URLs)."""
        found = await self._state_or_busy(scope, receive, send)
        if found is None:
            return
        at = instant_of(_query_value(scope, "at"))  # None: malformed, the route answers 422
        if at is not None and not settled(found, at, self.settle_bound):
            await self._unsettled(scope, receive, send)
            return
        epoch = found.epoch
        self.frozen.observe_epoch(epoch)  # a database made anew has another past
        query = scope.get("query_string", b"").decode("latin-1")
        headers = Headers(scope=scope)
        key = (epoch, headers.get("host", ""), scope["path"], query, rep, headers.get("accept", ""))
        etag = make_etag("at", *key)
        if none_match(headers.get("if-none-match"), etag):
            await _send_304(send, etag, IMMUTABLE)
            return
        hit = self.frozen.get(0, key)
        if hit is not None:
            if hit[2] and none_match(headers.get("if-none-match"), hit[2]):
                await _send_304(send, hit[2], IMMUTABLE)
                return
            await _send_cached(send, hit)
            return
        cap = Capture(limit=self.frozen.max_value_bytes)
        await self.app(scope, receive, _capturing(send, cap, etag, control=IMMUTABLE))
        if cap.cacheable:
            self.frozen.put(0, key, cap.cached())

    async def _unsettled(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An `at=` instant not yet settled: answered from what is committed, revalidated each time
        (`no-cache`, whatever the route set), kept in no cache."""
        scope.setdefault("state", {}).update(at_settled=False)

        async def revalidated(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] in (200, 304):
                    MutableHeaders(scope=message)["Cache-Control"] = PLAIN_CACHE_CONTROL
                    _success_headers(message, None)
                else:
                    _error_headers(message)
            await send(message)

        await self.app(scope, receive, revalidated)

    async def _versioned(self, scope: Scope, receive: Receive, send: Send, rep: str) -> None:
        """Answer from the content (or data) version: 304, a cached body, or the app (its body cached)."""
        state = await self._state_or_busy(scope, receive, send)
        if state is None:
            return
        epoch = state.epoch
        every_write = self.versioned.every_write_path(scope["path"])
        cache = self.live if every_write else self.cache
        version = keyed_version(state, every_write)
        scope.setdefault("state", {}).update(data_version=state.version, data_epoch=epoch)
        cache.observe_epoch(epoch)
        query = scope.get("query_string", b"").decode("latin-1")
        key = (scope["path"], query, rep)
        hit = cache.get(version, key)  # a hit knows its ETag: no hashing on the hot path
        etag = hit[2] if hit is not None else make_etag("v1", epoch, version, scope["path"], query, rep)
        if none_match(request_header(scope, b"if-none-match"), etag):
            await _send_304(send, etag)
            return
        if hit is not None:
            await _send_cached(send, hit, _version_headers(state))
            return
        cap = Capture(limit=cache.max_value_bytes)
        await self.app(scope, receive, _capturing(send, cap, etag, extra=_version_headers(state)))
        if not cap.cacheable:
            return
        with suppress(OperationalError, PoolTimeout):  # unread: the answer is sent, just not kept
            after = await self.state()
            if after.epoch == epoch and keyed_version(after, every_write) == version:
                cache.put(version, key, cap.cached())

    async def _plain(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Any other GET: an ETag from the body hash when the route set none, and 304 on a match."""
        held = _HeldResponse(send, request_header(scope, b"if-none-match"))
        if scope["path"].startswith("/api/v1/"):
            state = await self._state_or_busy(scope, receive, send)
            if state is None:
                return
            held.extra = _version_headers(state)
        await self.app(scope, receive, held.hold)


Cached = tuple[list[tuple[bytes, bytes]], bytes, str]  # headers, body, ETag


async def _send_cached(send: Send, hit: Cached, extra: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """A remembered 200: its headers and body bytes as they were sent the first time, and `extra`
    (the version headers of now)."""
    await send({"type": "http.response.start", "status": 200, "headers": [*hit[0], *extra]})
    await send({"type": "http.response.body", "body": hit[1]})


def _capturing(
    send: Send,
    cap: Capture,
    etag: str,
    *,
    control: str | None = None,
    extra: Sequence[tuple[bytes, bytes]] = (),
) -> SendFn:
    """A send that gives a 200 its ETag and Cache-Control (an error no-store), adds `extra` headers,
    and keeps what passes in `cap` (headers without `extra`) so it can be cached."""

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            cap.status = message["status"]
            if cap.status == 200:
                if control:
                    MutableHeaders(scope=message)["Cache-Control"] = control
                _success_headers(message, etag)
            else:
                _error_headers(message)
            cap.headers = list(message.get("headers", []))
            message["headers"] = [*cap.headers, *extra]
        elif message["type"] == "http.response.body":
            cap.add(message.get("body", b""), message.get("more_body", False))
        await send(message)

    return capture


def keyed_version(state: DataState, every_write: bool) -> int:
    """What an answer's ETag and cache entry are keyed by: the data version for EVERY_WRITE paths,
    else the content version."""
    return state.version if every_write else state.content


@lru_cache(maxsize=8)
def _version_headers(state: DataState) -> tuple[tuple[bytes, bytes], ...]:
    """Data-Version and Last-Modified of a current answer (built once per state, not per request)."""
    headers = ((b"data-version", str(state.version).encode()),)
    return (*headers, (b"last-modified", state.modified.encode())) if state.modified else headers


class _HeldResponse:
    """A plain GET's answer, held until its body is known (to hash it) or too large to hold."""

    def __init__(self, send: Send, if_none_match: str | None) -> None:
        self.send, self.inm = send, if_none_match
        self.held: list[Message] = []
        self.cap = Capture()
        self.answered = False
        self.extra: Sequence[tuple[bytes, bytes]] = ()

    async def hold(self, message: Message) -> None:
        """Keep the start and body chunks until the body is complete (or too large to keep)."""
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.cap.status = message["status"]
            self.held.append(message)
            return
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        self.cap.add(message.get("body", b""), message.get("more_body", False))
        if not self.held:
            await self.send(message)
        elif self.cap.complete:
            self.held.append(message)
            await self.release(None)
        elif self.cap.size > MAX_HELD_BODY:
            await self.release(message)
        else:
            self.held.append(message)

    async def release(self, message: Message | None) -> None:
        """Send what is held with its headers, or a 304 when the client has this body already."""
        start = self.held.pop(0)
        if self.cap.status in (200, 304):
            start["headers"] = [*start.get("headers", []), *self.extra]
            _success_headers(start, _etag_of(self.cap) if self.cap.complete else None, PLAIN_CACHE_CONTROL)
            final = MutableHeaders(scope=start).get("etag")
            if self.cap.status == 200 and final and none_match(self.inm, final):
                self.answered = True
                self.held.clear()
                await _send_304(self.send, final)
                return
        else:
            _error_headers(start)
        for m in [start, *self.held, *([message] if message is not None else [])]:
            await self.send(m)
        self.held.clear()


def _etag_of(cap: Capture) -> str:
    """A strong ETag from the body (for GETs outside the versioned resources)."""
    digest = hashlib.blake2b(b"".join(cap.chunks), digest_size=12).hexdigest()
    return f'"b-{digest}"'


def _without_body(send: Send) -> SendFn:
    """HEAD: the GET's status and headers, no body."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return wrapped
