"""The seeded database answers over HTTP on both engines."""


def test_operations_by_alias(client):
    r = client.get("/api/v1/operations/KANAL")
    assert r.status_code == 200, r.text
    assert r.json()["slug"] == "channel"


def test_results_page(client):
    r = client.get("/api/v1/results?limit=5")
    body = r.json()
    assert r.status_code == 200 and len(body["items"]) == 5 and body["total"] > 5
