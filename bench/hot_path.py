"""In-process cost of the hot path: an ASGI loop calling the app for a cached GET and its 304.

    .venv/bin/python -m bench.hot_path [/api/v1/operations/channel/totals] 2>/dev/null

No HTTP server, no client: what the app itself (every middleware, the cached answer) costs per
request, best of 7 rounds of 5,000 calls, on a fresh seeded SQLite file. Send stderr to /dev/null
(the access log writes a JSON line per request there).
"""

import asyncio
import os
import sys
import tempfile
import time
from typing import Any

ROUNDS, CALLS = 7, 5000


def scope_of(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """An ASGI HTTP scope for GET `path` on loopback."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def measure(app: Any, path: str) -> dict[str, float]:
    """Microseconds per call for a cached 200 and for a 304."""

    async def call(headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        await app(scope_of(path, headers), receive, send)
        return out

    first = await call([(b"host", b"bench")])
    etag = dict(first[0]["headers"])[b"etag"]
    figures = {}
    for name, headers in [
        ("cached 200", [(b"host", b"bench")]),
        ("304", [(b"host", b"bench"), (b"if-none-match", etag)]),
    ]:
        for _ in range(CALLS // 2):
            await call(headers)
        best = float("inf")
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(CALLS):
                await call(headers)
            best = min(best, (time.perf_counter() - start) / CALLS * 1e6)
        figures[name] = round(best, 1)
    return figures


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/api/v1/operations/channel/totals"
    tmp = tempfile.mkdtemp()
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/hot-path.db"
    from app.main import create_app
    from app.seeds.prepare import prepare_database

    prepare_database(os.environ["DATABASE_URL"])
    figures = asyncio.run(measure(create_app(), path))
    print(path, ", ".join(f"{k}: {v} µs" for k, v in figures.items()))


if __name__ == "__main__":
    main()
