"""Concurrent writers: N idempotent POSTs from C clients at once while a reader keeps reading.

    .venv/bin/python -m bench.writers --backend sqlite --writes 200 --clients 32
    .venv/bin/python -m bench.writers --backend postgres --writes 200 --clients 32

Checks: no 5xx and no timeout among the writes, every 201 stored exactly once, reads answered during
the burst (their worst latency), /readyz 200 after it. Exit status 1 when a check fails.
"""

import argparse
import json
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.models import Source
from bench.live import new_key, running

BULK_LIMITS = {"RATE_LIMIT_WRITES": "1000000/minute", "RATE_LIMIT_AUTH_FAILURES": "1000000/minute"}


@dataclass
class Burst:
    """What a burst of writes got back."""

    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    write_max_ms: float = 0.0
    reads: int = 0
    read_failures: int = 0
    read_max_ms: float = 0.0
    created: int = 0
    stored: int = 0

    def ok(self) -> bool:
        fives = sum(n for s, n in self.statuses.items() if s >= 500)
        return not fives and not self.errors and not self.read_failures and self.created == self.stored


def _reader(base: str, stop: threading.Event, out: Burst) -> None:
    """GETs (cold after every write) until told to stop."""
    with httpx.Client(base_url=base, timeout=30) as c:
        while not stop.is_set():
            t = time.perf_counter()
            try:
                code = c.get("/api/v1/totals").status_code
            except httpx.HTTPError:
                code = 0
            out.reads += 1
            out.read_max_ms = max(out.read_max_ms, (time.perf_counter() - t) * 1000)
            out.read_failures += code != 200


def burst(base: str, key: str, *, writes: int = 200, clients: int = 32, tag: str = "") -> Burst:
    """Fire `writes` POST /sources (each its own Idempotency-Key) from `clients` threads at once."""
    out = Burst()
    lock = threading.Lock()
    local = threading.local()
    tag = tag or uuid.uuid4().hex[:8]

    def one(i: int) -> None:
        if not hasattr(local, "c"):
            local.c = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {key}"})
        body = {"text": f"Burst {tag} document {i}.", "title": f"burst {i}", "publisher": "bench"}
        body["published_on"] = "2025-01-01"
        t = time.perf_counter()
        try:
            code = local.c.post(
                "/api/v1/sources", json=body, headers={"Idempotency-Key": f"{tag}-{i}"}
            ).status_code
        except httpx.HTTPError as exc:
            with lock:
                out.errors.append(type(exc).__name__)
            return
        with lock:
            out.statuses[code] = out.statuses.get(code, 0) + 1
            out.write_max_ms = max(out.write_max_ms, (time.perf_counter() - t) * 1000)

    stop = threading.Event()
    reader = threading.Thread(target=_reader, args=(base, stop, out))
    reader.start()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(writes)))
    stop.set()
    reader.join()
    out.created = out.statuses.get(201, 0)
    return out


def stored(engine: Engine, tag: str) -> int:
    """Sources of one burst in the database."""
    with Session(engine) as s:
        return int(s.exec(select(func.count()).where(col(Source.text).like(f"Burst {tag} %"))).one())


def run(backend: str, writes: int, clients: int, tmp: Path, *, limited: bool = False) -> dict[str, Any]:
    """One burst on a fresh server (rate limits raised unless `limited`); the figures as a dict."""
    with running(backend, tmp, env={} if limited else BULK_LIMITS) as (server, engine):
        key = new_key(engine)
        tag = uuid.uuid4().hex[:8]
        t = time.perf_counter()
        out = burst(server.base, key, writes=writes, clients=clients, tag=tag)
        seconds = time.perf_counter() - t
        out.stored = stored(engine, tag)
        ready = httpx.get(server.base + "/readyz", timeout=10).status_code
    return {
        "backend": backend,
        "writes": writes,
        "clients": clients,
        "statuses": out.statuses,
        "errors": out.errors,
        "seconds": round(seconds, 2),
        "write_max_ms": round(out.write_max_ms),
        "reads_during_burst": out.reads,
        "read_failures": out.read_failures,
        "read_max_ms": round(out.read_max_ms),
        "created": out.created,
        "stored": out.stored,
        "readyz_after": ready,
        "ok": out.ok() and ready == 200,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--default-limits", action="store_true", help="keep RATE_LIMIT_WRITES (120/minute): count the 429s"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args.backend, args.writes, args.clients, Path(tmp), limited=args.default_limits)
    if args.default_limits:  # a 429 is the expected answer past the limit, with every 201 stored
        allowed = {201, 429}
        figures["ok"] = set(figures["statuses"]) <= allowed and figures["created"] == figures["stored"]
    print(json.dumps(figures))
    raise SystemExit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
