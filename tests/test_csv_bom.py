"""`format=csv&bom=true`: a UTF-8 byte-order mark for spreadsheets, on every CSV GET; never by default."""

import csv
import io

import pytest

from app.csv_format import BOM

BOM_BYTES = b"\xef\xbb\xbf"

# Every GET that answers CSV (the query models that declare `format`), with a parameter-free URL.
CSV_URLS = [
    "/api/v1/operations",
    "/api/v1/operations/channel",
    "/api/v1/operations/channel/phases",
    "/api/v1/operations/channel/totals",
    "/api/v1/phases",
    "/api/v1/phases/channel-center-2019",
    "/api/v1/metrics",
    "/api/v1/sources",
    "/api/v1/sources/3",
    "/api/v1/results",
    "/api/v1/results/channel-center-2019-opium",
    "/api/v1/totals",
    "/api/v1/series?metric=opium_seized",
    "/api/v1/checks",
    "/api/v1/changes",
]


def _with(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def test_the_bom_constant_is_the_utf8_mark():
    assert BOM == BOM_BYTES


def test_every_get_with_format_documents_bom_in_openapi(client):
    """Every operation that declares `format` (i.e. answers CSV) declares a boolean `bom`, and no other."""
    paths = client.get("/openapi.json").json()["paths"]
    with_format, with_bom = set(), set()
    for path, item in paths.items():
        params = {p["name"]: p for p in item.get("get", {}).get("parameters", [])}
        if "format" in params and "csv" in str(params["format"]["schema"]):
            with_format.add(path)
        if "bom" in params:
            with_bom.add(path)
            assert params["bom"]["schema"]["type"] == "boolean"
            assert "byte-order mark" in params["bom"]["description"]
    assert with_bom == with_format and len(with_format) == len(CSV_URLS)


@pytest.mark.parametrize("url", CSV_URLS)
def test_bom_true_leads_the_csv_with_the_mark(client, url):
    plain = client.get(_with(url, "format=csv"))
    marked = client.get(_with(url, "format=csv&bom=true"))
    assert plain.status_code == marked.status_code == 200, marked.text
    assert marked.headers["content-type"] == "text/csv; charset=utf-8"
    assert marked.content.startswith(BOM_BYTES) and marked.content.count(BOM_BYTES) == 1
    assert not plain.content.startswith(BOM_BYTES)
    assert marked.content[len(BOM_BYTES) :] == plain.content
    rows = _rows(marked.content[len(BOM_BYTES) :])
    assert len(rows) >= 2 and rows[0] == _rows(plain.content)[0]
    assert marked.headers["etag"] != plain.headers["etag"]


def test_a_spreadsheet_reading_utf8_sig_gets_the_header_and_cyrillic(client):
    marked = client.get("/api/v1/operations?format=csv&bom=true").content
    reader = csv.DictReader(io.StringIO(marked.decode("utf-8-sig")))
    rows = list(reader)
    assert reader.fieldnames is not None and reader.fieldnames[0] == "slug"  # not "\ufeffslug"
    assert any(row["name_ru"] == "Канал" for row in rows)


def test_accept_text_csv_with_bom_gets_the_mark(client):
    r = client.get("/api/v1/results?bom=true", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.content.startswith(BOM_BYTES)


@pytest.mark.parametrize("url", ["/api/v1/results?bom=false&format=csv", "/api/v1/results?format=csv"])
def test_default_and_bom_false_have_no_mark(client, url):
    r = client.get(url)
    assert r.status_code == 200 and not r.content.startswith(BOM_BYTES) and r.content.startswith(b"id,")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/results?bom=true",
        "/api/v1/results?bom=true&format=json",
        "/api/v1/operations/channel/totals?bom=true",
        "/api/v1/results/channel-center-2019-opium?bom=1",
        "/api/v1/totals?bom=true&at=2025-01-01T00:00:00Z",
    ],
)
def test_bom_for_json_is_a_422_naming_bom(client, url):
    r = client.get(url)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["parameter"] == "bom" and "CSV" in r.json()["detail"]


def test_bom_false_with_json_is_harmless(client):
    r = client.get("/api/v1/metrics?bom=false")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("url", ["/api/v1/results?format=csv&bom=maybe", "/api/v1/metrics?format=csv&bom="])
def test_bom_that_is_no_boolean_is_a_422_naming_it(client, url):
    r = client.get(url)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["name"] == "bom"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/results",  # a versioned list: ETag from the data version, body cache
        "/api/v1/results/channel-center-2019-opium",  # its own ETag (the result's revision)
        "/api/v1/totals?at=2025-01-01T00:00:00Z",  # an immutable at= answer
        "/api/v1/series?metric=opium_seized",
    ],
)
def test_etags_and_304_are_per_representation(client, url):
    marked_url, plain_url = _with(url, "format=csv&bom=true"), _with(url, "format=csv")
    first = client.get(marked_url)  # the marked body is rendered (and cached) first
    plain = client.get(plain_url)
    assert not plain.content.startswith(BOM_BYTES), "a cached body with a BOM served without one"
    again = client.get(marked_url)
    assert again.content == first.content and again.content.startswith(BOM_BYTES)
    tag_marked, tag_plain = first.headers["etag"], plain.headers["etag"]
    assert tag_marked != tag_plain and again.headers["etag"] == tag_marked
    assert client.get(marked_url, headers={"If-None-Match": tag_marked}).status_code == 304
    assert client.get(plain_url, headers={"If-None-Match": tag_plain}).status_code == 304
    crossed = client.get(plain_url, headers={"If-None-Match": tag_marked})
    assert crossed.status_code == 200 and not crossed.content.startswith(BOM_BYTES)
    crossed = client.get(marked_url, headers={"If-None-Match": tag_plain})
    assert crossed.status_code == 200 and crossed.content.startswith(BOM_BYTES)


def test_head_with_bom_carries_the_get_etag(client):
    url = "/api/v1/metrics?format=csv&bom=true"
    assert client.head(url).headers["etag"] == client.get(url).headers["etag"]
