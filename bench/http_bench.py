"""Latency of opstats GETs against a bare ASGI endpoint, each served by uvicorn on loopback.

    DATABASE_URL=sqlite:////tmp/bench1m.db .venv/bin/python bench/http_bench.py --requests 2000

One keep-alive client (http.client), sequential requests: the same client measures the bare
endpoint, so the difference is the API's own cost. "cold" rows are one request right after the data
version was bumped (what the first reader pays after a write); other rows are medians of repeats.
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from app.db import make_engine

ROOT = Path(__file__).resolve().parents[1]

BUMP_SQL = "UPDATE dataversion SET version = version + 1, content_version = version + 1 WHERE id = 1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(target: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        *target,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            c.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{target} did not start")


def timed(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str] | None = None
) -> tuple[float, int, str]:
    t = time.perf_counter()
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    r.read()
    return (time.perf_counter() - t) * 1000, r.status, r.getheader("etag") or ""


def median_ms(
    port: int, path: str, n: int, headers: dict[str, str] | None = None
) -> tuple[float, float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    timed(conn, path, headers)
    samples = [timed(conn, path, headers) for _ in range(n)]
    ms = sorted(s[0] for s in samples)
    return statistics.median(ms), ms[int(len(ms) * 0.99) - 1], samples[-1][1]


def bump(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text(BUMP_SQL))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    a = ap.parse_args()
    url = os.environ["DATABASE_URL"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    bare_port, api_port = free_port(), free_port()
    bare = serve(["bench.bare_asgi:app"], bare_port, env)
    api = serve(["--factory", "app.main:create_app"], api_port, env)
    rows = []
    try:
        rows.append(("bare ASGI endpoint", *median_ms(bare_port, "/", a.requests)))
        warm = {
            "GET /api/v1/results?limit=50 (cached)": "/api/v1/results?limit=50",
            "GET /api/v1/operations/channel/totals (cached)": "/api/v1/operations/channel/totals",
            "GET /api/v1/results/{id} (by primary key)": "/api/v1/results/bench-0500000",
        }
        for name, path in warm.items():
            rows.append((name, *median_ms(api_port, path, a.requests)))
        conn = http.client.HTTPConnection("127.0.0.1", api_port)
        etag = timed(conn, "/api/v1/results?limit=50")[2]
        rows.append(
            (
                "GET /api/v1/results?limit=50 If-None-Match (304)",
                *median_ms(api_port, "/api/v1/results?limit=50", a.requests, {"If-None-Match": etag}),
            )
        )
        cold_paths = [
            "/api/v1/results?limit=50",
            "/api/v1/results?operation=channel&sort=-value_base&limit=50",
            "/api/v1/results?metric=opium_seized&year=2015&limit=50",
            "/api/v1/operations/channel/totals",
            "/api/v1/totals",
        ]
        cold = {f"cold: GET {path}": path for path in cold_paths}
        for name, path in cold.items():
            samples = []
            for _ in range(3):
                bump(url)
                samples.append(timed(conn, path))
            ms = sorted(s[0] for s in samples)
            rows.append((name, statistics.median(ms), ms[-1], samples[-1][1]))
    finally:
        for p in (bare, api):
            p.terminate()
            p.wait(10)
    print("| request | median ms | p99 ms (cold: max of 3) | status |")
    print("|---|---:|---:|---:|")
    for name, med, p99, status in rows:
        print(f"| {name} | {med:.2f} | {p99:.2f} | {status} |")


if __name__ == "__main__":
    main()
