"""Cold quote searches (`q=`) in process: bump the data version, GET one page of a search, for each.

    DATABASE_URL=sqlite:////tmp/qidx-1m/bench.db .venv/bin/python -m bench.quote_search --rounds 3
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/qidx_1m .venv/bin/python -m bench.quote_search

Searches of a make_million.py database (quotes like "In phase bench-channel-2015-3 officers seized
more than 12.3 tons of opium."): rare, absent, Cyrillic and common texts, short ones (one or two
characters: no trigram), alone and beside operation + metric + year, each in several sorts, every
request after a data-version bump so no answer is cached (the database's files are in the OS page
cache after the first round; `--warmup`: after an untimed round, as in a process that has served
these searches before, its compiled statements cached). Each page's answer includes its `total`
(at most QUOTE_COUNT_LIMIT counted). Prints p50, p99 and the slowest per kind and overall, then
apart the searches sorted by value with no metric filter (every metric's base unit in one order,
where a text's matches may all come last) and the rest.
"""

import argparse
import statistics
import time
from urllib.parse import quote_plus

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import get_engine
from app.main import create_app
from bench.make_million import BUMP_SQL

SEARCHES = {
    "rare": ["bench-proxy-2003-7 officers", "seized about 12.5 kg", "417.3 TONS", "Channel-2019-4 "],
    "absent": ["ОПИЙ", "no such words", "100%_", "cocaine"],
    "common": ["HEROIN", "criminal cases", "more than"],
    "short": ["zq", "ж", "kg", "%"],
}
FILTERS = ["", "operation=channel&metric=opium_seized&year=2015&"]
SORTS = ["id", "-value_base", "as_of", "-id"]


def paths() -> list[tuple[str, str]]:
    """(kind, path) of every search, filter and sort."""
    return [
        (kind, f"/api/v1/results?{where}q={quote_plus(q)}&sort={sort}&limit=50")
        for kind, texts in SEARCHES.items()
        for q in texts
        for where in FILTERS
        for sort in SORTS
    ]


def across_metrics(path: str) -> bool:
    """A search sorted by value with no metric filter: values of every metric's base unit in one
    order (kg beside cases), where a text's matches may all come last."""
    return "sort=-value_base" in path and "metric=" not in path


def summary(name: str, times: list[float]) -> str:
    """p50, p99 and the slowest of `times` (ms)."""
    ordered = sorted(times)
    p99 = ordered[max(0, int(len(ordered) * 0.99 + 0.5) - 1)]
    return (
        f"{name:7} n={len(times):3}: p50 {statistics.median(times):7.1f} ms, "
        f"p99 {p99:7.1f} ms, slowest {ordered[-1]:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slowest", type=int, default=0, help="also list the slowest requests")
    parser.add_argument(
        "--warmup",
        action="store_true",
        help="one untimed round first: the process has served these searches before (its compiled "
        "statements cached), each timed request still after a data-version bump",
    )
    args = parser.parse_args()
    engine = get_engine()
    times: dict[str, list[float]] = {kind: [] for kind in SEARCHES}
    each: list[tuple[float, str]] = []
    with TestClient(create_app()) as client:
        client.get("/api/v1/results?limit=1")
        for timed in [False] * args.warmup + [True] * args.rounds:
            for kind, path in paths():
                with engine.begin() as conn:
                    conn.execute(text(BUMP_SQL))
                start = time.perf_counter()
                assert client.get(path).status_code == 200, path
                if timed:
                    times[kind].append((time.perf_counter() - start) * 1000)
                    each.append((times[kind][-1], path))
    for kind, kind_times in times.items():
        print(summary(kind, kind_times))
    print(summary("indexed", times["rare"] + times["absent"] + times["common"]))
    print(summary("all", [t for kind_times in times.values() for t in kind_times]))
    across = [ms for ms, path in each if across_metrics(path)]
    print(summary("by value, every metric", across))
    print(summary("the rest", [ms for ms, path in each if not across_metrics(path)]))
    for ms, path in sorted(each, reverse=True)[: args.slowest]:
        print(f"{ms:8.1f} ms  {path}")


if __name__ == "__main__":
    main()
