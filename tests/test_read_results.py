"""GET /api/v1/results: every filter, stable sorts, keyset cursors that survive inserts between pages."""

from datetime import date
from urllib.parse import quote

import orjson
import pytest

from app.models import Result
from app.read.results import source_ref_map, to_public
from tests.factories import CRIMES_SENTENCE, add_figure, all_results, ids, retract, retract_and_time, walk


def test_default_order_is_id_and_total_counts_all_pages(client):
    everything = all_results(client)
    assert ids(everything) == sorted(ids(everything))
    r = client.get("/api/v1/results?limit=3")
    assert r.json()["total"] == len(everything) > 3
    assert len(r.json()["items"]) == 3


def test_page_items_are_what_the_public_model_writes(client, session):
    """Page items are made from rows without a model per row: they are exactly the ResultPublic
    JSON of each result (keys, their order, values, a retraction, whole-second and microsecond times)."""
    retract_and_time(session)
    items = walk(client, "/api/v1/results?limit=7&include_retracted=true&sort=-value_base")
    rows = [session.get(Result, item["id"]) for item in items]
    sources = source_ref_map(session=session, ids={r.source_id for r in rows if r is not None})
    expected = [to_public(r, sources[r.source_id]).model_dump(mode="json") for r in rows if r is not None]
    assert [orjson.dumps(i) for i in items] == [orjson.dumps(e) for e in expected]
    by_id = {i["id"]: i for i in items}
    assert by_id["channel-center-2019-heroin"]["retracted"] is True
    assert by_id["channel-center-2019-opium"]["updated_at"] == "2026-01-02T03:04:05Z"
    assert by_id["channel-center-2019-hashish"]["updated_at"] == "2026-01-02T03:04:05.000005Z"


def test_link_header_is_the_next_page(client):
    r = client.get("/api/v1/results?limit=4&scope=phase")
    link = r.headers["link"]
    assert link.startswith("</api/v1/results?") and link.endswith('>; rel="next"')
    nxt = client.get(link[1 : link.index(">")])
    assert nxt.status_code == 200
    assert nxt.json()["items"][0]["id"] not in ids(r.json()["items"])
    assert all(i["scope"] == "phase" for i in nxt.json()["items"])


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("-value_base,as_of", lambda r: (-r["value_base"], r["as_of"], r["id"])),
        ("as_of,-id", None),
        ("metric,-value", lambda r: (r["metric"], -r["value"], r["id"])),
        ("operation,phase", lambda r: (r["operation"] or "", r["phase"] or "", r["id"])),
    ],
)
def test_sorted_pages_match_the_whole_sorted_list(client, sort, key):
    rows = all_results(client)
    if key is None:  # as_of ascending, id descending: two stable sorts
        rows = sorted(sorted(rows, key=lambda r: r["id"], reverse=True), key=lambda r: r["as_of"])
    expected = ids(sorted(rows, key=key) if key else rows)
    assert ids(walk(client, f"/api/v1/results?limit=4&sort={sort}")) == expected


def test_cursor_survives_rows_added_between_pages(client, session):
    before = ids(all_results(client))
    first = client.get("/api/v1/results?limit=5").json()
    add_figure(
        session,
        "aaa-before-cursor",
        phase="channel-2023-stage-1",
        metric="drug_crimes_detected",
        value=784,
        unit="count",
        scope="phase",
        quote=CRIMES_SENTENCE,
        as_of=date(2023, 5, 31),
    )
    add_figure(
        session,
        "zzz-after-cursor",
        phase="channel-2023-stage-1",
        metric="criminal_cases_opened",
        value=4000,
        unit="count",
        qualifier="about",
        scope="phase",
        quote=CRIMES_SENTENCE,
        as_of=date(2023, 5, 31),
    )
    rest: list[dict] = []
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/results?limit=5&cursor={quote(cursor)}").json()
        rest += page["items"]
        cursor = page["next_cursor"]
    seen = ids(first["items"]) + ids(rest)
    assert len(seen) == len(set(seen))
    assert seen == sorted([*before, "zzz-after-cursor"])
    assert page["total"] == len(before) + 2


def test_cursor_of_another_sort_is_refused(client):
    cursor = client.get("/api/v1/results?limit=2&sort=as_of").json()["next_cursor"]
    r = client.get(f"/api/v1/results?limit=2&sort=value&cursor={quote(cursor)}")
    assert r.status_code == 422 and r.json()["parameter"] == "cursor"


def test_operation_filter_takes_aliases(client):
    by_slug = ids(walk(client, "/api/v1/results?operation=channel&limit=500"))
    assert by_slug and ids(walk(client, "/api/v1/results?operation=KANAL&limit=500")) == by_slug
    assert ids(walk(client, "/api/v1/results?operation=Канал&limit=500")) == by_slug


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("phase=channel-center-2019", lambda r: r["phase"] == "channel-center-2019"),
        ("metric=opium_seized", lambda r: r["metric"] == "opium_seized"),
        ("scope=programme", lambda r: r["scope"] == "programme"),
        ("country=iran", lambda r: (r["country"] or "").lower() == "iran"),
        ("qualifier=almost", lambda r: r["qualifier"] == "almost"),
        ("year=2019", lambda r: r["as_of"].startswith("2019")),
        ("from=2023-05-18&to=2023-06-01", lambda r: "2023-05-18" <= r["as_of"] <= "2023-06-01"),
        ("q=OPIUM", lambda r: "opium" in r["quote"].lower()),
        ("q=%25", lambda r: "%" in r["quote"]),
        ("q=_", lambda r: "_" in r["quote"]),
    ],
)
def test_filters(client, query, keep):
    expected = ids([r for r in all_results(client) if keep(r)])
    got = walk(client, f"/api/v1/results?limit=500&{query}")
    assert ids(got) == expected
    assert client.get(f"/api/v1/results?{query}").json()["total"] == len(expected)


def test_filters_that_match_seeded_figures(client):
    iran = ids(walk(client, "/api/v1/results?country=IRAN&limit=500"))
    assert iran == ["channel-center-2019-iran-hashish", "channel-center-2019-iran-opium"]
    almost = ids(walk(client, "/api/v1/results?qualifier=almost&limit=500"))
    assert almost == ["illegal-2023-wanted-persons"]


def test_retracted_leave_lists_unless_asked(client, session):
    retract(session, "channel-center-2019-opium")
    assert "channel-center-2019-opium" not in ids(all_results(client))
    listed = walk(client, "/api/v1/results?include_retracted=true&limit=500")
    flagged = [r for r in listed if r["id"] == "channel-center-2019-opium"]
    assert flagged and flagged[0]["retracted"] is True
    one = client.get("/api/v1/results/channel-center-2019-opium")
    assert one.status_code == 200 and one.json()["retracted"] is True


def test_one_result(client):
    r = client.get("/api/v1/results/channel-center-2019-opium")
    body = r.json()
    assert r.status_code == 200
    assert (body["value"], body["unit"], body["value_base"], body["base_unit"]) == (8.9, "t", 8900, "kg")
    assert body["qualifier"] == "more_than" and body["source"]["id"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("operation=nosuchop", "operation"),
        ("metric=nosuchmetric", "metric"),
        ("phase=nosuchphase", "phase"),
        ("sort=quote", "sort"),
        ("sort=as_of,-as_of", "sort"),
        ("from=2024-01-01&to=2023-01-01", "to"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJzIjoiaWQiLCJ2IjpbMV19", "cursor"),
    ],
)
def test_bad_filters_name_the_parameter(client, query, parameter):
    r = client.get(f"/api/v1/results?{query}")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["parameter"] == parameter
