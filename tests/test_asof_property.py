"""`at=` as plain temporal reads: every earlier instant answers exactly what was answered then, and
no at= read runs DDL or sleeps."""

import time
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from tests.factories import DIRECT, SAMPLE, SOURCE, bearer

WRITES = st.lists(st.sampled_from(["source", "result", "patch", "retract"]), min_size=2, max_size=7)
FIXED = [
    "/api/v1/totals",
    "/api/v1/operations/channel/totals",
    "/api/v1/results?metric=firearms_seized&limit=500",
    "/api/v1/results?q=Officers%20also&include_retracted=true&limit=500&sort=-as_of",
    "/api/v1/sources?limit=500",
    "/api/v1/checks",
]


class Story:
    """Writes through the API, and what the GETs answered after each."""

    def __init__(self, client, session) -> None:
        self.client, self.cur, self.adm = client, bearer(session), bearer(session, "admin")
        self.sources: list[int] = []
        self.results: dict[int, str] = {}  # source id -> its result
        self.live: list[str] = []
        self.touched: tuple[str, int] | None = None  # a result and its source
        self.start = datetime.now(UTC).isoformat()

    def add_source(self) -> int:
        body = {**SOURCE, "text": f"{SAMPLE}\nRef. {uuid.uuid4().hex}\n", "title": uuid.uuid4().hex}
        r = self.client.post("/api/v1/sources", json=body, headers=self.cur)
        assert r.status_code == 201, r.text
        self.sources.append(r.json()["id"])
        return int(r.json()["id"])

    def add_result(self) -> None:
        free = [s for s in self.sources if s not in self.results]
        sid = free[0] if free else self.add_source()
        r = self.client.post(
            "/api/v1/results", json={**DIRECT, "source_id": sid, "not_duplicate": True}, headers=self.cur
        )
        assert r.status_code == 201, r.text
        self.results[sid] = r.json()["id"]
        self.live.append(r.json()["id"])
        self.touched = (r.json()["id"], sid)

    def patch(self) -> None:
        if not self.live:
            return self.add_result()
        rid = self.live[-1]
        etag = self.client.get(f"/api/v1/results/{rid}").headers["etag"]
        headers = {**self.cur, "If-Match": etag}
        r = self.client.patch(f"/api/v1/results/{rid}", json={"note": uuid.uuid4().hex}, headers=headers)
        assert r.status_code == 200, r.text
        self.touched = (rid, r.json()["source"]["id"])
        return None

    def retract(self) -> None:
        if not self.live:
            return self.add_result()
        rid = self.live.pop(0)
        r = self.client.post(f"/api/v1/results/{rid}/retract", json={"reason": "test"}, headers=self.adm)
        assert r.status_code == 200, r.text
        self.touched = (rid, r.json()["source"]["id"])
        return None

    def write(self, kind: str) -> str:
        """One write; the instant it is stamped with (its last change in the feed)."""
        {"source": self.add_source, "result": self.add_result, "patch": self.patch, "retract": self.retract}[
            kind
        ]()
        feed = self.client.get(f"/api/v1/changes?since={quote(self.start)}&limit=500").json()["items"]
        return str(feed[-1]["at"])

    def urls(self) -> list[str]:
        out = list(FIXED)
        if self.touched:
            rid, sid = self.touched
            out += [f"/api/v1/results/{rid}", f"/api/v1/sources/{sid}", f"/api/v1/results/{rid}/cite"]
        return out

    def answer(self, url: str, at: str | None = None) -> object:
        """The JSON of a GET (a citation without its URL and access date, which name the instant)."""
        sep = "&" if "?" in url else "?"
        r = self.client.get(f"{url}{sep}at={quote(at)}" if at else url)
        assert r.status_code == 200, (url, at, r.text)
        body = r.json()
        if url.endswith("/cite"):
            body = [{k: v for k, v in item.items() if k not in ("URL", "accessed")} for item in body]
        return body


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=WRITES)
def test_every_earlier_instant_answers_what_was_answered_then(client, session, writes):
    story = Story(client, session)
    recorded: list[tuple[str, dict[str, object]]] = []
    for kind in writes:
        at = story.write(kind)
        recorded.append((at, {url: story.answer(url) for url in story.urls()}))
    for at, answers in recorded:
        for url, then in answers.items():
            assert story.answer(url, at) == then, (url, at)


@pytest.fixture
def statements(seeded_engine):
    """Every SQL statement the engine runs while the test does."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(seeded_engine, "before_cursor_execute", record)
    yield seen
    event.remove(seeded_engine, "before_cursor_execute", record)


def test_an_at_read_runs_no_ddl_and_never_sleeps(client, statements, monkeypatch):
    def no_sleep(_seconds: float) -> None:
        raise AssertionError("an at= read slept")

    monkeypatch.setattr(time, "sleep", no_sleep)
    at = quote(datetime.now(UTC).isoformat())
    urls = [*FIXED, "/api/v1/results/channel-center-2019-opium", "/api/v1/phases", "/api/v1/operations"]
    urls += ["/api/v1/results?format=csv", "/api/v1/series?metric=opium_seized&operation=channel"]
    for url in urls:
        r = client.get(f"{url}{'&' if '?' in url else '?'}at={at}")
        assert r.status_code == 200, (url, r.text)
    assert statements, "the at= reads ran no statement at all"
    ddl = [s for s in statements if s.lstrip().upper().startswith(("CREATE", "DROP", "ALTER"))]
    assert ddl == []
