"""A page fetched for `POST /sources {"url"}` is fetched before the write lock: other writes go on."""

import http.server
import socketserver
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import db as storage
from app.config import get_settings
from app.curation.keys import create_key, revoke_key
from app.db import engine_sessions, make_engine
from app.main import create_app
from app.models import KeyScope

PAGE = (Path(__file__).parent / "pages" / "cluttered.html").read_bytes()
WAIT = 20.0  # the most any step waits for another (a hang fails instead of blocking the run)


class Gate:
    """A page that is served only once the test opens the gate; counts its requests."""

    def __init__(self) -> None:
        self.arrived, self.open, self.hits = threading.Event(), threading.Event(), 0

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:
                gate.hits += 1
                gate.arrived.set()
                gate.open.wait(WAIT)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

        return Handler


@pytest.fixture
def gate() -> Iterator[tuple[Gate, str]]:
    g = Gate()
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), g.handler())
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield g, f"http://127.0.0.1:{httpd.server_address[1]}/gated.html"
    g.open.set()
    httpd.shutdown()


@pytest.fixture
def engine(fresh_db, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated database of its own (the requests run concurrently, each in its own session)."""
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("FETCH_TIMEOUT", str(WAIT * 2))
    monkeypatch.setenv("WRITE_LOCK_TIMEOUT", "3")  # a write held behind the fetch is a 503, not a hang
    get_settings.cache_clear()
    storage.upgrade(fresh_db.url)
    eng = make_engine(fresh_db.url)
    yield eng
    eng.dispose()
    get_settings.cache_clear()


def _key(engine: Engine, name: str) -> dict[str, str]:
    with Session(engine) as s:
        _, clear = create_key(session=s, name=name, scope=KeyScope.curator)
    return {"Authorization": f"Bearer {clear}"}


def _text(n: int) -> dict[str, str]:
    return {
        "text": f"Document {n}: more than 5 t seized.",
        "title": "T",
        "publisher": "P",
        "published_on": "2024-01-02",
    }


BOTH = pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)


@BOTH
def test_another_write_completes_while_a_page_is_being_fetched(engine, gate):
    g, url = gate
    auth = _key(engine, "fetcher")
    with TestClient(create_app(engine_sessions(engine))) as c, ThreadPoolExecutor(1) as pool:
        slow = pool.submit(
            c.post, "/api/v1/sources", json={"url": url}, headers={**auth, "Idempotency-Key": "k1"}
        )
        assert g.arrived.wait(WAIT), "the fetch never reached the page"
        other = c.post("/api/v1/sources", json=_text(1), headers=auth)
        assert other.status_code == 201, other.text
        assert not slow.done() and not g.open.is_set(), "the other write finished while the page was held"
        g.open.set()
        first = slow.result(WAIT)
        assert first.status_code == 201 and first.json()["url"] == url, first.text
        again = c.post("/api/v1/sources", json={"url": url}, headers={**auth, "Idempotency-Key": "k1"})
        assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true", again.text
        assert again.json()["id"] == first.json()["id"] and g.hits == 1, "a replay does not fetch again"


@BOTH
def test_a_key_revoked_during_the_fetch_is_refused(engine, gate):
    g, url = gate
    auth = _key(engine, "revoked-meanwhile")
    with TestClient(create_app(engine_sessions(engine))) as c, ThreadPoolExecutor(1) as pool:
        slow = pool.submit(
            c.post, "/api/v1/sources", json={"url": url}, headers={**auth, "Idempotency-Key": "k2"}
        )
        assert g.arrived.wait(WAIT)
        with Session(engine) as s:
            revoke_key(session=s, name="revoked-meanwhile")
        g.open.set()
        r = slow.result(WAIT)
        assert r.status_code == 401, r.text
        assert c.get("/api/v1/sources?limit=500").json()["total"] == 0, "nothing was stored"


@BOTH
def test_the_fetch_still_refuses_private_addresses_unless_allowed(engine, gate, monkeypatch):
    g, url = gate
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "false")
    get_settings.cache_clear()
    auth = _key(engine, "guarded")
    with TestClient(create_app(engine_sessions(engine))) as c:
        r = c.post("/api/v1/sources", json={"url": url}, headers=auth)
    assert r.status_code == 422 and r.json()["type"].endswith(":url-not-public"), r.text
    assert g.hits == 0


@BOTH
def test_no_fetch_without_a_valid_key(engine, gate):
    g, url = gate
    with TestClient(create_app(engine_sessions(engine))) as c:
        assert c.post("/api/v1/sources", json={"url": url}).status_code == 401
        bad = c.post("/api/v1/sources", json={"url": url}, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
    assert g.hits == 0
