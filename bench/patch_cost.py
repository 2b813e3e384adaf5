"""The cost of one correction on a benchmark database: PATCH the note of N results in-process.

    DATABASE_URL=sqlite:////tmp/bench.db RATE_LIMIT_WRITES=100000/minute \
        .venv/bin/python -m bench.patch_cost [N]

Each PATCH writes a revision (closing the last), recomputes the totals of the result's metric and
its history, and one audit entry; prints p50, p90 and max in ms. It writes into the database.
"""

import statistics
import sys
import time
import uuid

from fastapi.testclient import TestClient

from app.config import get_settings
from app.db import make_engine
from app.main import create_app
from bench.live import new_key


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    headers = {"Authorization": f"Bearer {new_key(make_engine(get_settings().database_url))}"}
    client = TestClient(create_app())
    times = []
    for i in range(n):
        rid = f"bench-{1000 + i * 977:07d}"
        etag = client.get(f"/api/v1/results/{rid}").headers["etag"]
        start = time.perf_counter()
        r = client.patch(
            f"/api/v1/results/{rid}", json={"note": uuid.uuid4().hex}, headers={**headers, "If-Match": etag}
        )
        times.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.text
    times.sort()
    p90 = times[int(len(times) * 0.9)]
    print(f"PATCH note x{n}: p50 {statistics.median(times):.1f} ms, p90 {p90:.1f} ms, max {times[-1]:.1f} ms")


if __name__ == "__main__":
    main()
