"""`at=`: every read GET answers as the data stood at an instant, immutable; current answers carry
Data-Version and Last-Modified."""

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.factories import DIRECT, add_source, bearer

TOT = "/api/v1/operations/channel/totals"


def instant() -> str:
    """Now, between two pauses, so writes before and after it are on either side."""
    time.sleep(0.05)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.05)
    return quote(now)


def running(totals: dict) -> str | None:
    """The result id of Channel's latest running total of firearms seized."""
    found = [m["cumulative"] for m in totals["metrics"] if m["metric"] == "firearms_seized"]
    return found[0]["result_id"] if found and found[0] else None


@pytest.fixture
def story(client, session):
    """A result created after t0, patched after t1, retracted after t2."""
    cur, adm = bearer(session), bearer(session, "admin")
    t0 = instant()
    sid = add_source(client, cur)
    r = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    t1 = instant()
    etag = client.get(f"/api/v1/results/{rid}").headers["etag"]
    r = client.patch(f"/api/v1/results/{rid}", json={"note": "checked"}, headers={**cur, "If-Match": etag})
    assert r.status_code == 200, r.text
    t2 = instant()
    assert (
        client.post(f"/api/v1/results/{rid}/retract", json={"reason": "test"}, headers=adm).status_code == 200
    )
    t3 = instant()
    return {"id": rid, "source": sid, "t": [t0, t1, t2, t3]}


def test_one_result_as_it_stood(client, story):
    rid, (t0, t1, t2, t3) = story["id"], story["t"]
    assert client.get(f"/api/v1/results/{rid}?at={t0}").status_code == 404
    then = client.get(f"/api/v1/results/{rid}?at={t1}")
    assert then.status_code == 200
    assert then.json()["note"] is None and then.json()["retracted"] is False
    assert then.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get(f"/api/v1/results/{rid}?at={t2}").json()["note"] == "checked"
    assert client.get(f"/api/v1/results/{rid}?at={t3}").json()["retracted"] is True
    for _ in range(2):  # computed, then from the cache of at= answers: both revalidate with the ETag
        again = client.get(f"/api/v1/results/{rid}?at={t1}", headers={"If-None-Match": then.headers["etag"]})
        assert again.status_code == 304 and again.headers["cache-control"].endswith("immutable")
    assert client.get(f"/api/v1/results/{rid}").json()["retracted"] is True


def test_lists_totals_and_sources_as_they_stood(client, story):
    rid, sid, (t0, t1, _, t3) = story["id"], story["source"], story["t"]
    listed = lambda t: {i["id"] for i in client.get(f"/api/v1/results?limit=500&at={t}").json()["items"]}  # noqa: E731
    assert rid not in listed(t0) and rid in listed(t1) and rid not in listed(t3)
    assert rid not in {i["id"] for i in client.get("/api/v1/results?limit=500").json()["items"]}
    assert running(client.get(f"{TOT}?at={t1}").json()) == rid
    assert running(client.get(f"{TOT}?at={t0}").json()) != rid
    assert running(client.get(TOT).json()) != rid
    assert client.get(f"/api/v1/sources/{sid}?at={t0}").status_code == 404
    assert client.get(f"/api/v1/sources/{sid}?at={t1}").status_code == 200
    assert sid not in {s["id"] for s in client.get(f"/api/v1/sources?at={t0}").json()["items"]}
    csv = client.get(f"/api/v1/results?format=csv&at={t1}").text
    assert rid in csv and rid not in client.get(f"/api/v1/results?format=csv&at={t0}").text


def test_an_at_answer_never_changes_and_is_cached(client, story, session):
    t1 = story["t"][1]
    first = client.get(f"{TOT}?at={t1}")
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "data-version" not in first.headers
    cur = bearer(session)
    etag = client.get(f"/api/v1/results/{story['id']}").headers["etag"]
    client.patch(f"/api/v1/results/{story['id']}", json={"note": "again"}, headers={**cur, "If-Match": etag})
    again = client.get(f"{TOT}?at={t1}")
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert client.get(f"{TOT}?at={t1}", headers={"If-None-Match": first.headers["etag"]}).status_code == 304


def test_phases_created_later_are_absent(client, session):
    cur = bearer(session)
    t0 = instant()
    body = {"operation": "channel", "name": "Channel - Later", "start_date": "2025-05-19"}
    r = client.post("/api/v1/phases", json=body, headers=cur)
    assert r.status_code == 201, r.text
    slug = r.json()["slug"]
    assert client.get(f"/api/v1/phases/{slug}?at={t0}").status_code == 404
    assert slug not in {p["slug"] for p in client.get(f"/api/v1/phases?at={t0}").json()["items"]}
    assert client.get(f"/api/v1/phases/{slug}").status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        "yesterday",
        "2026-13-45T00:00:00Z",
        "2020-01-01",
        "2020-01-01T00:00:00",
        "0001-01-01T00:00:00+00:04",
        "FUTURE",
    ],
)
def test_a_bad_or_future_at_is_a_422_naming_it(client, bad):
    if bad == "FUTURE":
        bad = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for url in (TOT, "/api/v1/results", "/api/v1/results/channel-center-2019-opium", "/api/v1/metrics"):
        r = client.get(f"{url}?at={quote(bad)}")
        assert r.status_code == 422, (url, bad, r.text)
        assert r.json()["parameter"] == "at"
        assert "immutable" not in r.headers.get("cache-control", "")


def test_an_instant_not_yet_settled_is_answered_at_once_and_kept_nowhere(client, session, monkeypatch):
    def no_sleep(_seconds: float) -> None:
        raise AssertionError("an at= read slept")

    at = quote(datetime.now(UTC).isoformat())  # after the last write: a write may still be stamped before it
    with monkeypatch.context() as m:
        m.setattr(time, "sleep", no_sleep)
        first = client.get(f"{TOT}?at={at}")
        assert first.status_code == 200
        assert first.headers["cache-control"] == "no-cache"
        assert "data-version" not in first.headers
        assert client.get(f"{TOT}?at={at}").headers["cache-control"] == "no-cache"  # not frozen
    add_source(client, bearer(session))  # a write stamped after `at`: now it has settled
    settled = client.get(f"{TOT}?at={at}")
    assert settled.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert settled.json() == first.json()


def test_current_answers_carry_data_version_and_last_modified(client, session):
    r = client.get(TOT)
    version = int(r.headers["data-version"])
    assert r.headers["last-modified"].endswith("GMT")
    cur = bearer(session)
    add_source(client, cur)
    after = client.get(TOT)
    assert int(after.headers["data-version"]) == version + 1
    assert client.get("/api/v1/results/channel-center-2019-opium").headers["data-version"] == str(version + 1)
