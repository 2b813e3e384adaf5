"""HTTP layer of the reads: ETags from the data version, 304 before any query, body cache, CORS, HEAD."""

from datetime import date

import pytest

from app.domain.revisions import result_etag
from app.models import Result
from app.read.history import read_epoch
from tests.factories import CATALOG_GETS, CRIMES_SENTENCE, add_figure

GETS = [
    *CATALOG_GETS,
    "/api/v1/sources",
    "/api/v1/sources/3",
    "/api/v1/results?limit=5",
    "/api/v1/results/channel-center-2019-opium",
    "/api/v1/totals",
    "/api/v1/series?metric=opium_seized&operation=channel",
]


@pytest.mark.parametrize("url", GETS)
def test_every_get_has_a_strong_etag_that_answers_304(client, url):
    r = client.get(url)
    etag = r.headers["etag"]
    assert r.status_code == 200 and etag.startswith('"') and not etag.startswith("W/")
    assert r.headers["cache-control"] and "accept" in r.headers["vary"].lower()
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(url, headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


@pytest.mark.parametrize("url", GETS)
def test_json_and_csv_have_different_etags(client, url):
    json_tag = client.get(url).headers["etag"]
    csv = client.get(url, headers={"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["etag"] != json_tag


def test_result_etag_is_the_revision_etag_patch_compares(client, session):
    r = client.get("/api/v1/results/channel-center-2019-opium")
    row = session.get(Result, "channel-center-2019-opium")
    epoch = read_epoch(session=session)
    assert len(epoch) == 32, "the database epoch is part of the ETag"
    assert r.headers["etag"] == result_etag(row.id, row.revision, epoch=epoch)
    assert client.get("/api/v1/results/channel-center-2019-opium?format=csv").headers["etag"] == result_etag(
        row.id, row.revision, "csv", epoch=epoch
    )


def test_a_write_changes_list_etags_and_bodies(client, session):
    first = client.get("/api/v1/results?limit=500")
    add_figure(
        session,
        "stage1-drug-crimes",
        phase="channel-2023-stage-1",
        metric="drug_crimes_detected",
        value=784,
        unit="count",
        scope="phase",
        quote=CRIMES_SENTENCE,
        as_of=date(2023, 5, 31),
    )
    second = client.get("/api/v1/results?limit=500", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]
    assert second.json()["total"] == first.json()["total"] + 1


def test_304_and_repeated_gets_do_not_run_the_query(client, monkeypatch):
    import app.api.v1.operations as ops

    etag = client.get("/api/v1/operations").headers["etag"]
    body = client.get("/api/v1/operations").content

    def boom(**_):  # the query path must not be reached any more
        raise AssertionError("query ran")

    monkeypatch.setattr(ops, "list_operations", boom)
    assert client.get("/api/v1/operations", headers={"If-None-Match": etag}).status_code == 304
    cached = client.get("/api/v1/operations")
    assert cached.status_code == 200 and cached.content == body and cached.headers["etag"] == etag


def test_errors_are_not_cached_and_carry_no_etag(client):
    r = client.get("/api/v1/operations/nosuchop")
    assert r.status_code == 404 and "etag" not in r.headers and r.headers["cache-control"] == "no-store"


def test_head_is_get_without_a_body(client):
    get, head = client.get("/api/v1/metrics"), client.head("/api/v1/metrics")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == get.headers["etag"]


def test_cors_opens_reads_to_any_origin(client):
    r = client.get("/api/v1/metrics", headers={"Origin": "https://dash.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "etag" in r.headers["access-control-expose-headers"].lower()
    pre = client.options(
        "/api/v1/results", headers={"Origin": "https://dash.example", "Access-Control-Request-Method": "GET"}
    )
    assert pre.status_code == 200 and "POST" not in pre.headers["access-control-allow-methods"]


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_cors_does_not_open_writes(client, method):
    pre = client.options(
        "/api/v1/results", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": method}
    )
    assert pre.status_code == 403 and "access-control-allow-origin" not in pre.headers
    assert pre.headers["content-type"] == "application/problem+json"
    r = client.request(method, "/api/v1/results", headers={"Origin": "https://evil.example"}, json={})
    assert "access-control-allow-origin" not in r.headers


def test_docs_are_served_without_remote_assets(client):
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "https://" not in html and "http://" not in html.replace("http://www.w3.org", "")
        assert "/static-offline-docs/" in html
