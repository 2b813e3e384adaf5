"""`at=` pages (filtered, sorted, followed by cursor), one result and its citation answer what was
answered at that instant after retractions and patches of the very rows they show; the validity
test the as-of indexes serve compiles as each planner needs it."""

import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import literal, select
from sqlalchemy.dialects import postgresql, sqlite

from app.read.asof import REVISION, valid_at
from tests.factories import bearer

PAGES = [
    "/api/v1/results?limit=5",
    "/api/v1/results?metric=drugs_seized&sort=-value_base&limit=2",
    "/api/v1/results?operation=channel&sort=-as_of&limit=3",
    "/api/v1/results?metric=opium_seized&sort=value_base,-as_of&limit=1",
]


def _at(url: str, at: str | None) -> str:
    return url if at is None else f"{url}{'&' if '?' in url else '?'}at={quote(at)}"


def _answers(client, at: str | None = None) -> dict[str, object]:
    """Every page and its next one by cursor, the first result of each page and its citation."""
    out: dict[str, object] = {}
    for url in PAGES:
        first = client.get(_at(url, at))
        assert first.status_code == 200, first.text
        body = first.json()
        out[url] = body
        if body["next_cursor"]:
            nxt = f"{url}&cursor={quote(body['next_cursor'])}"
            out[nxt] = client.get(_at(nxt, at)).json()
        for item in body["items"][:1]:
            one = f"/api/v1/results/{item['id']}"
            out[one] = client.get(_at(one, at)).json()
            cite = client.get(_at(f"{one}/cite", at)).json()
            out[f"{one}/cite"] = [{k: v for k, v in c.items() if k not in ("URL", "accessed")} for c in cite]
    return out


def _last_change(client, since: str) -> str:
    items = client.get(f"/api/v1/changes?since={quote(since)}&limit=500").json()["items"]
    return str(items[-1]["at"])


def test_at_pages_results_and_citations_answer_what_was_answered_then(client, session):
    cur, adm = bearer(session), bearer(session, "admin")
    start = datetime.now(UTC).isoformat()
    client.post("/api/v1/sources", json={"text": "x " + uuid.uuid4().hex, "title": "t", "publisher": "p",
                                          "published_on": "2025-01-01"}, headers=cur)  # fmt: skip
    recorded = [(_last_change(client, start), _answers(client))]
    for url in PAGES[:3]:
        top = client.get(url).json()["items"]
        retracted, patched = top[0]["id"], top[1]["id"]
        r = client.post(f"/api/v1/results/{retracted}/retract", json={"reason": "t"}, headers=adm)
        assert r.status_code == 200, r.text
        etag = client.get(f"/api/v1/results/{patched}").headers["etag"]
        r = client.patch(
            f"/api/v1/results/{patched}", json={"note": uuid.uuid4().hex}, headers={**cur, "If-Match": etag}
        )
        assert r.status_code == 200, r.text
        recorded.append((_last_change(client, start), _answers(client)))
    assert recorded[0][1] != recorded[-1][1]  # the writes changed what these URLs answer
    for at, then in recorded:
        assert _answers(client, at) == then, at


def test_the_validity_range_is_likely_on_sqlite_and_plain_on_postgresql():
    at = literal(datetime(2026, 1, 1, tzinfo=UTC), type_=REVISION.c.valid_from.type)
    stmt = select(REVISION.c.result_id).where(valid_at(REVISION.c.valid_from, REVISION.c.valid_to, at))
    lite = str(stmt.compile(dialect=sqlite.dialect()))
    pg = str(stmt.compile(dialect=postgresql.dialect()))
    assert "likely(resultrevision.valid_from <= ?) AND (resultrevision.valid_to IS NULL OR" in lite
    assert "= 1" not in lite  # a Boolean-typed likely() would be compared, hiding its range
    assert "likely" not in pg and "resultrevision.valid_from <= " in pg
