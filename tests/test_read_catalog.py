"""Operations, phases, metrics and sources as read."""

from pathlib import Path

from tests.factories import walk

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def test_operations_with_aliases_history_and_sources(client):
    ops = client.get("/api/v1/operations").json()
    assert [o["slug"] for o in ops["items"]] == ["channel", "mercenary", "illegal", "proxy"]
    mercenary = client.get("/api/v1/operations/Наемник").json()
    assert mercenary["slug"] == "mercenary" and len(mercenary["status_history"]) == 2
    assert {"Naemnik", "Наемник"} <= {a["alias"] for a in mercenary["aliases"]}
    assert mercenary["sources"] and mercenary["started"]["year"] == 2019


def test_phases_per_operation_and_by_slug(client):
    phases = client.get("/api/v1/operations/channel/phases").json()["items"]
    assert phases[0]["slug"] == "channel-center-2019"
    one = client.get("/api/v1/phases/Channel-Center-2019").json()
    assert (one["start_date"], one["end_date"], one["operation"]) == ("2019-02-26", "2019-03-01", "channel")
    assert client.get("/api/v1/phases/nosuch").status_code == 404


def test_metrics(client):
    items = client.get("/api/v1/metrics").json()["items"]
    opium = next(m for m in items if m["slug"] == "opium_seized")
    assert (opium["dimension"], opium["base_unit"]) == ("mass", "kg")


def test_sources_list_without_text_and_one_with_its_results(client):
    listed = walk(client, "/api/v1/sources?limit=2")
    assert len(listed) == len(list((SEEDS / "sources").glob("*.txt"))) and "text" not in listed[0]
    first = client.get("/api/v1/sources?limit=2")
    assert first.json()["next_cursor"] and 'rel="next"' in first.headers["link"]
    src = next(s for s in listed if s["file_name"] == "002_b2518f460fecc24b.txt")
    one = client.get(f"/api/v1/sources/{src['id']}").json()
    assert one["text"] == (SEEDS / "sources" / "002_b2518f460fecc24b.txt").read_text()
    assert len(one["text"]) == src["length"]
    supported = {r["id"]: r for r in one["results"]}
    assert "channel-center-2019-opium" in supported
    for r in one["results"]:
        full = client.get(f"/api/v1/results/{r['id']}").json()
        assert one["text"][r["quote_start"] : r["quote_end"]] == full["quote"]
