"""Strict query parameters: an unknown one, or a bad value, is a 422 problem whose `parameter` names it."""

import base64
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.main import create_app

RESULT = "channel-center-2019-opium"
# One URL per GET route of the app, with its path filled in (the docs pages are FastAPI's own).
GET_URLS = {
    "/healthz": "/healthz",
    "/readyz": "/readyz",
    "/api/v1/operations": "/api/v1/operations",
    "/api/v1/operations/{key}": "/api/v1/operations/channel",
    "/api/v1/operations/{key}/phases": "/api/v1/operations/channel/phases",
    "/api/v1/operations/{key}/totals": "/api/v1/operations/channel/totals",
    "/api/v1/phases": "/api/v1/phases",
    "/api/v1/phases/{slug}": "/api/v1/phases/channel-center-2019",
    "/api/v1/metrics": "/api/v1/metrics",
    "/api/v1/sources": "/api/v1/sources",
    "/api/v1/sources/{source_id}": "/api/v1/sources/3",
    "/api/v1/results": "/api/v1/results",
    "/api/v1/results/{result_id}": f"/api/v1/results/{RESULT}",
    "/api/v1/results/{result_id}/history": f"/api/v1/results/{RESULT}/history",
    "/api/v1/totals": "/api/v1/totals",
    "/api/v1/series": "/api/v1/series?metric=opium_seized",
    "/api/v1/changes": "/api/v1/changes",
    "/api/v1/checks": "/api/v1/checks",
    "/api/v1/results/{result_id}/cite": f"/api/v1/results/{RESULT}/cite",
    "/api/v1/candidates": "/api/v1/candidates",
    "/api/v1/candidates/{candidate_id}": "/api/v1/candidates/1",
    "/api/v1/datapackage": "/api/v1/datapackage",
}
CSV_URLS = [u for p, u in GET_URLS.items() if "text/csv" in str(create_app().openapi()["paths"][p]["get"])]


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def test_every_get_route_is_covered():
    spec = create_app().openapi()["paths"]
    gets = {p for p, item in spec.items() if "get" in item}
    assert gets == set(GET_URLS)


@pytest.mark.parametrize("url", GET_URLS.values())
def test_unknown_query_parameter_is_refused_naming_it(client, url):
    r = client.get(with_query(url, "as_of=2020-01-01"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["parameter"] == "as_of"
    assert body["errors"] == [{"in": "query", "name": "as_of", "message": "Unknown query parameter"}]
    assert "as_of" in body["detail"]


def test_results_as_of_is_not_a_silent_filter(client):
    """The defect: `?as_of=` answered 200 with today's data, so the user believed the filter worked."""
    assert client.get("/api/v1/results?as_of=2020-01-01").status_code == 422
    assert (
        client.get("/api/v1/results?operation=channel&as_of=2020-01-01&limit=1").json()["parameter"]
        == "as_of"
    )


@pytest.mark.parametrize("url", GET_URLS.values())
def test_a_known_url_still_answers(client, url):
    r = client.get(url)
    assert r.status_code in (200, 404), r.text  # 404: no candidate 1 in the seeds
    if r.status_code == 404:
        assert url == "/api/v1/candidates/1"


@pytest.mark.parametrize("url", CSV_URLS)
def test_format_is_read_by_every_csv_route(client, url):
    csv = client.get(with_query(url, "format=csv"), headers={"Accept": "application/json"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv"), csv.text
    js = client.get(with_query(url, "format=json"), headers={"Accept": "text/csv"})
    assert js.status_code == 200 and js.headers["content-type"] == "application/json", js.text


def test_every_documented_result_filter_is_accepted(client):
    query = (
        "operation=channel&phase=channel-center-2019&metric=opium_seized&scope=phase&country=Iran"
        "&qualifier=more_than&year=2019&from=2019-01-01&to=2019-12-31&q=opium&sort=-as_of"
        "&include_retracted=false&limit=5&format=json"
    )
    r = client.get(f"/api/v1/results?{query}")
    assert r.status_code == 200, r.text


def test_dates_filter_as_before(client):
    items = client.get("/api/v1/results?from=2019-01-01&to=2019-12-31&limit=500").json()["items"]
    assert items and all("2019-01-01" <= i["as_of"] <= "2019-12-31" for i in items)


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/results?qualifier=bogus", "qualifier"),
        ("/api/v1/results?limit=0", "limit"),
        ("/api/v1/results?from=bad", "from"),
        ("/api/v1/results?to=0", "to"),  # was accepted as 1970-01-01
        ("/api/v1/results?to=1e9", "to"),
        ("/api/v1/results?from=2019-1-1", "from"),
        ("/api/v1/results?from=20190101", "from"),
        ("/api/v1/results?from=2019-01-01T00:00:00", "from"),
        ("/api/v1/results?from=0000-01-01", "from"),
        ("/api/v1/results?to=2019-02-30", "to"),
        ("/api/v1/results?scope=galaxy&limit=0", "scope"),
        ("/api/v1/results?format=pdf", "format"),
        ("/api/v1/sources?limit=501", "limit"),
        ("/api/v1/series?metric=opium_seized&by=decade", "by"),
        ("/api/v1/series", "metric"),
        ("/api/v1/candidates?status=maybe", "status"),
        ("/api/v1/phases?format=xml", "format"),
    ],
)
def test_bad_query_value_names_the_parameter(client, url, parameter):
    r = client.get(url)
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert body["parameter"] == parameter
    assert body["errors"][0] == {"in": "query", "name": parameter, "message": body["errors"][0]["message"]}
    assert re.search(rf"'{re.escape(parameter)}'", body["detail"]), body["detail"]


def test_path_errors_have_no_parameter_member(client):
    body = client.get("/api/v1/sources/abc").json()
    assert body["status"] == 422 and "parameter" not in body
    assert body["errors"][0]["in"] == "path"


SHORT_LISTS = [
    ("/api/v1/metrics", "slug"),
    ("/api/v1/operations", "slug"),
    ("/api/v1/phases", "slug"),
    ("/api/v1/operations/channel/phases", "slug"),
]


@pytest.mark.parametrize(("url", "key"), SHORT_LISTS)
def test_short_lists_are_paged_like_every_list(client, url, key):
    whole = client.get(f"{url}?limit=500").json()
    assert whole["next_cursor"] is None and len(whole["items"]) == whole["total"] >= 2
    assert client.get(url).json() == whole  # one page by default, as before
    seen, query = [], f"{url}?limit=1"
    while True:
        r = client.get(query)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) == 1 and page["total"] == whole["total"]
        seen += [i[key] for i in page["items"]]
        if page["next_cursor"] is None:
            assert "link" not in r.headers
            break
        assert r.headers["link"].endswith('rel="next"')
        query = f"{url}?limit=1&cursor={page['next_cursor']}"
    assert seen == [i[key] for i in whole["items"]]


@pytest.mark.parametrize("url", [u for u, _ in SHORT_LISTS])
# not base64, not ASCII, not ours, no such key:
@pytest.mark.parametrize("cursor", ["%%%", "%C2%80", "bm90LW91cnM", "azpub3N1Y2g"])
def test_a_foreign_cursor_on_a_short_list_names_cursor(client, url, cursor):
    r = client.get(f"{url}?cursor={cursor}")
    assert r.status_code == 422 and r.json()["parameter"] == "cursor", r.text


@pytest.mark.parametrize("url", [u for u, _ in SHORT_LISTS])
def test_a_short_list_as_csv_holds_every_item(client, url):
    csv = client.get(f"{url}?format=csv&limit=1")
    assert csv.status_code == 200
    assert len(csv.text.strip().splitlines()) == client.get(url).json()["total"] + 1


CURSOR_LISTS = [
    "/api/v1/results",
    "/api/v1/sources",
    "/api/v1/candidates",
    "/api/v1/changes",
    *(u for u, _ in SHORT_LISTS),
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# JSON that is not a cursor of ours: no "v", a list, a string, a number, nested junk (each was a 500).
JUNK_CURSORS = [
    b64(b'{"k": "results", "s": "id"}'),
    b64(b"[1, 2, 3]"),
    b64(b'"results"'),
    b64(b"42"),
    b64(b"null"),
    b64(b'{"k": {"k": []}, "s": [null], "v": {"v": 1}}'),
    b64(b'{"k": "changes", "s": "id", "v": "1"}'),
]


@pytest.mark.parametrize("url", CURSOR_LISTS)
@pytest.mark.parametrize("cursor", JUNK_CURSORS)
def test_a_cursor_of_json_junk_is_a_422_naming_cursor(client, url, cursor):
    r = client.get(with_query(url, f"cursor={cursor}"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["parameter"] == "cursor"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["k", "s", "v", "x"]), inner),
    max_leaves=8,
)
KINDS = ["results", "sources", "candidates", "changes", "metrics", "operations", "phases"]
# Near misses too: our own shape with junk values (a huge integer, a string id, a nested list).
OUR_SHAPE = st.fixed_dictionaries(
    {"k": st.sampled_from(KINDS), "s": st.sampled_from(["id", "key"]), "v": st.lists(JSON, max_size=3)}
)
CURSORS = st.text(max_size=40) | (JSON | OUR_SHAPE).map(lambda d: b64(json.dumps(d).encode()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=st.sampled_from(CURSOR_LISTS), cursor=CURSORS)
def test_any_cursor_on_any_list_is_a_page_or_a_4xx_naming_cursor(client, url, cursor):
    r = client.get(url, params={"cursor": cursor})
    assert r.status_code < 500, r.text
    if r.status_code != 200:
        assert r.status_code in (400, 422) and r.json()["parameter"] == "cursor", r.text


def cursor_lists() -> list[str]:
    """Every GET of the OpenAPI document that takes a `cursor` (a list), as a URL to call."""
    paths = create_app().openapi()["paths"]
    listed = [
        p
        for p, ops in paths.items()
        if any(q["name"] == "cursor" and q["in"] == "query" for q in ops.get("get", {}).get("parameters", []))
    ]
    return [GET_URLS.get(p, p) for p in sorted(listed)]


# Crafted cursors (each kind was a 500 once): JSON without "v", a JSON list, number, string, not
# base64, base64 of what is not JSON, our shape with wrong types inside, non-ASCII.
CRAFTED_CURSORS = [
    b64(b'{"k": "results", "s": "id"}'),
    b64(b"[1, 2, 3]"),
    b64(b"3.5"),
    b64(b'"a string"'),
    "not*base64!",
    b64(b"{not json"),
    b64(b"\xff\xfe\x00junk"),
    b64(b'{"k": 1, "s": null, "v": [{}]}'),
    b64(b'{"k": "results", "s": "id", "v": [[1], {"x": 2}]}'),
    b64(b'{"k": "results", "s": "id", "v": "1"}'),
    "%C3%A9t%C3%A9",
]


def test_every_list_of_the_openapi_document_is_known():
    """A new list must be added to GET_URLS (with its path filled in) to be swept below."""
    paths = set(create_app().openapi()["paths"])
    assert all(u.startswith("/") and "{" not in u for u in cursor_lists()), cursor_lists()
    assert len(cursor_lists()) >= 7 and paths


@pytest.mark.parametrize("url", cursor_lists())
def test_a_crafted_cursor_is_a_4xx_problem_on_every_list(client, url):
    for cursor in CRAFTED_CURSORS:
        r = client.get(with_query(url, f"cursor={cursor}"))
        assert r.status_code in (400, 422), (url, cursor, r.text)
        assert r.headers["content-type"] == "application/problem+json", (url, cursor)
        assert r.json()["parameter"] == "cursor", (url, cursor, r.text)
