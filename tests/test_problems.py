"""One error shape everywhere: RFC 9457 problem+json, a 4xx for every bad input, never a 500."""

import pytest

BAD = [
    ("/api/v1/operations/nosuchop", 404),
    ("/api/v1/operations/nosuchop/phases", 404),
    ("/api/v1/operations/nosuchop/totals", 404),
    ("/api/v1/operations/" + "x" * 101, 422),
    ("/api/v1/phases/nosuch", 404),
    ("/api/v1/sources/999999", 404),
    ("/api/v1/sources/0", 422),
    ("/api/v1/sources/2147483648", 422),
    ("/api/v1/sources/abc", 422),
    ("/api/v1/sources?cursor=%%%", 422),
    ("/api/v1/sources?limit=0", 422),
    ("/api/v1/results/nosuch", 404),
    ("/api/v1/results?limit=501", 422),
    ("/api/v1/results?limit=abc", 422),
    ("/api/v1/results?limit=99999999999999999999", 422),
    ("/api/v1/results?year=99999", 422),
    ("/api/v1/results?from=2019-13-45", 422),
    ("/api/v1/results?scope=galaxy", 422),
    ("/api/v1/results?qualifier=roughly", 422),
    ("/api/v1/results?q=" + "a" * 201, 422),
    ("/api/v1/results?operation=%00", 422),
    ("/api/v1/results?sort=-", 422),
    ("/api/v1/results?include_retracted=maybe", 422),
    ("/api/v1/results?format=pdf", 422),
    ("/api/v1/series?metric=opium_seized&by=decade", 422),
    ("/api/v1/nosuchthing", 404),
]


@pytest.mark.parametrize(("url", "status"), BAD)
def test_bad_input_is_a_problem(client, url, status):
    r = client.get(url)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    assert "Traceback" not in r.text


def test_unknown_operation_lists_the_valid_slugs(client):
    body = client.get("/api/v1/operations/nosuchop").json()
    assert body["valid_operations"] == ["channel", "mercenary", "illegal", "proxy"]
    assert all(slug in body["detail"] for slug in body["valid_operations"])


def test_bad_filter_names_the_parameter(client):
    body = client.get("/api/v1/results?operation=nosuchop").json()
    assert body["status"] == 422 and body["parameter"] == "operation"
    assert body["valid_operations"] == ["channel", "mercenary", "illegal", "proxy"]


def test_method_not_allowed_is_a_problem(client):
    r = client.delete("/api/v1/metrics")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"


def test_openapi_documents_problems_and_csv(client):
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/results"]["get"]
    assert "application/problem+json" in op["responses"]["422"]["content"]
    assert "text/csv" in op["responses"]["200"]["content"]
    assert "304" in op["responses"]
    assert (
        "application/problem+json"
        in spec["paths"]["/api/v1/operations/{key}"]["get"]["responses"]["404"]["content"]
    )
    mine = [
        "/api/v1/operations",
        "/api/v1/operations/{key}",
        "/api/v1/operations/{key}/phases",
        "/api/v1/operations/{key}/totals",
        "/api/v1/phases",
        "/api/v1/phases/{slug}",
        "/api/v1/metrics",
        "/api/v1/sources",
        "/api/v1/sources/{source_id}",
        "/api/v1/results",
        "/api/v1/results/{result_id}",
        "/api/v1/totals",
        "/api/v1/series",
    ]
    for path in mine:
        get = spec["paths"][path]["get"]
        assert get.get("summary") and get.get("description"), path
        assert "304" in get["responses"] and "text/csv" in get["responses"]["200"]["content"], path
