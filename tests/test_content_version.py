"""Registry-only writes (a new source, extraction, a rejection) keep the content's ETags; every write
moves Data-Version; no ETag is kept over a body that changed, and no cached body is stale."""

from contextlib import contextmanager

from fastapi.testclient import TestClient

from app.domain.scopes import changes_content
from app.main import create_app
from tests.factories import CATALOG_GETS, DIRECT, PHASE, bearer

CONTENT = [
    *CATALOG_GETS,
    "/api/v1/results?limit=500",
    "/api/v1/results?limit=500&format=csv",
    "/api/v1/totals",
    "/api/v1/series?metric=opium_seized&operation=channel",
    "/api/v1/checks",
]
EVERY_WRITE = ["/api/v1/sources?limit=500", "/api/v1/sources/3", "/api/v1/changes?limit=500"]
URLS = CONTENT + EVERY_WRITE


def fresh_bodies(session) -> dict[str, bytes]:
    """What a new app, with empty caches, answers for every URL now (the ground truth)."""

    @contextmanager
    def scope():
        yield session

    with TestClient(create_app(scope)) as fresh:
        return {url: fresh.get(url).content for url in URLS}


def served(client) -> dict[str, tuple[str, bytes, str]]:
    """ETag, body and Data-Version of every URL, as the long-lived app answers them."""
    out = {}
    for url in URLS:
        r = client.get(url)
        assert r.status_code == 200, (url, r.text)
        out[url] = (r.headers["etag"], r.content, r.headers["data-version"])
    return out


def writes(client, cur, adm):
    """Each kind of write, one after another; yields its name and whether it changes content."""
    source = {"text": "On 2 May 2025 officers seized 77 kg of hashish and 12 firearms.", "title": "t",
              "publisher": "CSTO", "published_on": "2025-05-02"}  # fmt: skip
    sid = client.post("/api/v1/sources", json=source, headers=cur).json()["id"]
    yield "create source", False
    cands = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    yield "extract candidates", False
    client.post(f"/api/v1/candidates/{cands[0]['id']}/reject", json={"reason": "test"}, headers=cur)
    yield "reject candidate", False
    body = {"operation": "channel", "scope": "cumulative"}
    client.post(f"/api/v1/candidates/{cands[1]['id']}/accept", json=body, headers=cur)
    yield "accept candidate", True
    quote = "Officers also seized 41 firearms and about 1.2 thousand rounds of ammunition."
    harbour = client.post(
        "/api/v1/sources", json={**source, "text": quote, "title": "h"}, headers=cur
    ).json()["id"]
    yield "create another source", False
    rid = client.post("/api/v1/results", json={**DIRECT, "source_id": harbour}, headers=cur).json()["id"]
    yield "create result", True
    tag = client.get(f"/api/v1/results/{rid}").headers["etag"]
    client.patch(f"/api/v1/results/{rid}", json={"note": "checked"}, headers={**cur, "If-Match": tag})
    yield "patch result", True
    client.post(f"/api/v1/results/{rid}/retract", json={"reason": "test"}, headers=adm)
    yield "retract result", True
    client.post("/api/v1/phases", json=PHASE, headers=cur)
    yield "create phase", True


def test_etags_follow_the_content_and_data_version_every_write(client, session):
    cur, adm = bearer(session), bearer(session, "admin")
    before = served(client)
    truth = fresh_bodies(session)
    for name, content in writes(client, cur, adm):
        now, new_truth = served(client), fresh_bodies(session)
        for url in URLS:
            tag, body, version = now[url]
            assert body == new_truth[url], f"{name}: {url} served a stale body"
            assert int(version) > int(before[url][2]), f"{name}: {url} kept its Data-Version"
            if new_truth[url] != truth[url]:
                assert tag != before[url][0], f"{name}: {url} changed but kept its ETag"
            if url in EVERY_WRITE and url != "/api/v1/sources/3":
                assert tag != before[url][0], f"{name}: {url} is keyed by every write"
            if url in CONTENT and not content:
                assert tag == before[url][0], f"{name}: a registry-only write changed {url}'s ETag"
                again = client.get(url, headers={"If-None-Match": tag})
                assert again.status_code == 304, f"{name}: {url}"
        assert any(now[u][0] != before[u][0] for u in CONTENT) == content, name
        before, truth = now, new_truth


def test_only_source_and_candidate_registry_changes_are_not_content():
    assert not changes_content([("create", "source"), ("extract", "source"), ("reject", "candidate")])
    assert not changes_content([])
    for change in [("accept", "candidate"), ("create", "result"), ("update", "result"), ("retract", "result"),
                   ("link_duplicate", "result"), ("create", "phase"), ("load", "seeds")]:  # fmt: skip
        assert changes_content([("create", "source"), change]), change
