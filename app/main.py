"""The application factory: the one place that joins HTTP machinery, capabilities and storage."""

import gc
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.engine import Engine

from app.api.dashboard import router as dashboard_router
from app.api.deps import key_owner
from app.api.health import router as health_router
from app.api.v1 import api_router
from app.api.v1.links import add_links
from app.caches import Caches
from app.config import get_settings
from app.db import SessionScope, engine_sessions, get_engine, is_sqlite, listen_url, make_read_engine
from app.http.conditional import ConditionalGetMiddleware, versioned_paths
from app.http.cors import ReadOnlyCORS
from app.http.edge.body import BodyLimitMiddleware
from app.http.edge.limits import RateLimitMiddleware, RateLimits
from app.http.edge.observability import AccessLogMiddleware, CountCollector, Metrics
from app.http.edge.security import SecurityHeadersMiddleware
from app.http.edge.standby import ReadAgainOnPrimary
from app.http.edge.writes import WritesFirst, WriteSlots, WriteTransactionMiddleware, install_busy_handlers
from app.http.idempotency import Sweeper
from app.http.openapi import install_openapi
from app.http.problems import install_problem_handlers
from app.read.history import read_data_state
from app.replica import Replica
from app.versions import DataState, QueryVersion, VersionSource, version_source

DESCRIPTION = """
Statistics of the CSTO's standing security operations (**Channel**, **Mercenary**, **Illegal**,
**PROXY**), their phases and the results they report. Every figure carries the verbatim quote of
its source with character offsets, its qualifier ("more than", "about", ...), its unit as stated
and the date of the statement; totals never add cumulative figures to phase figures, country
shares to wholes, or the same figure twice.

**Reads** are public and open to any origin (CORS for GET/HEAD only). Every GET answers JSON, or
CSV with `Accept: text/csv` or `?format=csv` (a list as CSV holds every matching row, streamed).
Every GET carries a strong `ETag` (from the data version, which every write changes; storing a
source document changes only those of `/sources` and `/changes`) and `Cache-Control`; send it
back in `If-None-Match` for a `304`. Lists are
`{"items", "next_cursor", "total"}` with a `Link: <...>; rel="next"` header; cursors are keyset
cursors, so a page never skips or repeats a row when rows are added in between.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a 4xx for every bad
input; a bad or unknown query parameter is a 422 whose `parameter` member names it. Dates are
`YYYY-MM-DD`. A method a path does not take is a 405 whose `Allow` lists the path's methods;
`OPTIONS` answers 204 with the same `Allow`.

**Writes** need `Authorization: Bearer <key>`.
"""


def version_reader(sessions: SessionScope) -> Callable[[], DataState]:
    """How the HTTP layer reads the database epoch, data version and its time through the app's
    sessions (when no kept connection can: app/versions.py)."""

    def read() -> DataState:
        with sessions() as session:
            return read_data_state(session=session)

    return read


def telemetry_options(enabled: bool) -> dict[str, Any]:
    """FastAPI's native telemetry off unless asked for: it checks for providers on every request."""
    if enabled or "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


@asynccontextmanager
async def frozen_heap(_app: FastAPI) -> AsyncIterator[None]:
    """Startup's objects (modules, routes, schemas, pint's registry: ~170,000) moved out of the cycle
    collector's sight while the app serves: a full collection then walks only what requests made,
    instead of pausing every request in flight. Given back at shutdown."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def create_app(sessions: SessionScope | None = None) -> FastAPI:
    """Build the API on `sessions` (default: the configured database); docs assets are served locally."""
    app = FastAPIOffline(
        title="opstats",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=frozen_heap,
        **telemetry_options(get_settings().otel_telemetry),
    )
    install_problem_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(dashboard_router)
    install_openapi(app, add_links)
    settings = get_settings()
    engine = None if sessions else get_engine()
    scope = sessions or engine_sessions(engine)
    app.state.sessions = scope
    app.state.key_owner = key_owner
    app.state.idempotency = Sweeper()  # when this app last dropped expired Idempotency-Key records
    app.state.caches = caches = Caches.create(settings.response_cache_size, settings.response_cache_bytes)
    install_busy_handlers(app)
    slots = settings.write_concurrency if not is_sqlite(settings.database_url) else 1
    app.state.write_slots = WriteSlots(slots, settings.write_lock_timeout, settings.writes_first_ms / 1000)
    read = version_reader(scope)
    listen = listen_url() if engine is not None else None  # none through a pooler without a direct URL
    versions: VersionSource = (
        QueryVersion(read)
        if engine is None or listen is None
        else version_source(listen, read, on_lost=engine.dispose)
    )
    app.state.versions = versions
    app.state.replica = replica_of(settings.database_read_url, settings.read_replica_timeout, engine)
    if app.state.replica is not None:
        app.add_middleware(ReadAgainOnPrimary)  # innermost: it sees the answer the error handler made
    app.add_middleware(
        WriteTransactionMiddleware, sessions=scope, slots=app.state.write_slots, announce=versions.wait_for
    )
    app.add_middleware(
        ConditionalGetMiddleware,
        versions=versions,
        caches=caches,
        versioned=versioned_paths(app.routes),
        settle_bound=2 * settings.write_lock_timeout + 1,  # a write stamps, works and commits within it
    )
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth
    )
    limits = RateLimits.from_settings(
        settings.rate_limit_writes,
        settings.rate_limit_auth_failures,
        settings.rate_limit_reads,
        settings.rate_limit_storage,
        settings.rate_limit_key_prefix,
    )
    app.add_middleware(RateLimitMiddleware, limits=limits, trust_forwarded=settings.trust_forwarded_for)
    app.add_middleware(WritesFirst, slots=app.state.write_slots)
    app.add_middleware(ReadOnlyCORS)
    app.state.metrics = Metrics(state_gauges(app, engine, version_reader(scope)))
    if app.state.replica is not None:
        reads = CountCollector(
            "standby_reads", "GETs by where they read", "outcome", app.state.replica.stats.counts
        )
        app.state.metrics.registry.register(reads)
    app.add_middleware(AccessLogMiddleware, metrics=app.state.metrics, routes=lambda: app.router.routes)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def replica_of(url: str, timeout: float, primary: Engine | None) -> Replica | None:
    """The standby GETs read from (DATABASE_READ_URL), only beside the app's own PostgreSQL engine."""
    if not url or primary is None or is_sqlite(url):
        return None
    return Replica(make_read_engine(url, timeout))


def state_gauges(
    app: FastAPI, engine: Engine | None, read_state: Callable[[], DataState]
) -> Callable[[], dict[str, float]]:
    """What /metrics reads at scrape time: write queue, pool (when the app owns its engine), data version."""

    def gauges() -> dict[str, float]:
        out: dict[str, float] = {"write_slots_waiting": app.state.write_slots.waiting}
        pool: Any = engine.pool if engine is not None else None
        if pool is not None and hasattr(pool, "checkedout"):
            out |= {
                "db_pool_size": pool.size(),
                "db_pool_checked_out": pool.checkedout(),
                "db_pool_overflow": pool.overflow(),
            }
        try:
            out["data_version"] = read_state().version
        except Exception:  # a scrape never fails because the database does
            out["database_unreachable"] = 1
        return out

    return gauges
