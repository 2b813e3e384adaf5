"""Rate limits shared through Redis hold for the sum of a key's requests to every instance."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import get_settings
from app.main import create_app
from tests.factories import bearer, free_port, require_redis

pytestmark = pytest.mark.redis


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test alone (parallel runs share the Redis), its keys deleted after."""
    url = require_redis()
    name = f"opstats-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def instance(session, monkeypatch, storage: str, prefix: str) -> FastAPI:
    """One more app on the test's session, counting writes (3 a minute) in `storage`."""
    monkeypatch.setenv("RATE_LIMIT_WRITES", "3/minute")
    monkeypatch.setenv("RATE_LIMIT_STORAGE", storage)
    monkeypatch.setenv("RATE_LIMIT_KEY_PREFIX", prefix)
    get_settings.cache_clear()

    @contextmanager
    def scope():
        yield session

    try:
        return create_app(scope)
    finally:
        get_settings.cache_clear()


def phase(client: TestClient, headers: dict[str, str], n: int) -> int:
    body = {"operation": "channel", "name": f"Shared limit {uuid.uuid4().hex[:6]} {n}"}
    return client.post("/api/v1/phases", json=body, headers=headers).status_code


def test_a_keys_write_limit_holds_across_two_instances(session, monkeypatch, prefix):
    apps = [instance(session, monkeypatch, require_redis(), prefix) for _ in range(2)]
    cur = bearer(session)
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        codes = [phase((a, b)[n % 2], cur, n) for n in range(5)]
        assert codes == [201, 201, 201, 429, 429], "three writes in all, whichever instance took them"
        other = bearer(session)
        assert phase(b, other, 9) == 201, "another key has its own count"
    assert any(redis.Redis.from_url(require_redis()).scan_iter(f"{prefix}:*")), "counted in Redis"


def test_an_unreachable_storage_counts_per_process_and_never_fails_a_request(session, monkeypatch, caplog):
    app = instance(session, monkeypatch, f"redis://127.0.0.1:{free_port()}/0", "unreachable")
    cur = bearer(session)
    with TestClient(app) as c:
        codes = [phase(c, cur, n) for n in range(4)]
    assert codes == [201, 201, 201, 429], "the limit still holds in this process"
    assert any("rate-limit storage unreachable" in r.getMessage() for r in caplog.records)


def test_a_failed_storage_is_left_alone_for_a_while_then_tried_again(monkeypatch):
    from limits import parse

    from app.http.edge import limits as edge

    limiter = edge.Limiter.on(f"redis://127.0.0.1:{free_port()}/0", "unreachable")
    tried = []
    real_hit = limiter.shared.hit
    monkeypatch.setattr(limiter.shared, "hit", lambda *a: tried.append(1) or real_hit(*a))
    item = parse("2/minute")
    assert [limiter.hit(item, "k") for _ in range(3)] == [True, True, False], "counted locally"
    assert len(tried) == 1, "one attempt on the shared storage, then left alone"
    now = edge.time.monotonic()
    monkeypatch.setattr(edge.time, "monotonic", lambda: now + edge.RETRY_SHARED + 1)
    limiter.hit(item, "k")
    assert len(tried) == 2, "tried again once RETRY_SHARED has passed"
