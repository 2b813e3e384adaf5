"""Rate limits (the `limits` library): writes per key, failed credentials per client, reads per client.

- `RATE_LIMIT_WRITES` (default `120/minute`): write requests per API key (counted by a hash of the
  key, so no database lookup is needed to refuse).
- `RATE_LIMIT_AUTH_FAILURES` (default `20/minute`): 401 answers per client address; once spent,
  that client's writes are refused until the window moves on, whatever key they carry.
- `RATE_LIMIT_READS` (empty = off, the default): GET/HEAD requests per client address.
Each refusal is a 429 problem with `Retry-After` (seconds until a request is allowed again), sent
before the body is read. Limits are per process (`RATE_LIMIT_STORAGE`, default `memory://`; any
storage URI `limits` takes, e.g. `redis://...`, shares them between workers and instances, under
`RATE_LIMIT_KEY_PREFIX`). While a shared storage is unreachable each process counts on its own
(memory) and logs it, rather than refusing or failing every request.
"""

import hashlib
import logging
import math
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from limits import RateLimitItem, WindowStats, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.auth import token_of
from app.http.problems import problem_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SHARED_SCHEMES = ("redis", "rediss", "valkey", "valkeys")  # storages that take a key prefix
WARN_EVERY = 60.0  # seconds between two "shared storage unreachable" warnings
RETRY_SHARED = 5.0  # seconds a failed shared storage is left alone (this process counts meanwhile)
SHARED_TIMEOUTS: dict[str, float | str | bool] = {
    "socket_connect_timeout": 0.5,
    "socket_timeout": 0.5,
}  # redis-py's, in seconds
log = logging.getLogger("opstats")


def is_shared(uri: str) -> bool:
    """True for a storage other processes see (Redis/Valkey, any of their URI variants)."""
    return urlparse(uri).scheme.split("+")[0] in SHARED_SCHEMES


@dataclass
class Limiter:
    """A moving-window limiter on the configured storage, falling back to this process's memory
    while a shared storage fails (errors wrapped by `limits` as StorageError). Its calls block the
    event loop: a shared storage gets short socket timeouts, and after a failure is left alone for
    RETRY_SHARED seconds, so an unreachable Redis costs one bounded wait, not one per request."""

    shared: MovingWindowRateLimiter
    local: MovingWindowRateLimiter = field(default_factory=lambda: MovingWindowRateLimiter(MemoryStorage()))
    _warned: float = -WARN_EVERY
    _down_until: float = 0.0

    @classmethod
    def on(cls, uri: str, prefix: str) -> "Limiter":
        """A limiter on storage `uri` (keys under `prefix` in a shared one)."""
        options: dict[str, float | str | bool] = {}
        if is_shared(uri):
            options = {"key_prefix": prefix, "wrap_exceptions": True, **SHARED_TIMEOUTS}
        return cls(MovingWindowRateLimiter(storage_from_string(uri, **options)))

    def _pick(self) -> MovingWindowRateLimiter:
        """The shared limiter, unless it failed less than RETRY_SHARED seconds ago."""
        return self.local if time.monotonic() < self._down_until else self.shared

    def _fallback(self, exc: Exception) -> MovingWindowRateLimiter:
        """The local limiter, for RETRY_SHARED seconds; saying so at most once a minute."""
        now = time.monotonic()
        self._down_until = now + RETRY_SHARED
        if now - self._warned >= WARN_EVERY:
            self._warned = now
            log.warning("rate-limit storage unreachable (%s); counting per process", type(exc).__name__)
        return self.local

    def hit(self, item: RateLimitItem, *ids: str) -> bool:
        """Count one request; False when it is past the limit."""
        try:
            return self._pick().hit(item, *ids)
        except StorageError as exc:
            return self._fallback(exc).hit(item, *ids)

    def test(self, item: RateLimitItem, *ids: str) -> bool:
        """True when one more request would be allowed (counts nothing)."""
        try:
            return self._pick().test(item, *ids)
        except StorageError as exc:
            return self._fallback(exc).test(item, *ids)

    def get_window_stats(self, item: RateLimitItem, *ids: str) -> WindowStats:
        """When the window resets and what remains."""
        try:
            return self._pick().get_window_stats(item, *ids)
        except StorageError as exc:
            return self._fallback(exc).get_window_stats(item, *ids)


@dataclass(frozen=True)
class RateLimits:
    """The configured limits (None = off) and the limiter that counts them."""

    writes: RateLimitItem | None
    auth_failures: RateLimitItem | None
    reads: RateLimitItem | None
    limiter: Limiter

    @classmethod
    def from_settings(
        cls, writes: str, auth_failures: str, reads: str, storage: str, prefix: str = "opstats"
    ) -> "RateLimits":
        """Parse `120/minute`-style limits; an empty string turns one off."""
        return cls(
            writes=parse(writes) if writes.strip() else None,
            auth_failures=parse(auth_failures) if auth_failures.strip() else None,
            reads=parse(reads) if reads.strip() else None,
            limiter=Limiter.on(storage, prefix),
        )

    def retry_after(self, item: RateLimitItem, *ids: str) -> int:
        """Whole seconds until `item` allows one more request for `ids`."""
        reset = self.limiter.get_window_stats(item, *ids).reset_time
        return max(1, math.ceil(reset - time.time()))


def client_of(scope: Scope, trust_forwarded: bool) -> str:
    """The client address (the first X-Forwarded-For hop only behind a trusted proxy)."""
    if trust_forwarded:
        forwarded = Headers(scope=scope).get("x-forwarded-for", "")
        if forwarded.strip():
            return forwarded.split(",")[0].strip()
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def key_id(token: str) -> str:
    """What a key is counted under: a hash, never the key."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


class RateLimitMiddleware:
    """429 with Retry-After past a limit; counts 401s per client."""

    def __init__(self, app: ASGIApp, *, limits: RateLimits, trust_forwarded: bool = False) -> None:
        self.app, self.limits, self.trust_forwarded = app, limits, trust_forwarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = client_of(scope, self.trust_forwarded)
        refusal = self._refusal(scope, client)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if scope["method"] not in WRITE_METHODS or self.limits.auth_failures is None:
            await self.app(scope, receive, send)
            return
        failures = self.limits.auth_failures

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.limits.limiter.hit(failures, "auth", client)
            await send(message)

        await self.app(scope, receive, counting)

    def _refusal(self, scope: Scope, client: str) -> Response | None:
        """The 429 for this request, or None when every limit allows it."""
        lim = self.limits
        if scope["method"] in WRITE_METHODS:
            if lim.auth_failures is not None and not lim.limiter.test(lim.auth_failures, "auth", client):
                return _too_many(
                    "Too many failed credentials from this client.",
                    lim.retry_after(lim.auth_failures, "auth", client),
                )
            token = token_of(Headers(scope=scope).get("authorization"))
            if token and lim.writes is not None:
                who = key_id(token)
                if not lim.limiter.hit(lim.writes, "writes", who):
                    return _too_many(
                        f"This key made more than {lim.writes} writes.",
                        lim.retry_after(lim.writes, "writes", who),
                    )
        elif (
            scope["method"] in ("GET", "HEAD")
            and lim.reads is not None
            and not lim.limiter.hit(lim.reads, "reads", client)
        ):
            return _too_many(
                f"This client made more than {lim.reads} reads.",
                lim.retry_after(lim.reads, "reads", client),
            )
        return None


def _too_many(detail: str, retry_after: int) -> Response:
    """The 429 problem."""
    return problem_response(
        429,
        f"{detail} Retry after {retry_after} s.",
        code="rate-limited",
        headers={"Retry-After": str(retry_after)},
    )
