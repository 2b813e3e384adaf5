"""The in-process caches: bounded by entries and by bytes, and large answers cached within the budget."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.caches import SHARES, SMALL, VersionedLRU
from app.config import get_settings
from app.main import create_app
from app.read import aggregates


def test_entries_beyond_the_byte_budget_are_dropped_oldest_first() -> None:
    lru = VersionedLRU(100, max_bytes=4 * (1000 + SMALL))
    for k in range(4):
        lru.put(1, k, b"x" * 1000)
    assert len(lru) == 4 and lru.bytes == 4 * (1000 + SMALL)
    assert lru.get(1, 0) is not None  # 0 is now the most recently used
    lru.put(1, 4, b"y" * 1000)
    assert lru.get(1, 1) is None and lru.get(1, 0) is not None and lru.get(1, 4) is not None
    assert lru.bytes <= lru.max_bytes


def test_a_value_over_a_quarter_of_the_budget_is_not_kept() -> None:
    lru = VersionedLRU(100, max_bytes=4000)
    lru.put(1, "big", b"x" * 1001)
    assert lru.get(1, "big") is None and lru.bytes == 0
    lru.put(1, "fits", b"x" * (1000 - SMALL))
    assert lru.get(1, "fits") is not None


def test_a_replaced_value_and_a_new_version_give_their_bytes_back() -> None:
    lru = VersionedLRU(100, max_bytes=100_000)
    lru.put(1, "k", b"x" * 5000)
    lru.put(1, "k", b"x" * 100)
    assert lru.bytes == 100 + SMALL
    lru.put(2, "other", ([], b"x" * 10, '"etag"'))
    assert lru.get(1, "k") is None and len(lru) == 1 and lru.bytes == 10 + len('"etag"') + SMALL
    lru.observe_epoch("a new database")
    assert len(lru) == 0 and lru.bytes == 0


def test_the_entry_bound_still_holds() -> None:
    lru = VersionedLRU(3)
    for k in range(10):
        lru.put(1, k, k + 1)
    assert len(lru) == 3 and [lru.get(1, k) for k in (7, 8, 9)] == [8, 9, 10]


@contextmanager
def app_with_budget(session: Session, budget: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A fresh app whose caches keep `budget` bytes each."""
    monkeypatch.setenv("RESPONSE_CACHE_BYTES", str(budget))
    get_settings.cache_clear()
    try:

        @contextmanager
        def the_tests_session() -> Iterator[Session]:
            yield session

        with TestClient(create_app(the_tests_session), raise_server_exceptions=False) as c:
            yield c
    finally:
        monkeypatch.delenv("RESPONSE_CACHE_BYTES")
        get_settings.cache_clear()


@pytest.mark.parametrize("fits", [True, False])
def test_all_totals_are_cached_when_the_budget_holds_them(
    session: Session, monkeypatch: pytest.MonkeyPatch, fits: bool
) -> None:
    computed: list[int] = []
    real = aggregates.all_totals_json

    def counted(**kw: Session) -> bytes:
        body = real(**kw)
        computed.append(len(body))
        return body

    monkeypatch.setattr("app.api.v1.totals.all_totals_json", counted)
    with app_with_budget(session, 1_000_000, monkeypatch) as probe:
        size = len(probe.get("/api/v1/totals").content)
    computed.clear()
    # fits: a quarter of the values' share holds the body twice; else a quarter of the largest share
    # (the rendered answers') holds half of it
    budget = int(8 * size / SHARES["values"]) if fits else int(2 * size / SHARES["responses"])
    with app_with_budget(session, budget, monkeypatch) as client:
        first = client.get("/api/v1/totals")
        again = client.get("/api/v1/totals")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.headers["etag"] == again.headers["etag"]
    assert len(computed) == (1 if fits else 2)
