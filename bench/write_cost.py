"""Sequential cost of one keyed write: POST /sources with an Idempotency-Key, one client, nothing else.

    .venv/bin/python -m bench.write_cost --backend sqlite --writes 1500
    .venv/bin/python -m bench.write_cost --backend postgres --writes 1500

A fresh database and `opstats serve` on loopback (bench/live.py); prints the client-side p50 and
p90 in ms, and the p50 of each block of 500 writes (does a write get slower as the data grows?).
"""

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.live import new_key, running
from bench.writers import BULK_LIMITS

BLOCK = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--writes", type=int, default=1500)
    args = parser.parse_args()
    times: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(args.backend, Path(tmp), env=BULK_LIMITS) as (srv, eng),
    ):
        auth = {"Authorization": f"Bearer {new_key(eng)}"}
        with httpx.Client(base_url=srv.base, timeout=30) as client:
            for _ in range(args.writes):
                body = {"text": f"Cost document {uuid.uuid4().hex}.", "title": "cost", "publisher": "bench",
                        "published_on": "2025-01-01"}  # fmt: skip
                start = time.perf_counter()
                r = client.post(
                    "/api/v1/sources", json=body, headers={**auth, "Idempotency-Key": uuid.uuid4().hex}
                )
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 201, r.text
    ordered = sorted(times)
    blocks = [round(statistics.median(times[i : i + BLOCK]), 2) for i in range(0, len(times), BLOCK)]
    figures = {
        "backend": args.backend,
        "writes": args.writes,
        "p50_ms": round(statistics.median(times), 2),
        "p90_ms": round(ordered[int(len(ordered) * 0.9)], 2),
        "p50_ms_by_block": blocks,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
