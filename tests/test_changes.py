"""The change feed: every audited write once, oldest first, keyset-paged, public field names."""

import time
from datetime import UTC, datetime
from urllib.parse import quote

from tests.factories import DIRECT, add_source, bearer


def instant() -> str:
    time.sleep(0.02)
    now = quote(datetime.now(UTC).isoformat())
    time.sleep(0.02)
    return now


def walk(client, url: str) -> list[dict]:
    out, nxt = [], url
    while nxt:
        page = client.get(nxt).json()
        out += page["items"]
        nxt = f"{url}&cursor={page['next_cursor']}" if page["next_cursor"] else None
    return out


def test_changes_since_an_instant_list_each_write_once_in_order(client, session):
    cur, adm = bearer(session), bearer(session, "admin")
    t0 = instant()
    sid = add_source(client, cur)
    rid = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur).json()["id"]
    etag = client.get(f"/api/v1/results/{rid}").headers["etag"]
    client.patch(
        f"/api/v1/results/{rid}", json={"note": "n", "reason": "why"}, headers={**cur, "If-Match": etag}
    )
    client.post(f"/api/v1/results/{rid}/retract", json={"reason": "gone"}, headers=adm)
    page = client.get(f"/api/v1/changes?since={t0}&limit=500").json()
    seen = [(c["entity"], c["entity_id"], c["action"]) for c in page["items"]]
    assert seen == [
        ("source", str(sid), "create"),
        ("result", rid, "create"),
        ("result", rid, "update"),
        ("result", rid, "retract"),
    ]
    assert page["total"] == 4 and page["next_cursor"] is None
    create, update, retract = page["items"][1:]
    assert create["after"]["operation"] == "channel" and "operation_slug" not in create["after"]
    assert update["before"]["note"] is None and update["after"]["note"] == "n" and update["reason"] == "why"
    assert retract["reason"] == "gone" and retract["actor"].startswith("admin")
    versions = [c["version"] for c in page["items"]]
    assert versions == sorted(versions) and len(set(versions)) == 4
    assert [c["at"] for c in page["items"]] == sorted(c["at"] for c in page["items"])


def test_paging_one_by_one_neither_skips_nor_repeats(client, session):
    cur = bearer(session)
    t0 = instant()
    sid = add_source(client, cur)
    client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur)
    whole = client.get(f"/api/v1/changes?since={t0}&limit=500").json()["items"]
    walked = walk(client, f"/api/v1/changes?since={t0}&limit=1")
    assert [c["id"] for c in walked] == [c["id"] for c in whole] and len(whole) == 2
    after = client.get(f"/api/v1/changes?after={whole[0]['id']}&limit=500").json()["items"]
    assert [c["id"] for c in after] == [whole[1]["id"]]


def test_the_feed_starts_with_the_seeds_and_hides_api_keys(client, session):
    bearer(session, name="secret-key-name")
    everything = client.get("/api/v1/changes?limit=500").json()
    assert everything["items"][0]["entity"] in ("result", "seeds", "source")
    assert not [c for c in everything["items"] if c["entity"] == "apikey"]
    assert "secret-key-name" not in client.get("/api/v1/changes?format=csv").text


def test_a_bad_since_or_after_is_a_422_naming_it(client):
    for query, name in (("since=yesterday", "since"), ("after=0", "after"), ("after=999999", "after")):
        r = client.get(f"/api/v1/changes?{query}")
        assert r.status_code == 422, r.text
        assert r.json()["parameter"] == name


def test_the_feed_as_csv_holds_every_change(client):
    total = client.get("/api/v1/changes?limit=1").json()["total"]
    lines = client.get("/api/v1/changes?format=csv").text.strip().splitlines()
    assert lines[0].startswith("id,at,version,action,entity,entity_id")
    assert len(lines) >= total + 1
