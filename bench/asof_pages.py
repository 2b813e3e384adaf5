"""Cold `at=` results pages and single results against current ones, at genuinely past instants.

On a benchmark database (bench/make_million.py), in process (TestClient, no network): takes
`--instants` instants, and after each one makes real writes through the API (retracts and patches
results on the first pages measured here, adds a result), so the data at every instant differs
from the present. Then each URL (first pages, their second pages by cursor, one result, its
citation) is fetched current and at each instant, each time on a fresh app (no response or value
cache: cold) whose connection one other request has opened, `--rounds` times. Prints p50/p99 per
group (pages, one result; current, at= past, at= after the last change) and the median per URL.
Writes into the database it runs on: use a copy.

    DATABASE_URL=sqlite:////tmp/copy.db .venv/bin/python -m bench.asof_pages --rounds 2
"""

import argparse
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.curation.keys import create_key
from app.db import get_engine
from app.domain.vocabulary import KeyScope
from app.main import create_app

PAGES = [
    "/api/v1/results?limit=50",
    "/api/v1/results?metric=opium_seized&sort=-value_base&limit=50",
    "/api/v1/results?operation=channel&year=2019&limit=50",
    "/api/v1/results?operation=channel&metric=opium_seized&year=2019&sort=-as_of&limit=50",
    "/api/v1/results?operation=proxy&metric=heroin_seized&sort=value_base&limit=100",
    "/api/v1/results?metric=firearms_seized&year=2010&sort=-value_base&limit=20",
]


def with_at(url: str, at: str | None) -> str:
    """`url` as of `at` (None: the present)."""
    return url if at is None else f"{url}{'&' if '?' in url else '?'}at={quote(at)}"


def cold(url: str, warm_up: str) -> tuple[float, dict[str, object] | list[object]]:
    """One GET of `url` on a fresh app (no cache), after `warm_up` has opened its connection."""
    client = TestClient(create_app())
    client.get(warm_up)
    start = time.perf_counter()
    r = client.get(url)
    ms = (time.perf_counter() - start) * 1000
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return ms, r.json()


class Writer:
    """Real writes through the API with a curator's and an admin's key."""

    def __init__(self) -> None:
        with Session(get_engine()) as session:
            tag = uuid.uuid4().hex[:8]
            _, cur = create_key(session=session, name=f"bench-cur-{tag}", scope=KeyScope.curator)
            _, adm = create_key(session=session, name=f"bench-adm-{tag}", scope=KeyScope.admin)
        self.cur = {"Authorization": f"Bearer {cur}"}
        self.adm = {"Authorization": f"Bearer {adm}"}
        self.client = TestClient(create_app())

    def change(self, page: str, n_retract: int = 2, n_patch: int = 2) -> list[str]:
        """Retract the first results of `page` and patch the next ones; their ids."""
        items = self.client.get(page).json()["items"][: n_retract + n_patch]
        for item in items[:n_retract]:
            r = self.client.post(
                f"/api/v1/results/{item['id']}/retract", json={"reason": "bench"}, headers=self.adm
            )
            assert r.status_code == 200, r.text
        for item in items[n_retract:]:
            etag = self.client.get(f"/api/v1/results/{item['id']}").headers["etag"]
            r = self.client.patch(
                f"/api/v1/results/{item['id']}",
                json={"note": uuid.uuid4().hex},
                headers={**self.cur, "If-Match": etag},
            )
            assert r.status_code == 200, r.text
        return [i["id"] for i in items]


def instant() -> str:
    """Now, a little after the last write and a little before the next."""
    time.sleep(0.05)
    at = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    return at


def targets(page1: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """(group, label, url) of every measurement: first pages, second pages, one result, a cite."""
    for url in PAGES:
        yield "page", url, url
    for url, cursor in page1.items():
        if cursor:
            yield "page", url + " (page 2)", f"{url}&cursor={quote(cursor)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--instants", type=int, default=3)
    args = parser.parse_args()
    writer = Writer()
    past: list[str] = []
    touched: list[str] = []
    for _ in range(args.instants):
        past.append(instant())
        for url in PAGES[:3]:
            touched += writer.change(url)
    latest = instant()  # after the last change: the data then is the present's
    singles = [*touched[:: max(1, len(touched) // 4)][:4], "bench-0000042"]
    times: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for when, ats in (("current", [None]), ("at= past", past), ("at= latest", [latest])):
            for at in ats:
                warm = with_at("/api/v1/metrics", at)
                page1 = {url: cold(with_at(url, at), warm)[1] for url in PAGES[:3]}
                cursors = {url: str(body.get("next_cursor") or "") for url, body in page1.items()}  # type: ignore[union-attr]
                for group, label, url in targets(cursors):
                    times[(when, group, label)].append(cold(with_at(url, at), warm)[0])
                for rid in singles:
                    for label, url in (("one result", f"/api/v1/results/{rid}"),
                                       ("one cite", f"/api/v1/results/{rid}/cite")):  # fmt: skip
                        times[(when, "one", label)].append(cold(with_at(url, at), warm)[0])
    report(times, args, past, latest)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def report(
    times: dict[tuple[str, str, str], list[float]], args: argparse.Namespace, past: list[str], latest: str
) -> None:
    """p50/p99 per (when, group) and the median of each URL."""
    print(f"engine {get_engine().dialect.name}; rounds {args.rounds}; past instants {past}; latest {latest}")
    print("| group | when | n | p50 ms | p99 ms |\n|---|---|---|---|---|")
    for group in ("page", "one"):
        for when in ("current", "at= past", "at= latest"):
            vals = [v for (w, g, _), vs in times.items() if w == when and g == group for v in vs]
            if vals:
                print(f"| {group} | {when} | {len(vals)} | {pct(vals, 0.5):.1f} | {pct(vals, 0.99):.1f} |")
    labels = list(dict.fromkeys(label for (_, _, label) in times))
    print("\n| URL | current p50 / max | at= past p50 / max | at= latest p50 / max |\n|---|---|---|---|")
    for label in labels:
        cells = []
        for when in ("current", "at= past", "at= latest"):
            vals = [v for (w, _, lab), vs in times.items() if w == when and lab == label for v in vs]
            cells.append(f"{statistics.median(vals):.1f} / {max(vals):.1f}" if vals else "-")
        print(f"| `{label}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
