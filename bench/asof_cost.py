"""The cost of `at=` answers against current ones, on a benchmark database (bench/make_million.py).

Each URL is fetched in-process (no network), cold (a fresh app: no cache) and cached (the same app
again), current and with `at=` an instant after the data was built (cold: computed over the past
through the revision table; cached: the immutable cache of at= answers, for bodies up to 1 MB).

    DATABASE_URL=sqlite:////tmp/bench.db .venv/bin/python bench/asof_cost.py
"""

import os
import statistics
import time
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.testclient import TestClient

from app.main import create_app

URLS = [
    "/api/v1/results/bench-0000042",
    "/api/v1/results?limit=50",
    "/api/v1/results?metric=opium_seized&sort=-value_base&limit=50",
    "/api/v1/operations/channel/totals",
    "/api/v1/totals",
    "/api/v1/series?metric=opium_seized&operation=channel",
]


def timed(client: TestClient, url: str) -> tuple[float, int]:
    start = time.perf_counter()
    r = client.get(url)
    return (time.perf_counter() - start) * 1000, r.status_code


def cold(url: str, runs: int, warm_up: str) -> str:
    """The median time of `url` on a fresh app each run (no response or value cache yet), after one
    other request (`warm_up`) has opened its connection."""
    times, status = [], 200
    for _ in range(runs):
        client = TestClient(create_app())
        client.get(warm_up)
        ms, status = timed(client, url)
        times.append(ms)
    return f"{statistics.median(times):.1f} ms" + ("" if status == 200 else f" ({status})")


def warm(client: TestClient, url: str, runs: int) -> str:
    """The median time of `url` once it was answered (served from the caches when it can be)."""
    client.get(url)
    return f"{statistics.median(timed(client, url)[0] for _ in range(runs)):.1f} ms"


def main() -> None:
    runs = int(os.environ.get("RUNS", "3"))
    time.sleep(1.1)  # an instant safely past the last write
    at = quote(datetime.now(UTC).isoformat())
    time.sleep(1.1)
    client = TestClient(create_app())
    print(f"median of {runs} runs; at={at}")
    print("| URL | current, cold | current, cached | at=, cold | at=, cached |")
    print("|---|---|---|---|---|")
    for url in URLS:
        past = f"{url}{'&' if '?' in url else '?'}at={at}"
        cells = [
            cold(url, runs, "/api/v1/metrics"),
            warm(client, url, runs),
            cold(past, runs, f"/api/v1/metrics?at={at}"),
            warm(client, past, runs),
        ]
        print(f"| `{url}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
