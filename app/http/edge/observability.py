"""What operators see: one JSON access-log line per request and Prometheus metrics at `/metrics`.

Access log (logger `opstats.access`): method, route template (`/api/v1/results/{result_id}`, or
`unmatched`), status, duration in ms, request id, client. Every log line is one JSON object
(JsonFormatter) carrying the request id of the request it belongs to. No header is logged, so no
key ever is.

Metrics (prometheus-client, one registry per app, per process): `opstats_http_requests_total`
and `opstats_http_request_duration_seconds` by method, route template and status;
`opstats_db_pool_*` (size, checked out, overflow) when the app owns its engine;
`opstats_write_slots_waiting`; `opstats_data_version`; with a standby (DATABASE_READ_URL),
`opstats_standby_reads_total` by `outcome`: `standby` (read there), `lagging`, `failed`, `down`,
`read_again` (read from the primary: app/replica.py).
"""

import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.edge.security import request_id_var
from app.http.routes import route_contexts

access_log = logging.getLogger("opstats.access")
SEEN_PATHS = 4096
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line, with the request id of the request it belongs to."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        data.update(getattr(record, "fields", {}))
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


def log_config(level: str = "info") -> dict[str, Any]:
    """A logging dictConfig (also uvicorn's `log_config`): every logger as JSON lines on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "": {"handlers": ["stderr"], "level": level.upper()},
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


class RouteTemplates:
    """The path template a request matched (bounded label values), or `unmatched`."""

    def __init__(self, routes: Callable[[], Iterable[BaseRoute]]) -> None:
        self.routes = routes
        self._paths: dict[int, str] | None = None
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        self._seen: dict[str, str] = {}  # path → template, so a hot path is matched once

    def _load(self) -> dict[int, str]:
        if self._paths is None:
            contexts = route_contexts(self.routes())
            self._patterns = [
                (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
                for _, path in contexts
                if path
            ]
            self._paths = {id(route): path for route, path in contexts}
        return self._paths

    def of(self, scope: Scope) -> str:
        paths = self._load()
        route = scope.get("route")
        if route is not None and id(route) in paths:
            return paths[id(route)]
        path = str(scope.get("path", ""))
        known = self._seen.get(path)
        if known is None:
            known = next((t for pattern, t in self._patterns if pattern.match(path)), "unmatched")
            if len(self._seen) >= SEEN_PATHS:  # bounded: a crawler of endless paths starts it afresh
                self._seen.clear()
            self._seen[path] = known
        return known


class StateCollector(Collector):
    """Gauges read at scrape time: pool, write queue, data version."""

    def __init__(self, gauges: Callable[[], dict[str, float]]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterable[Metric]:
        for name, value in self.gauges().items():
            yield GaugeMetricFamily(f"opstats_{name}", name.replace("_", " "), value=value)


class CountCollector(Collector):
    """One labelled counter whose counts are kept elsewhere (the standby's), read at scrape time."""

    def __init__(self, name: str, documentation: str, label: str, counts: Callable[[], dict[str, float]]):
        self.name, self.documentation, self.label, self.counts = name, documentation, label, counts

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(f"opstats_{self.name}", self.documentation, labels=[self.label])
        for value, count in self.counts().items():
            family.add_metric([value], count)
        yield family


class Metrics:
    """The app's registry: the request counter and latency histogram, and the state gauges."""

    def __init__(self, gauges: Callable[[], dict[str, float]]) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "opstats_http_requests", "HTTP requests answered", labels, registry=self.registry
        )
        self.latency = Histogram(
            "opstats_http_request_duration_seconds",
            "Time to answer",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(StateCollector(gauges))
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answer and its latency (the labelled children are looked up once per label set)."""
        key = (method, route, status)
        child = self._children.get(key)
        if child is None:
            labels = (method, route, str(status))
            child = self._children[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        child[0].inc()
        child[1].observe(seconds)


class AccessLogMiddleware:
    """Times every request; logs it as JSON and counts it in the metrics."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, routes: Callable[[], Iterable[BaseRoute]]) -> None:
        self.app, self.metrics, self.templates = app, metrics, RouteTemplates(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def timed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            self._record(scope, status, time.perf_counter() - start)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = self.templates.of(scope)
        method = str(scope["method"])
        self.metrics.observe(method, route, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        fields = {
            "method": method,
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": client[0] if client else None,
        }
        access_log.info("request", extra={"fields": fields, "request_id": request_id_var.get()})
