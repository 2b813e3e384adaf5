"""Soak: a bounded run of mixed load on a fresh server on loopback, with its errors, latency and memory.

    .venv/bin/python -m bench.soak --backend sqlite --seconds 600 --connections 16
    .venv/bin/python -m bench.soak --backend postgres --seconds 600 --connections 16

Mix per request: 80% GETs of the read resources (cached between writes), 10% conditional GETs
(`If-None-Match` with the ETag last seen for that URL) and 10% writes (POST /sources, each its own
Idempotency-Key). Reports requests/s, p50/p99/max latency (and p99 per kind), every non-2xx/304
answer, and the server's RSS after the warm-up and at the end (drift). Exit status 1 on any error,
p99 >= 200 ms or RSS drift >= 10 %.
"""

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.live import Server, new_key, running
from bench.writers import BULK_LIMITS

READS = [
    "/api/v1/totals",
    "/api/v1/operations",
    "/api/v1/operations/channel",
    "/api/v1/operations/channel/totals",
    "/api/v1/results?limit=50",
    "/api/v1/results?operation=channel&metric=opium_seized",
    "/api/v1/metrics",
    "/api/v1/phases",
    "/api/v1/sources?limit=20",
    "/api/v1/series?metric=opium_seized&operation=channel",
]
WARMUP = 30.0


class Tally:
    """Latencies and statuses of every request, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.statuses: dict[str, int] = {}
        self.errors: list[str] = []

    def add(self, kind: str, status: int, ms: float) -> None:
        with self.lock:
            self.latencies.append(ms)
            self.by_kind.setdefault(kind, []).append(ms)
            name = f"{kind} {status}"
            self.statuses[name] = self.statuses.get(name, 0) + 1
            if status not in (200, 201, 304):
                self.errors.append(name)


def client_loop(base: str, key: str, until: float, tally: Tally, seed: int) -> None:
    """One keep-alive connection sending the mix until `until`."""
    rnd = random.Random(seed)
    etags: dict[str, str] = {}
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=30) as c:
        while time.time() < until:
            roll = rnd.random()
            path = rnd.choice(READS)
            t = time.perf_counter()
            try:
                if roll < 0.8:
                    kind, r = "get", c.get(path)
                elif roll < 0.9:
                    kind, r = "conditional", c.get(path, headers={"If-None-Match": etags.get(path, '"none"')})
                else:
                    text = f"Soak document {uuid.uuid4().hex}."
                    body = {"text": text, "title": "soak", "publisher": "bench", "published_on": "2025-01-01"}
                    headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
                    kind, r = "write", c.post("/api/v1/sources", json=body, headers=headers)
                status = r.status_code
                if kind != "write" and "etag" in r.headers:
                    etags[path] = r.headers["etag"]
            except httpx.HTTPError as exc:
                kind, status = f"error {type(exc).__name__}", 0
            tally.add(kind, status, (time.perf_counter() - t) * 1000)


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted latencies (nearest rank), in ms to a tenth."""
    return round(ordered[max(0, int(len(ordered) * q) - 1)], 1)


def soak(server: Server, key: str, seconds: float, connections: int) -> dict[str, Any]:
    """Run the mix; the figures."""
    tally = Tally()
    start = time.time()
    until = start + seconds
    threads = [
        threading.Thread(target=client_loop, args=(server.base, key, until, tally, i))
        for i in range(connections)
    ]
    for t in threads:
        t.start()
    time.sleep(min(WARMUP, seconds / 4))
    rss_start = server.rss_kib()
    rss_samples = [rss_start]
    while time.time() < until:
        time.sleep(min(10.0, max(0.0, until - time.time())))
        rss_samples.append(server.rss_kib())
    for t in threads:
        t.join()
    elapsed = time.time() - start
    lat = sorted(tally.latencies)
    rss_end = rss_samples[-1]
    return {
        "seconds": round(elapsed, 1),
        "connections": connections,
        "requests": len(lat),
        "req_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(statistics.median(lat), 1),
        "p99_ms": percentile(lat, 0.99),
        "max_ms": round(lat[-1], 1),
        "p99_ms_by_kind": {k: percentile(sorted(v), 0.99) for k, v in sorted(tally.by_kind.items())},
        "statuses": tally.statuses,
        "errors": len(tally.errors),
        "rss_start_mib": round(rss_start / 1024, 1),
        "rss_end_mib": round(rss_end / 1024, 1),
        "rss_max_mib": round(max(rss_samples) / 1024, 1),
        "rss_drift_pct": round((rss_end - rss_start) / rss_start * 100, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    seconds = min(args.seconds, 3600.0)  # bounded
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(args.backend, Path(tmp), env=BULK_LIMITS) as (server, eng),
    ):
        figures = {"backend": args.backend, **soak(server, new_key(eng), seconds, args.connections)}
    figures["ok"] = figures["errors"] == 0 and figures["p99_ms"] < 200 and abs(figures["rss_drift_pct"]) < 10
    print(json.dumps(figures))
    raise SystemExit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
