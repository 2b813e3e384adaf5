"""The cost of `at=` answers against current ones, on a benchmark database (bench/make_million.py).

Each URL is fetched in-process (no network): current (first, then served from the version cache) and
`at=` an instant after the data was built (first: computed over the past; then: the immutable cache).

    DATABASE_URL=sqlite:////tmp/bench.db .venv/bin/python bench/asof_cost.py
"""

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


def main() -> None:
    client = TestClient(create_app())
    time.sleep(1.1)  # an instant safely past the last write
    at = quote(datetime.now(UTC).isoformat())
    time.sleep(1.1)
    print("| URL | current, first | current, again | at=, first | at=, again |")
    print("|---|---|---|---|---|")
    for url in URLS:
        sep = "&" if "?" in url else "?"
        cells = []
        for u in (url, url, f"{url}{sep}at={at}", f"{url}{sep}at={at}"):
            ms, status = timed(client, u)
            cells.append(f"{ms:.1f} ms" + ("" if status == 200 else f" ({status})"))
        print(f"| `{url}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
