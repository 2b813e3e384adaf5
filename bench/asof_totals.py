"""Cold totals, current against `at=`, on a benchmark database: a fresh app per request (no cache).

DATABASE_URL=sqlite:////tmp/bench.db .venv/bin/python bench/asof_totals.py [RUNS]
"""

import statistics
import sys
import time
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.testclient import TestClient

from app.main import create_app

URLS = ["/api/v1/operations/channel/totals", "/api/v1/totals"]


def cold(url: str, runs: int) -> tuple[float, float]:
    """Median and max of `url`, each on a fresh app whose connection one other request opened."""
    times = []
    for _ in range(runs):
        client = TestClient(create_app())
        client.get("/api/v1/metrics")
        start = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(times), max(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    at = quote(datetime.now(UTC).isoformat())
    time.sleep(0.5)
    for url in URLS:
        now, past = cold(url, runs), cold(f"{url}?at={at}", runs)
        print(f"{url}: current {now[0]:.1f} ms (max {now[1]:.1f}), at= {past[0]:.1f} ms (max {past[1]:.1f})")


if __name__ == "__main__":
    main()
