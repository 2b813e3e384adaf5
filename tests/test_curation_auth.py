"""Writes need a valid Bearer key of a sufficient scope; reads stay public."""

import hashlib

import pytest
from sqlmodel import select

from app.curation.keys import create_key, revoke_key
from app.models import ApiKey, KeyScope
from tests.factories import SOURCE

RID = "channel-center-2019-opium"
WRITES = [
    ("POST", "/api/v1/sources", SOURCE),
    ("POST", "/api/v1/sources/1/candidates", None),
    ("POST", "/api/v1/phases", {"operation": "channel", "name": "X", "start_date": "2025"}),
    ("POST", "/api/v1/candidates/1/accept", {}),
    ("POST", "/api/v1/candidates/1/reject", {"reason": "r"}),
    ("POST", "/api/v1/results", {"source_id": 1, "metric": "x", "value": 1, "unit": "count", "quote": "q"}),
    ("PATCH", f"/api/v1/results/{RID}", {"note": "n"}),
    ("POST", f"/api/v1/results/{RID}/retract", {"reason": "r"}),
]


def is_401(r) -> bool:
    return (
        r.status_code == 401
        and r.headers["content-type"] == "application/problem+json"
        and r.headers["www-authenticate"] == "Bearer"
        and r.json()["status"] == 401
    )


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_every_write_needs_a_key(client, method, url, body):
    assert is_401(client.request(method, url, json=body))
    assert is_401(client.request(method, url, json=body, headers={"Authorization": "Bearer not-a-key"}))
    assert is_401(client.request(method, url, json=body, headers={"Authorization": "Basic dXNlcjpwdw=="}))
    assert is_401(client.request(method, url, json=body, headers={"Authorization": "Bearer "}))


def test_a_revoked_key_is_401(client, session):
    _, key = create_key(session=session, name="soon-revoked", scope=KeyScope.curator)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post("/api/v1/sources", json=SOURCE, headers=headers).status_code == 201
    revoke_key(session=session, name="soon-revoked")
    assert is_401(client.post("/api/v1/sources", json=SOURCE, headers=headers))


def test_scopes(client, session):
    _, cur = create_key(session=session, name="a-curator", scope=KeyScope.curator)
    _, adm = create_key(session=session, name="an-admin", scope=KeyScope.admin)
    retract = f"/api/v1/results/{RID}/retract"
    r = client.post(retract, json={"reason": "r"}, headers={"Authorization": f"Bearer {cur}"})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/v1/results/{RID}").json()["retracted"] is False
    r = client.post("/api/v1/sources", json=SOURCE, headers={"Authorization": f"Bearer {adm}"})
    assert r.status_code == 201, "admin may do every curator write"
    r = client.post(retract, json={"reason": "r"}, headers={"Authorization": f"Bearer {adm}"})
    assert r.status_code == 200 and r.json()["retracted"] is True


def test_reads_stay_public(client):
    for url in (
        "/api/v1/results",
        f"/api/v1/results/{RID}",
        f"/api/v1/results/{RID}/history",
        "/api/v1/candidates",
    ):
        assert client.get(url).status_code == 200, url


def test_only_the_hash_is_stored(session):
    _, key = create_key(session=session, name="hashed", scope=KeyScope.admin)
    stored = session.exec(select(ApiKey).where(ApiKey.name == "hashed")).one()
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(stored.model_dump()).replace(stored.prefix, "")
    assert key.startswith(stored.prefix) and len(key) >= 40
