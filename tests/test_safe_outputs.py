"""Safe commands and validators: downgrade needs a target and --yes; ETags and cached bodies carry the
database epoch, so nothing from before a reset is confirmed or served after it; If-Match is strong."""

import os
import subprocess
import sys

import httpx
import pytest

from app import db as storage
from app.db import make_engine
from tests.factories import DIRECT, ROOT, add_source, bearer, free_port, start, wait_healthy


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("fresh_db", ["sqlite"], indirect=True)
def test_downgrade_needs_a_target_and_yes(fresh_db):
    storage.upgrade(fresh_db.url)
    engine = make_engine(fresh_db.url)
    head = storage.current_revision(engine)
    assert _cli(fresh_db.url, "db", "downgrade").returncode == 2, "no target: refused"
    refused = _cli(fresh_db.url, "db", "downgrade", "base")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert storage.current_revision(engine) == head, "nothing dropped without --yes"
    done = _cli(fresh_db.url, "db", "downgrade", "base", "--yes")
    assert done.returncode == 0, done.stderr
    assert storage.current_revision(engine) is None
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)
def test_no_answer_from_before_a_reset_is_confirmed_or_served(fresh_db):
    port = free_port()
    proc = start(fresh_db.url, port)
    try:
        wait_healthy(port, proc)
        base = f"http://127.0.0.1:{port}"
        before = httpx.get(base + "/api/v1/operations")
        assert before.status_code == 200 and before.json()["total"] == 4
        assert httpx.get(base + "/api/v1/operations").json() == before.json()  # now cached
        assert _cli(fresh_db.url, "db", "downgrade", "base", "--yes").returncode == 0
        assert _cli(fresh_db.url, "db", "upgrade").returncode == 0  # empty again: no seed
        after = httpx.get(base + "/api/v1/operations", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200, "an old ETag is not confirmed after a reset"
        assert after.json()["total"] == 0, "the cached body of the old database is not served"
        assert after.headers["etag"] != before.headers["etag"]
    finally:
        proc.terminate()
        proc.wait(30)


def test_if_match_compares_strongly(client, session):
    cur = bearer(session)
    sid = add_source(client, cur)
    rid = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur).json()["id"]
    etag = client.get(f"/api/v1/results/{rid}").headers["etag"]
    patch = {"period_start": "2025-05-19", "period_end": "2025-05-23", "reason": "test"}
    weak = client.patch(f"/api/v1/results/{rid}", json=patch, headers={**cur, "If-Match": f"W/{etag}"})
    assert weak.status_code == 412, "a weak tag never matches If-Match (RFC 9110 13.1.1)"
    strong = client.patch(f"/api/v1/results/{rid}", json=patch, headers={**cur, "If-Match": etag})
    assert strong.status_code == 200, strong.text
