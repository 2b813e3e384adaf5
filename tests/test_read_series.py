"""GET /api/v1/series: points per year or phase under the totals' counting rules."""

from datetime import date

from tests.factories import CRIMES_SENTENCE, add_figure


def series(client, query: str) -> dict:
    r = client.get(f"/api/v1/series?{query}")
    assert r.status_code == 200, r.text
    return r.json()


def test_opium_per_year_is_the_whole_phase_figure(client):
    body = series(client, "metric=opium_seized&operation=channel")
    assert (body["scope"], body["by"], body["base_unit"]) == ("phase", "year", "kg")
    [point] = body["points"]
    assert (point["period"], point["value_base"], point["qualifier"]) == ("2019", 8900, "more_than")
    assert point["result_ids"] == ["channel-center-2019-opium"] and point["lower_bound"] is True


def test_drugs_per_phase_counts_the_duplicate_once_and_no_cumulative(client):
    [point] = series(client, "metric=drugs_seized&operation=Kanal&by=phase")["points"]
    assert point["period"] == "channel-center-2019"
    assert point["value_base"] == 11400 and point["result_ids"] == ["channel-center-2019-drugs"]


def test_cumulative_line_is_the_running_total(client):
    body = series(client, "metric=drugs_seized&operation=channel&scope=cumulative")
    assert [(p["period"], p["value_base"], p["result_ids"]) for p in body["points"]] == [
        ("2023", 427000, ["channel-2023-drugs-seized"])
    ]
    programme = series(client, "metric=drugs_seized&scope=programme")
    assert [p["result_ids"] for p in programme["points"]] == [["csto-2023-drugs-seized"]]


def test_points_per_year_follow_new_phases(client, session):
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
    points = series(client, "metric=drug_crimes_detected")["points"]
    assert [(p["period"], p["value_base"], p["phases"]) for p in points] == [
        ("2019", 784, 1),
        ("2023", 784, 1),
    ]


def test_series_csv(client):
    r = client.get("/api/v1/series?metric=opium_seized&operation=channel&format=csv")
    lines = r.text.splitlines()
    assert lines[0].startswith("metric,operation,scope,by,period,value_base")
    assert lines[1].startswith("opium_seized,channel,phase,year,2019,8900.0,kg,more_than")


def test_series_parameter_errors(client):
    for query, parameter in [
        ("metric=nosuch", "metric"),
        ("metric=opium_seized&operation=nosuch", "operation"),
        ("metric=drugs_seized&scope=programme&operation=channel", "operation"),
        ("metric=drugs_seized&scope=cumulative", "operation"),
        ("metric=drugs_seized&operation=channel&scope=cumulative&by=phase", "by"),
    ]:
        r = client.get(f"/api/v1/series?{query}")
        assert r.status_code == 422 and r.json()["parameter"] == parameter, query
    assert client.get("/api/v1/series").status_code == 422
