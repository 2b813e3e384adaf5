"""CSV of every read: the JSON field names as header, every matching row of a list, streamed."""

import csv
import io

import pytest

from app.csv_format import columns, csv_text, flatten
from app.schemas.results import ResultPublic
from app.schemas.totals import MetricTotals
from tests.factories import all_results, ids, retract_and_time, walk


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


def header_of(response) -> list[str]:
    return next(csv.reader(io.StringIO(response.text)))


def test_results_csv_holds_every_matching_row_not_one_page(client):
    expected = ids(walk(client, "/api/v1/results?operation=channel&limit=500"))
    r = client.get("/api/v1/results?operation=channel&limit=2", headers={"Accept": "text/csv"})
    assert [row["id"] for row in rows_of(r)] == expected and len(expected) > 2


def test_results_csv_header_is_the_json_fields_flattened(client):
    r = client.get("/api/v1/results?format=csv")
    header = header_of(r)
    assert header == columns(ResultPublic)
    json_fields = set(all_results(client)[0]) - {"source"}
    assert json_fields <= set(header)
    assert {"source_id", "source_title", "source_published_on"} <= set(header)
    opium = next(row for row in rows_of(r) if row["id"] == "channel-center-2019-opium")
    assert (opium["value_base"], opium["qualifier"], opium["country"]) == ("8900.0", "more_than", "")
    assert opium["quote"] == client.get("/api/v1/results/channel-center-2019-opium").json()["quote"]


def test_results_csv_follows_sort_and_filters(client):
    json_ids = ids(walk(client, "/api/v1/results?limit=500&sort=-value_base,as_of&scope=phase"))
    r = client.get("/api/v1/results?sort=-value_base,as_of&scope=phase&format=csv")
    assert [row["id"] for row in rows_of(r)] == json_ids


def test_empty_list_csv_is_the_header_alone(client):
    r = client.get("/api/v1/results?q=no-such-words-anywhere&format=csv")
    assert rows_of(r) == [] and header_of(r) == columns(ResultPublic)


def test_totals_csv_is_one_row_per_metric(client):
    json_metrics = [m["metric"] for m in client.get("/api/v1/operations/channel/totals").json()["metrics"]]
    r = client.get("/api/v1/operations/channel/totals?format=csv")
    rows = rows_of(r)
    assert header_of(r) == ["operation", *columns(MetricTotals)]
    assert [row["metric"] for row in rows] == json_metrics
    drugs = next(row for row in rows if row["metric"] == "drugs_seized")
    assert (
        drugs["cumulative_value_base"] == "427000.0"
        and drugs["phase_sum_result_ids"] == "channel-center-2019-drugs"
    )


def test_all_totals_csv_has_programme_rows_without_operation(client):
    rows = rows_of(client.get("/api/v1/totals", headers={"Accept": "text/csv"}))
    programme = [row for row in rows if row["operation"] == ""]
    assert programme and all(row["cumulative_scope"] == "programme" for row in programme)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("/api/v1/operations", "slug"),
        ("/api/v1/operations/channel/phases", "slug"),
        ("/api/v1/phases", "slug"),
        ("/api/v1/metrics", "slug"),
        ("/api/v1/sources", "id"),
    ],
)
def test_lists_as_csv_match_json(client, url, key):
    json_keys = [str(item[key]) for item in client.get(url).json()["items"]]
    assert [row[key] for row in rows_of(client.get(url + "?format=csv"))] == json_keys


def test_one_object_as_csv_is_one_row(client):
    [row] = rows_of(client.get("/api/v1/operations/Kanal?format=csv"))
    assert row["slug"] == "channel" and row["started_year"] == "2003"
    [src] = rows_of(client.get("/api/v1/sources/3?format=csv"))
    assert src["text"] == client.get("/api/v1/sources/3").json()["text"]


def test_accept_negotiation(client):
    assert (
        client.get("/api/v1/metrics", headers={"Accept": "application/json, text/csv;q=0.5"})
        .headers["content-type"]
        .startswith("application/json")
    )
    assert (
        client.get("/api/v1/metrics", headers={"Accept": "text/csv, */*"})
        .headers["content-type"]
        .startswith("text/csv")
    )
    assert (
        client.get("/api/v1/metrics?format=json", headers={"Accept": "text/csv"})
        .headers["content-type"]
        .startswith("application/json")
    )


def test_unknown_format_is_422_naming_it(client):
    r = client.get("/api/v1/metrics?format=xml")
    assert r.status_code == 422 and r.json()["errors"][0]["name"] == "format"


def test_results_csv_cells_are_the_json_values_flattened(client, session):
    """The streamed fast path writes exactly what flattening each JSON item gives, retracted included,
    and times the database writes as JSON does (whole seconds without a fraction, microseconds)."""
    retract_and_time(session)
    items = walk(client, "/api/v1/results?limit=500&include_retracted=true&sort=-as_of")
    r = client.get("/api/v1/results?include_retracted=true&sort=-as_of&format=csv")
    expected = list(csv.DictReader(io.StringIO(csv_text(columns(ResultPublic), [flatten(i) for i in items]))))
    got = rows_of(r)
    assert got == expected and len(got) == len(items)
    heroin = next(row for row in got if row["id"] == "channel-center-2019-heroin")
    assert heroin["retracted"] == "true" and heroin["updated_at"].endswith("Z")
    stamps = {row["id"]: row["updated_at"] for row in got}
    assert stamps["channel-center-2019-opium"] == "2026-01-02T03:04:05Z"
    assert stamps["channel-center-2019-hashish"] == "2026-01-02T03:04:05.000005Z"
