"""Possible duplicates (409 unless linked or declared distinct), and the integrity of retracted results."""

from tests.factories import DIRECT, SAMPLE, add_source, bearer

OPIUM = "More than 8.9 tons of opium were seized during Channel-Center, it recalled."
DUP = {
    "operation": "channel",
    "phase": "channel-center-2019",
    "metric": "opium_seized",
    "value": 8.9,
    "unit": "t",
    "qualifier": "more_than",
    "scope": "phase",
    "quote": OPIUM,
}


def opium_source(client, cur) -> int:
    src = {"text": f"Recalled. {OPIUM}", "title": "Dup", "publisher": "CSTO", "published_on": "2025-08-01"}
    return client.post("/api/v1/sources", json=src, headers=cur).json()["id"]


def test_an_equal_figure_is_a_409_naming_the_one_stored(client, session):
    cur = bearer(session)
    sid = opium_source(client, cur)
    r = client.post("/api/v1/results", json={**DUP, "source_id": sid}, headers=cur)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["type"].endswith("possible-duplicate") and body["result_id"] == "channel-center-2019-opium"
    assert "duplicate_of" in body["detail"] and "not_duplicate" in body["detail"]
    other = client.post("/api/v1/results", json={**DUP, "value": 8.8, "source_id": sid}, headers=cur)
    assert other.status_code == 422  # not this figure (8.8 is not in the quote): no false 409


def test_not_duplicate_keeps_both_and_is_audited(client, session):
    cur = bearer(session)
    sid = opium_source(client, cur)
    r = client.post("/api/v1/results", json={**DUP, "source_id": sid, "not_duplicate": True}, headers=cur)
    assert r.status_code == 201, r.text
    (entry,) = client.get(f"/api/v1/results/{r.json()['id']}/history").json()["items"]
    assert entry["after"]["not_duplicate"] is True and "channel-center-2019-opium" in entry["reason"]


def test_duplicate_of_links_it_as_another_report(client, session):
    cur = bearer(session)
    sid = opium_source(client, cur)
    body = {**DUP, "source_id": sid, "duplicate_of": "channel-center-2019-opium"}
    r = client.post("/api/v1/results", json=body, headers=cur)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["duplicate_of"] == "channel-center-2019-opium"
    actions = [
        c["action"] for c in client.get("/api/v1/changes?limit=500").json()["items"] if c["entity_id"] == rid
    ]
    assert actions == ["create", "link_duplicate"]
    totals = client.get("/api/v1/operations/channel/totals").json()
    opium = next(m for m in totals["metrics"] if m["metric"] == "opium_seized")
    assert (
        opium["phase_sum"]["result_ids"].count("channel-center-2019-opium") == 1
        and rid not in opium["phase_sum"]["result_ids"]
    )


def test_a_retracted_figure_is_no_duplicate(client, session):
    cur, adm = bearer(session), bearer(session, "admin")
    client.post("/api/v1/results/channel-center-2019-opium/retract", json={"reason": "test"}, headers=adm)
    sid = opium_source(client, cur)
    assert client.post("/api/v1/results", json={**DUP, "source_id": sid}, headers=cur).status_code == 201


def test_accepting_an_equal_candidate_is_a_409_unless_told(client, session):
    cur = bearer(session)
    sid = add_source(client, cur)
    first = {**DIRECT, "source_id": sid}
    assert client.post("/api/v1/results", json=first, headers=cur).status_code == 201
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    fire = next(c for c in cands if c["number_text"] == "41")
    fix = {"metric": "firearms_seized", "operation": "channel", "scope": "cumulative"}
    r = client.post(f"/api/v1/candidates/{fire['id']}/accept", json=fix, headers=cur)
    assert r.status_code == 409 and r.json()["type"].endswith("possible-duplicate"), r.text
    assert client.get(f"/api/v1/candidates/{fire['id']}").json()["status"] == "pending"
    r = client.post(
        f"/api/v1/candidates/{fire['id']}/accept", json={**fix, "not_duplicate": True}, headers=cur
    )
    assert r.status_code == 201, r.text


def test_patch_and_retract_of_a_retracted_result_are_409(client, session):
    cur, adm = bearer(session), bearer(session, "admin")
    rid = "channel-center-2019-opium"
    assert (
        client.post(f"/api/v1/results/{rid}/retract", json={"reason": "first"}, headers=adm).status_code
        == 200
    )
    etag = client.get(f"/api/v1/results/{rid}").headers["etag"]
    r = client.patch(f"/api/v1/results/{rid}", json={"note": "x"}, headers={**cur, "If-Match": etag})
    assert r.status_code == 409 and r.json()["type"].endswith("result-retracted")
    again = client.post(f"/api/v1/results/{rid}/retract", json={"reason": "again"}, headers=adm)
    assert again.status_code == 409
    one = client.get(f"/api/v1/results/{rid}").json()
    assert one["retracted_reason"] == "first" and one["note"] != "x"


def test_an_accepted_candidate_is_dated_by_its_statement(client, session):
    cur = bearer(session)
    text = SAMPLE.replace("Officers also seized", "On 22 May 2025 the CSTO said officers also seized")
    src = {"text": text, "title": "Dated", "publisher": "CSTO", "published_on": "2025-06-05"}
    sid = client.post("/api/v1/sources", json=src, headers=cur).json()["id"]
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    fire = next(c for c in cands if c["number_text"] == "41")
    fix = {"metric": "firearms_seized", "operation": "channel", "scope": "cumulative"}
    r = client.post(f"/api/v1/candidates/{fire['id']}/accept", json=fix, headers=cur)
    assert r.status_code == 201, r.text
    assert r.json()["as_of"] == "2025-05-22"
    cases = next(c for c in cands if c["number_text"] == "203")
    r = client.post(
        f"/api/v1/candidates/{cases['id']}/accept",
        json={"metric": "criminal_cases_opened", "operation": "channel", "scope": "cumulative"},
        headers=cur,
    )
    assert r.status_code == 201 and r.json()["as_of"] == "2025-06-05"  # no date near it: the release's
