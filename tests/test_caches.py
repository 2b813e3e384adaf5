"""Caches in one place: one registry per app, bounded together, and the versioned routes taken from
the router."""

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.caches import SHARES, Caches
from app.config import get_settings
from app.http.conditional import EXEMPT, etag_mode, versioned_paths
from app.http.routes import route_contexts
from app.main import create_app


def test_every_cache_is_in_the_registry_and_their_sum_is_the_budget():
    caches = Caches.create(100, 1_000_000)
    assert len(caches.all()) == len(SHARES)
    assert sum(c.max_bytes for c in caches.all()) <= 1_000_000
    assert abs(sum(SHARES.values()) - 1.0) < 1e-9


def test_a_fresh_app_has_fresh_caches():
    """Two apps share no cache (the test fixture's promise holds: no module globals)."""
    one, two = create_app(), create_app()
    assert all(a is not b for a, b in zip(one.state.caches.all(), two.state.caches.all(), strict=True))


def test_every_get_in_the_openapi_document_is_versioned_or_named_exempt(app: FastAPI, client):
    """A new GET route is versioned by default (no list to forget); exempt ones say so."""
    versioned = versioned_paths(app.routes)
    doc = client.get("/openapi.json").json()
    gets = {
        p: r
        for r, p in route_contexts(app.routes)
        if isinstance(r, APIRoute) and "GET" in (r.methods or set())
    }
    for path, item in doc["paths"].items():
        if "get" not in item or not path.startswith("/api/v1/"):
            continue
        route = gets[path]
        concrete = path.replace("{", "").replace("}", "")
        if item["get"].get("x-etag") in EXEMPT:
            assert not versioned.versioned(concrete), path
        else:
            assert etag_mode(route) in ("content-version", "data-version"), path
            assert versioned.versioned(concrete), path


def test_a_versioned_get_answers_with_the_version_etag_and_304(client):
    """Each versioned GET's ETag names the data state: the same on a repeat, 304 on If-None-Match."""
    for url in ("/api/v1/metrics", "/api/v1/operations/channel/totals", "/api/v1/sources", "/api/v1/changes"):
        first = client.get(url)
        assert first.status_code == 200 and "data-version" in first.headers, url
        again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, url


def test_the_budget_is_the_setting():
    caches = create_app().state.caches
    assert caches.bytes == 0
    assert sum(c.max_bytes for c in caches.all()) <= get_settings().response_cache_bytes
