"""Quote and number selectors: every result's prefix, suffix and number offsets slice its source."""

from tests.factories import DIRECT, SAMPLE, add_source, bearer, walk


def check(result: dict, text: str) -> None:
    assert text[result["number_start"] : result["number_end"]] == result["number_text"], result["id"]
    assert text[: result["quote_start"]].endswith(result["quote_prefix"]), result["id"]
    assert text[result["quote_end"] :].startswith(result["quote_suffix"]), result["id"]
    assert len(result["quote_prefix"] + result["quote_suffix"]) > 0 and len(result["quote_prefix"]) <= 32
    assert len(result["quote_suffix"]) <= 32


def test_every_seeded_result_has_selectors_that_slice_its_source(client):
    texts: dict[int, str] = {}
    results = walk(client, "/api/v1/results?limit=500&include_retracted=true")
    assert results
    for r in results:
        sid = r["source"]["id"]
        texts.setdefault(sid, client.get(f"/api/v1/sources/{sid}").json()["text"])
        check(r, texts[sid])


def test_a_new_result_gets_its_selectors_at_write_time(client, session):
    cur = bearer(session)
    sid = add_source(client, cur)
    r = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur).json()
    check(r, SAMPLE)
    assert r["number_text"] == "41" and r["quote_prefix"].endswith("\n\n")
