"""Headers on every answer, request ids in and out and in the logs, JSON access logs, /metrics,
graceful shutdown, and every write route behind a credential."""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.http.edge.observability import JsonFormatter
from app.http.edge.security import PAGE_CSP
from app.http.edge.writes import COMMITS, WriteRoute
from app.main import create_app
from tests.factories import ROOT, SOURCE, bearer, cli_key, free_port, wait_healthy

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
        ("GET", "/api/v1/totals"),
        ("GET", "/api/v1/results?format=csv"),
        ("GET", "/api/v1/nothing-here"),
        ("POST", "/api/v1/sources"),
        ("OPTIONS", "/api/v1/results"),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
    ],
)
def test_every_answer_is_nosniff_with_a_referrer_policy_and_a_request_id(client, method, path):
    r = client.request(method, path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert len(r.headers["x-request-id"]) == 32


def test_html_pages_carry_a_content_security_policy(client):
    assert client.get("/").headers["content-security-policy"] == PAGE_CSP
    docs = client.get("/docs")
    csp = docs.headers["content-security-policy"]
    assert "'sha256-" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "content-security-policy" not in client.get("/api/v1/totals").headers


def test_a_request_id_is_taken_from_the_client_or_made(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123.x"}).headers["x-request-id"] == "abc-123.x"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id;" * 30}).headers["x-request-id"]
    assert " " not in made and len(made) == 32


def test_access_log_lines_are_json_with_route_status_duration_and_request_id(client, session, caplog):
    key = bearer(session)
    with caplog.at_level(logging.INFO, logger="opstats.access"):
        client.get("/api/v1/results/nope", headers={"X-Request-ID": "trace-1"})
        client.post("/api/v1/sources", json=SOURCE, headers={**key, "X-Request-ID": "trace-2"})
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "opstats.access"]
    by_id = {line["request_id"]: line for line in lines}
    assert by_id["trace-1"]["route"] == "/api/v1/results/{result_id}" and by_id["trace-1"]["status"] == 404
    assert by_id["trace-2"]["method"] == "POST" and by_id["trace-2"]["status"] == 201
    assert by_id["trace-2"]["duration_ms"] > 0
    assert all(key["Authorization"].split()[1] not in json.dumps(line) for line in lines), "keys never logged"


def test_metrics_count_requests_by_route_template_and_status(client):
    client.get("/api/v1/results/nope")
    client.get("/api/v1/results/also-nope")
    client.get("/api/v1/random/path/123")
    body = client.get("/metrics").text
    assert (
        'opstats_http_requests_total{method="GET",route="/api/v1/results/{result_id}",status="404"} 2.0'
        in body
    )
    assert 'route="unmatched"' in body and "random" not in body, "label values stay bounded"
    assert "opstats_http_request_duration_seconds_bucket" in body and "opstats_data_version" in body


def test_every_write_route_needs_a_credential():
    """A new write route without a key dependency fails here (and the whole auth suite with it)."""
    app = create_app()
    routes = [rc.original_route for rc in iter_route_contexts(app.routes)]
    writes = [r for r in routes if isinstance(r, APIRoute) and r.methods & WRITE_METHODS]
    assert len(writes) >= 7
    for route in writes:
        every = list(_dependencies(route.dependant))
        names = {getattr(d.call, "__name__", "") for d in every}
        assert "dependency" in names, f"{route.methods} {route.path} has no require_scope dependency"
        assert any(type(d.call).__name__ == "HTTPBearer" for d in every), route.path


def _dependencies(dependant):
    """Every dependency of a route, its sub-dependencies included (a write context needs a key)."""
    for d in dependant.dependencies:
        if d.call is not None:
            yield d
        yield from _dependencies(d)


def test_every_write_route_commits_in_its_own_thread_hop():
    """Each write route renders its answer and commits where its rows were written (WriteRoute)."""
    routes = [rc.original_route for rc in iter_route_contexts(create_app().routes)]
    writes = [r for r in routes if isinstance(r, APIRoute) and r.methods & WRITE_METHODS]
    for route in writes:
        assert isinstance(route, WriteRoute), f"{route.methods} {route.path} is not a WriteRoute"
        assert getattr(route.dependant.call, COMMITS, False), f"{route.path} does not commit in its hop"


@pytest.mark.slow
@pytest.mark.parametrize("fresh_db", ["sqlite"], indirect=True)
def test_sigterm_finishes_the_requests_in_flight(fresh_db, tmp_path):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=fresh_db.url, RATE_LIMIT_WRITES="10000/minute")
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    wait_healthy(port, proc)
    key = cli_key(env, "term")
    base = f"http://127.0.0.1:{port}"
    codes: list[int] = []

    def write(i: int) -> None:
        try:
            r = httpx.post(
                base + "/api/v1/sources",
                json={**SOURCE, "text": f"term {i}"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            codes.append(r.status_code)
        except httpx.HTTPError:
            codes.append(0)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while 201 not in codes and time.time() < deadline:  # some answered, the rest in flight or queued
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join()
    assert proc.wait(30) in (0, -signal.SIGTERM), "uvicorn exits, re-raising the signal it handled"
    log.close()
    assert all(c in (201, 0) for c in codes) and 201 in codes, codes
    text = (tmp_path / "server.log").read_text()
    lines = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
    assert any(line["msg"].startswith("Finished server process") for line in lines), text[-2000:]
    assert all("request_id" in line for line in lines), "every log line is JSON with a request id"
    answered = [line for line in lines if line["logger"] == "opstats.access" and line["method"] == "POST"]
    assert len(answered) == codes.count(201), "every request taken in was answered before the exit"
