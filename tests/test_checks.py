"""Consistency findings: GET /api/v1/checks and `warnings` on totals entries."""

from tests.factories import bearer

HEROIN = "Since 2003, more than 900 kg of heroin were seized in the operation, the secretariat said."
BIG = "Since 2003, 90 tons of opium were seized in the operation, the secretariat said."
SMALL = "In all, 1 ton of opium was seized in the operation over the years, the secretariat said."


def post_running(client, cur, text: str, quote: str, metric: str, value: float, unit: str, qualifier: str):
    src = {"text": text, "title": f"Checks {value}", "publisher": "CSTO", "published_on": "2025-08-01"}
    sid = client.post("/api/v1/sources", json=src, headers=cur).json()["id"]
    body = {
        "source_id": sid,
        "operation": "channel",
        "metric": metric,
        "value": value,
        "unit": unit,
        "qualifier": qualifier,
        "scope": "cumulative",
        "quote": quote,
    }
    r = client.post("/api/v1/results", json=body, headers=cur)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def kinds(client) -> list[tuple[str, str | None, str, list[str]]]:
    return [
        (f["kind"], f["operation"], f["metric"], f["result_ids"])
        for f in client.get("/api/v1/checks").json()["items"]
    ]


def test_seeded_headline_and_body_that_differ_are_found(client):
    assert (
        "duplicate_reports_differ",
        "channel",
        "drugs_seized",
        ["channel-center-2019-drugs", "channel-center-2019-drugs-headline"],
    ) in kinds(client)


def test_a_newer_lower_running_total_is_cumulative_decreased_and_warned_on_totals(client, session):
    cur = bearer(session)
    rid = post_running(client, cur, HEROIN, HEROIN, "heroin_seized", 900, "kg", "more_than")
    found = [k for k in kinds(client) if k[0] == "cumulative_decreased" and rid in k[3]]
    assert found and found[0][1:3] == ("channel", "heroin_seized") and found[0][3][-1] == rid
    heroin = next(
        m
        for m in client.get("/api/v1/operations/channel/totals").json()["metrics"]
        if m["metric"] == "heroin_seized"
    )
    assert [w["kind"] for w in heroin["warnings"]] == ["cumulative_decreased"]
    everywhere = client.get("/api/v1/totals").json()["operations"][0]["metrics"]
    assert next(m for m in everywhere if m["metric"] == "heroin_seized")["warnings"] == heroin["warnings"]
    adm = bearer(session, "admin")
    client.post(f"/api/v1/results/{rid}/retract", json={"reason": "wrong"}, headers=adm)
    assert not [k for k in kinds(client) if rid in k[3]]


def test_a_running_total_below_the_phase_sum_is_found(client, session):
    cur = bearer(session)
    text = SMALL + " " + BIG
    rid = post_running(client, cur, text, SMALL, "opium_seized", 1, "t", "exact")
    below = [k for k in kinds(client) if k[0] == "cumulative_below_phase_sum" and k[3][0] == rid]
    assert below and "channel-center-2019-opium" in below[0][3]


def test_checks_as_csv(client):
    lines = client.get("/api/v1/checks?format=csv").text.splitlines()
    assert lines[0] == "kind,operation,metric,result_ids,detail"
    assert len(lines) >= 2
