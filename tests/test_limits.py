"""Limits at the edge: body size (413 before reading), JSON depth and control characters (422),
rate limits (429 with Retry-After), oversized cursor integers (422)."""

import asyncio
import base64
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import get_settings
from app.http.edge.body import BodyLimitMiddleware, json_depth
from app.main import create_app
from tests.factories import DIRECT, SOURCE, add_source, bearer


def _deep(n: int) -> bytes:
    return b'{"text":' + b"[" * n + b"]" * n + b"}"


@pytest.mark.parametrize("path", ["/api/v1/sources", "/api/v1/results", "/api/v1/phases"])
def test_a_deep_body_is_422_with_or_without_a_key(client, session, path):
    cur = bearer(session)
    for headers in ({}, {**cur, "Idempotency-Key": "deep"}):
        r = client.post(path, content=_deep(10_000), headers={**headers, "Content-Type": "application/json"})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json" and "nests" in r.json()["detail"]


def test_depth_counts_brackets_outside_strings():
    assert json_depth(b'{"a": "[[[[[[", "b": [[1], {"c": [2]}]}') == 4
    assert json_depth(b'{"a": "\\"[[[["}') == 1


@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085"])
def test_control_characters_in_text_fields_are_422_naming_the_field(client, session, char):
    cur = bearer(session)
    r = client.post("/api/v1/sources", json={**SOURCE, "title": f"bad{char}title"}, headers=cur)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "title"
    sid = add_source(client, cur)
    r = client.post("/api/v1/results", json={**DIRECT, "source_id": sid, "quote": f"x{char}"}, headers=cur)
    assert r.status_code == 422 and r.json()["field"] == "quote"


def test_tabs_and_line_breaks_are_text(client, session):
    cur = bearer(session)
    r = client.post("/api/v1/sources", json={**SOURCE, "text": SOURCE["text"] + "\tend\r\n"}, headers=cur)
    assert r.status_code == 201, r.text


def test_a_large_body_is_413_before_authentication(client):
    r = client.post("/api/v1/sources", content=b"x" * (get_settings().max_body_bytes + 1))
    assert r.status_code == 413 and r.json()["type"].endswith("body-too-large")


def _run(
    app: BodyLimitMiddleware, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, int]:
    """(status, number of body messages the middleware read) for one request."""
    read = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal read
        read += 1
        i = read - 1
        return {"type": "http.request", "body": chunks[i], "more_body": i < len(chunks) - 1}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/sources", "headers": headers}
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return sent[0]["status"], read


def test_413_from_content_length_reads_nothing_and_a_stream_stops_at_the_limit():
    async def never(*_: object) -> None:
        raise AssertionError("the app must not see a refused body")

    mw = BodyLimitMiddleware(never, max_bytes=1000, max_depth=32)
    assert _run(mw, [(b"content-length", b"5000")], [b"x" * 5000]) == (413, 0)
    status, read = _run(mw, [], [b"x" * 400] * 10)
    assert status == 413 and read == 3, "stops reading as soon as the body passes the limit"


@pytest.fixture
def limited(session, monkeypatch) -> Iterator[FastAPI]:
    """An app with small limits on the test's session."""
    from contextlib import contextmanager

    monkeypatch.setenv("RATE_LIMIT_WRITES", "3/minute")
    monkeypatch.setenv("RATE_LIMIT_AUTH_FAILURES", "2/minute")
    monkeypatch.setenv("RATE_LIMIT_READS", "5/minute")
    get_settings.cache_clear()

    @contextmanager
    def scope():
        yield session

    yield create_app(scope)
    get_settings.cache_clear()


def test_rate_limits_answer_429_with_retry_after(limited, session):
    cur = bearer(session)
    with TestClient(limited) as c:
        codes = [
            c.post(
                "/api/v1/phases", json={"operation": "channel", "name": f"RL {i}"}, headers=cur
            ).status_code
            for i in range(4)
        ]
        assert codes == [201, 201, 201, 429]
        r = c.post("/api/v1/phases", json={"operation": "channel", "name": "RL x"}, headers=cur)
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
        assert r.headers["content-type"] == "application/problem+json"
        bad = {"Authorization": "Bearer nope"}
        codes = [c.post("/api/v1/sources", json=SOURCE, headers=bad).status_code for _ in range(3)]
        assert codes == [401, 401, 429], "past the failures, the client's writes are refused"
        other = bearer(session)
        assert c.post("/api/v1/sources", json=SOURCE, headers=other).status_code == 429
        reads = [c.get("/api/v1/metrics").status_code for _ in range(6)]
        assert reads[-1] == 429 and reads.count(200) + reads.count(304) >= 4


def test_reads_are_unlimited_by_default(client):
    assert get_settings().rate_limit_reads == ""
    assert all(client.get("/healthz").status_code == 200 for _ in range(50))


@pytest.mark.parametrize("path", ["/api/v1/candidates", "/api/v1/sources", "/api/v1/results"])
def test_a_cursor_past_bigint_is_422(client, path):
    for sort, values in (("id", [2**64]), ("id", [-(2**70)])):
        kind = path.rsplit("/", 1)[1]
        raw = b'{"k":"%s","s":"%s","v":[%d]}' % (
            kind.encode(),
            sort.encode(),
            values[0],
        )  # orjson: no bigints
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        r = client.get(f"{path}?cursor={cursor}")
        assert r.status_code == 422 and r.json()["parameter"] == "cursor", r.text


def test_a_nul_in_the_url_names_where_it_is(client):
    r = client.get("/api/v1/results?q=a%00b")
    assert r.status_code == 422 and r.json()["parameter"] == "q"
    assert client.get("/api/v1/operations/a%00b").json()["in"] == "path"
