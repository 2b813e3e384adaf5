"""The curator's whole flow over HTTP on both engines: source → candidates → accept → patch → retract."""

import pytest

from app.read.history import read_data_version
from tests.factories import PHASE, SAMPLE, SOURCE, add_source, bearer


def find(cands: list[dict], phrase: str) -> dict:
    """The candidate whose quote holds `phrase` and whose number is the phrase's first word."""
    num = phrase.split()[0]
    return next(c for c in cands if phrase in c["quote"] and c["number_text"].startswith(num))


def test_source_is_stored_once(client, session):
    cur = bearer(session)
    r = client.post("/api/v1/sources", json=SOURCE, headers=cur)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/api/v1/sources/{body['id']}"
    assert body["text"] == SAMPLE and body["file_name"] is None and len(body["content_hash"]) == 64
    again = client.post("/api/v1/sources", json={**SOURCE, "title": "another title"}, headers=cur)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    crlf = client.post("/api/v1/sources", json={**SOURCE, "text": SAMPLE.replace("\n", "\r\n")}, headers=cur)
    assert crlf.status_code == 200 and crlf.json()["id"] == body["id"]
    assert client.get(f"/api/v1/sources/{body['id']}").json()["text"] == SAMPLE


def test_candidates_are_stored_pending_without_duplicates(client, session):
    cur = bearer(session)
    sid = add_source(client, cur)
    r = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur)
    assert r.status_code == 201, r.text
    cands = r.json()["items"]
    assert len(cands) >= 5
    assert all(SAMPLE[c["quote_start"] : c["quote_end"]] == c["quote"] for c in cands)
    assert {c["status"] for c in cands} == {"pending"} and {c["source_id"] for c in cands} == {sid}
    again = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    assert [c["id"] for c in again] == [c["id"] for c in cands]
    seen, url = [], f"/api/v1/candidates?source={sid}&status=pending&limit=2"
    while url:
        page = client.get(url)
        assert page.status_code == 200 and page.json()["total"] == len(cands)
        seen += [c["id"] for c in page.json()["items"]]
        url = page.json()["next_cursor"] and f"{url.split('&cursor=')[0]}&cursor={page.json()['next_cursor']}"
        assert bool(url) == ("link" in page.headers)
    assert sorted(seen) == sorted(c["id"] for c in cands)
    one = client.get(f"/api/v1/candidates/{cands[0]['id']}")
    assert one.status_code == 200 and one.json() == cands[0]
    assert client.get("/api/v1/candidates/999999").status_code == 404
    assert client.post("/api/v1/sources/999999/candidates", headers=cur).status_code == 404
    bad = client.get("/api/v1/candidates?cursor=garbage")
    assert bad.status_code == 422 and bad.json()["parameter"] == "cursor"


def test_new_phase_gets_a_derived_slug(client, session):
    cur = bearer(session)
    r = client.post("/api/v1/phases", json=PHASE, headers=cur)
    assert r.status_code == 201, r.text
    assert r.json()["slug"] == "channel-harbour-2025" and r.json()["operation"] == "channel"
    assert r.headers["location"] == "/api/v1/phases/channel-harbour-2025"
    assert client.get("/api/v1/phases/channel-harbour-2025").status_code == 200
    dup = client.post("/api/v1/phases", json=PHASE, headers=cur)
    assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"
    bad = client.post("/api/v1/phases", json={**PHASE, "operation": "nope", "slug": "x-1"}, headers=cur)
    assert bad.status_code == 422
    alias = client.post(
        "/api/v1/phases", json={**PHASE, "operation": "Kanal", "slug": "harbour-b"}, headers=cur
    )
    assert alias.status_code == 201 and alias.json()["operation"] == "channel"


def test_full_curator_flow(client, session):
    cur = bearer(session, name="flow-curator")
    adm = bearer(session, "admin", name="flow-admin")
    sid = add_source(client, cur)
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    phase = client.post("/api/v1/phases", json=PHASE, headers=cur).json()["slug"]
    version = read_data_version(session=session)

    acc = find(cands, "203 criminal cases")
    corrections = {
        "operation": "channel",
        "phase": phase,
        "scope": "phase",
        "metric": "criminal_cases_opened",
    }
    r = client.post(f"/api/v1/candidates/{acc['id']}/accept", json=corrections, headers=cur)
    assert r.status_code == 201, r.text
    res = r.json()
    rid = res["id"]
    assert r.headers["location"] == f"/api/v1/results/{rid}"
    assert res["value"] == 203 and res["phase"] == phase and res["source"]["id"] == sid
    assert res["as_of"] == "2025-06-05" and SAMPLE[res["quote_start"] : res["quote_end"]] == res["quote"]
    assert (res["period_start"], res["period_end"]) == ("2025-05-19", "2025-05-23")  # the phase's dates
    assert sid in [s["id"] for s in client.get(f"/api/v1/phases/{phase}").json()["sources"]]
    assert read_data_version(session=session) > version
    decided = client.get(f"/api/v1/candidates/{acc['id']}").json()
    assert decided["status"] == "accepted" and decided["result_id"] == rid
    assert client.post(f"/api/v1/candidates/{acc['id']}/accept", headers=cur).status_code == 409

    assert rid in [x["id"] for x in client.get(f"/api/v1/results?phase={phase}").json()["items"]]
    assert rid in client.get("/api/v1/operations/channel/totals").text

    rej = find(cands, "41 firearms")
    bad = client.post(f"/api/v1/candidates/{rej['id']}/accept", json={"value": 999}, headers=cur)
    assert bad.status_code == 422 and bad.json()["field"] == "value", bad.text
    assert client.get(f"/api/v1/candidates/{rej['id']}").json()["status"] == "pending"
    r = client.post(f"/api/v1/candidates/{rej['id']}/reject", json={"reason": "test"}, headers=cur)
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["reason"] == "test"
    assert (
        client.post(f"/api/v1/candidates/{rej['id']}/reject", json={"reason": "x"}, headers=cur).status_code
        == 409
    )

    patch = {"period_start": "2025-05-20", "reason": "dates of the phase"}
    assert client.patch(f"/api/v1/results/{rid}", json=patch, headers=cur).status_code == 428
    stale = {**cur, "If-Match": '"stale"'}
    assert client.patch(f"/api/v1/results/{rid}", json=patch, headers=stale).status_code == 412
    etag = client.get(f"/api/v1/results/{rid}").headers["etag"]
    r = client.patch(f"/api/v1/results/{rid}", json=patch, headers={**cur, "If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] != etag and r.json()["period_start"] == "2025-05-20"
    assert client.get(f"/api/v1/results/{rid}").headers["etag"] == r.headers["etag"]
    again = client.patch(f"/api/v1/results/{rid}", json=patch, headers={**cur, "If-Match": etag})
    assert again.status_code == 412

    retract = {"reason": "test retraction"}
    assert client.post(f"/api/v1/results/{rid}/retract", json=retract, headers=cur).status_code == 403
    r = client.post(f"/api/v1/results/{rid}/retract", json=retract, headers=adm)
    assert r.status_code == 200 and r.json()["retracted"] is True
    one = client.get(f"/api/v1/results/{rid}").json()
    assert one["retracted"] is True and one["retracted_reason"] == "test retraction"
    assert rid not in [x["id"] for x in client.get(f"/api/v1/results?phase={phase}").json()["items"]]
    assert rid not in client.get("/api/v1/operations/channel/totals").text

    hist = client.get(f"/api/v1/results/{rid}/history")
    assert hist.status_code == 200
    entries = hist.json()["items"]
    assert [e["action"] for e in entries] == ["create", "update", "retract"]
    assert [e["actor"] for e in entries] == ["flow-curator", "flow-curator", "flow-admin"]
    assert entries[1]["reason"] == "dates of the phase" and entries[2]["reason"] == "test retraction"
    assert entries[0]["before"] is None and entries[0]["after"]["value"] == 203
    assert (
        entries[1]["before"]["period_start"] == "2025-05-19"
        and entries[1]["after"]["period_start"] == "2025-05-20"
    )
    blob = hist.text
    assert cur["Authorization"][7:] not in blob and adm["Authorization"][7:] not in blob
    assert client.get("/api/v1/results/nope/history").status_code == 404


def test_direct_result(client, session):
    cur = bearer(session)
    sid = add_source(client, cur)
    direct = {
        "source_id": sid,
        "operation": "channel",
        "scope": "cumulative",
        "metric": "firearms_seized",
        "value": 41,
        "unit": "count",
        "quote": "Officers also seized 41 firearms and about 1.2 thousand rounds of ammunition.",
    }
    r = client.post("/api/v1/results", json=direct, headers=cur)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/api/v1/results/{body['id']}" and r.headers["etag"]
    assert body["as_of"] == "2025-06-05" and body["number_text"] == "41" and body["qualifier"] == "exact"
    missing = client.post(
        "/api/v1/results", json={**direct, "quote": "412 criminal cases were opened."}, headers=cur
    )
    assert missing.status_code == 422 and missing.json()["field"] == "quote"
    wrong = client.post("/api/v1/results", json={**direct, "unit": "kg"}, headers=cur)
    assert wrong.status_code == 422 and wrong.json()["field"] == "unit"
    nosrc = client.post("/api/v1/results", json={**direct, "source_id": 99999}, headers=cur)
    assert nosrc.status_code == 422


def test_unknown_fields_are_refused(client, session):
    cur = bearer(session)
    sid = add_source(client, cur)
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    for url, body in (
        ("/api/v1/sources", {**SOURCE, "id": 999}),
        ("/api/v1/phases", {**PHASE, "retracted": True}),
        (f"/api/v1/candidates/{cands[0]['id']}/accept", {"status": "accepted"}),
        (f"/api/v1/candidates/{cands[0]['id']}/reject", {"reason": "x", "decided_by": "me"}),
        ("/api/v1/results", {"source_id": sid, "id": "mine", "metric": "x", "value": 1, "unit": "count"}),
    ):
        r = client.post(url, json=body, headers=cur)
        assert r.status_code == 422, (url, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    rid = "channel-center-2019-opium"
    etag = client.get(f"/api/v1/results/{rid}").headers["etag"]
    r = client.patch(f"/api/v1/results/{rid}", json={"revision": 9}, headers={**cur, "If-Match": etag})
    assert r.status_code == 422
    r = client.patch(f"/api/v1/results/{rid}", json={"metric": None}, headers={**cur, "If-Match": etag})
    assert r.status_code == 422, r.text


def test_a_candidate_in_the_first_of_two_identical_sentences_can_be_accepted(client, session):
    """The candidate's offsets say which occurrence it is, so an ambiguous quote is no obstacle."""
    cur = bearer(session)
    sentence = "Officers seized 41 firearms."
    body = {**SOURCE, "text": f"{sentence}\n\nLater.\n\n{sentence}\n", "title": "twice"}
    sid = client.post("/api/v1/sources", json=body, headers=cur).json()["id"]
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    first = min((c for c in cands if c["number_text"] == "41"), key=lambda c: c["quote_start"])
    r = client.post(
        f"/api/v1/candidates/{first['id']}/accept",
        json={"operation": "channel", "scope": "cumulative", "metric": "firearms_seized"},
        headers=cur,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["quote_start"], r.json()["quote_end"]) == (first["quote_start"], first["quote_end"])


def test_candidates_carry_scope_and_why_no_metric_and_accept_keeps_the_scope(client, session):
    cur = bearer(session)
    text = (
        "The “Channel” operation marked its anniversary.\n\n"
        "Since 2003, more than 500 kg of cocaine have been seized. The agents examined 40 vehicles."
    )
    body = {
        "text": text,
        "title": "Channel anniversary (test)",
        "publisher": "CSTO",
        "published_on": "2026-05-01",
    }
    source_id = client.post("/api/v1/sources", json=body, headers=cur).json()["id"]
    r = client.post(f"/api/v1/sources/{source_id}/candidates", headers=cur)
    assert r.status_code == 201, r.text
    cands = {c["number_text"]: c for c in r.json()["items"]}
    cocaine, vehicles = cands["500"], cands["40"]
    assert (cocaine["scope"], cocaine["phase"], cocaine["metric"], cocaine["note"]) == (
        "cumulative",
        None,
        "cocaine_seized",
        None,
    )
    assert vehicles["metric"] is None and "no metric keyword" in vehicles["note"]
    r = client.post(f"/api/v1/candidates/{cocaine['id']}/accept", json={}, headers=cur)
    assert r.status_code == 201, r.text
    assert (r.json()["scope"], r.json()["qualifier"], r.json()["operation"]) == (
        "cumulative",
        "more_than",
        "channel",
    )


def test_accept_refuses_a_qualifier_or_country_the_quote_does_not_give(client, session):
    cur = bearer(session)
    source_id = add_source(client, cur)
    client.post("/api/v1/phases", json=PHASE, headers=cur)
    cands = client.post(f"/api/v1/sources/{source_id}/candidates", headers=cur).json()["items"]
    hashish = find(cands, "640 kg of hashish")
    r = client.post(f"/api/v1/candidates/{hashish['id']}/accept", json={"qualifier": "exact"}, headers=cur)
    assert r.status_code == 422 and r.json()["field"] == "qualifier", r.text
    r = client.post(
        f"/api/v1/candidates/{hashish['id']}/accept",
        json={"country": "Narnia", "phase": "channel-harbour-2025", "scope": "phase"},
        headers=cur,
    )
    assert r.status_code == 422 and r.json()["field"] == "country", r.text


def test_accept_with_a_null_qualifier_value_or_unit_keeps_the_candidates_guess(client, session):
    cur = bearer(session)
    source_id = add_source(client, cur)
    client.post("/api/v1/phases", json=PHASE, headers=cur)
    cands = client.post(f"/api/v1/sources/{source_id}/candidates", headers=cur).json()["items"]
    hashish = find(cands, "640 kg of hashish")
    nulls = {"qualifier": None, "value": None, "unit": None}
    r = client.post(f"/api/v1/candidates/{hashish['id']}/accept", json=nulls, headers=cur)
    assert r.status_code == 201, r.text
    kept = ("qualifier", "value", "unit")
    assert [r.json()[k] for k in kept] == [hashish[k] for k in kept]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"qualifier": 5}, "qualifier"), ({"qualifier": "roughly"}, "qualifier"), ({"value": "many"}, "value")],
)
def test_a_malformed_accept_is_a_422_naming_the_field_at_the_top(client, session, body, field):
    """The schema's own 422s name the field in the top-level `field`, like the curation's 422s."""
    cur = bearer(session)
    source_id = add_source(client, cur)
    client.post("/api/v1/phases", json=PHASE, headers=cur)
    cands = client.post(f"/api/v1/sources/{source_id}/candidates", headers=cur).json()["items"]
    hashish = find(cands, "640 kg of hashish")
    r = client.post(f"/api/v1/candidates/{hashish['id']}/accept", json=body, headers=cur)
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert r.headers["content-type"] == "application/problem+json"
