"""`Allow` names every method of a path, on OPTIONS (204) and on a 405 problem; CORS preflights unchanged."""

import re

import pytest

from app.main import create_app

EXPECTED = [
    ("/api/v1/phases", "GET, HEAD, POST, OPTIONS"),
    ("/api/v1/phases/channel-center-2019", "GET, HEAD, OPTIONS"),
    ("/api/v1/results", "GET, HEAD, POST, OPTIONS"),
    ("/api/v1/results/channel-center-2019-opium", "GET, HEAD, PATCH, OPTIONS"),
    ("/api/v1/results/channel-center-2019-opium/retract", "POST, OPTIONS"),
    ("/api/v1/results/channel-center-2019-opium/history", "GET, HEAD, OPTIONS"),
    ("/api/v1/sources", "GET, HEAD, POST, OPTIONS"),
    ("/api/v1/sources/3/candidates", "POST, OPTIONS"),
    ("/api/v1/candidates/1/accept", "POST, OPTIONS"),
    ("/api/v1/metrics", "GET, HEAD, OPTIONS"),
    ("/healthz", "GET, HEAD, OPTIONS"),
    ("/openapi.json", "GET, HEAD, OPTIONS"),
]


@pytest.mark.parametrize(("path", "allow"), EXPECTED)
def test_options_answers_204_with_every_method(client, path, allow):
    r = client.options(path)
    assert r.status_code == 204, r.text
    assert r.headers["allow"] == allow
    assert r.content == b""
    assert not any(h.startswith("access-control-") for h in r.headers)


@pytest.mark.parametrize(("path", "allow"), EXPECTED)
def test_405_is_a_problem_with_every_method(client, path, allow):
    r = client.request("DELETE", path)
    assert r.status_code == 405, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["allow"] == allow
    body = r.json()
    assert body["status"] == 405 and body["type"] == "urn:opstats:problem:method-not-allowed"
    assert allow in body["detail"] and "DELETE" in body["detail"]


def test_a_write_path_refuses_put_listing_get_and_post(client):
    r = client.put("/api/v1/sources", json={})
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_allow_matches_the_documented_methods_of_every_path(client):
    """Every path of the OpenAPI document, parameters filled in: Allow = its operations, HEAD, OPTIONS."""
    for template, item in create_app().openapi()["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        methods = [m.upper() for m in ("get", "post", "put", "patch", "delete") if m in item]
        expected = [*methods[:1], *(["HEAD"] if "GET" in methods else []), *methods[1:], "OPTIONS"]
        assert client.options(path).headers["allow"] == ", ".join(expected), template


def test_options_on_an_unknown_path_is_404(client):
    r = client.options("/api/v1/nosuchthing")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_cors_preflight_is_unchanged_on_paths_that_take_writes(client):
    origin = {"Origin": "https://dash.example"}
    read = client.options("/api/v1/phases", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert read.status_code == 200 and read.headers["access-control-allow-origin"] == "*"
    assert "POST" not in read.headers["access-control-allow-methods"]
    write = client.options("/api/v1/phases", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert write.status_code == 403 and write.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in write.headers
