"""The bench's cold filtered pages in process: bump the data version, GET one page, for each page.

    DATABASE_URL=sqlite:////tmp/ob/opstats-bench-1m.db .venv/bin/python -m bench.cold_pages --rounds 3
    SQLITE_CACHE_KIB=512 DATABASE_URL=... .venv/bin/python -m bench.cold_pages

The 40 pages of bench/run.py (`page_paths`: operation + metric + year + sort, limit 20-100) through
the TestClient against the configured database (a make_million.py one): no HTTP and no other
server, so settings (page cache, pool) can be compared quickly. Prints p50, p99 and the slowest.
"""

import argparse
import statistics
import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import get_engine
from app.main import create_app
from bench.make_million import BUMP_SQL
from bench.run import page_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine = get_engine()
    times: list[float] = []
    with TestClient(create_app()) as client:
        client.get("/api/v1/results?limit=1")
        for _ in range(args.rounds):
            for path, _filters in page_paths(40):
                with engine.begin() as conn:
                    conn.execute(text(BUMP_SQL))
                start = time.perf_counter()
                assert client.get(path).status_code == 200, path
                times.append((time.perf_counter() - start) * 1000)
    ordered = sorted(times)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    p50, slowest = statistics.median(times), ordered[-1]
    print(f"pages {len(times)}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, slowest {slowest:.1f} ms")


if __name__ == "__main__":
    main()
