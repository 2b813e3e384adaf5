"""Cite a figure: CSL-JSON, BibTeX, RIS and text, by format or Accept, with a permanent at= URL."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import add_source, bearer

RID = "channel-center-2019-opium"
CITE = f"/api/v1/results/{RID}/cite"


def at_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["at"][0]


def test_csl_json_is_one_dataset_item_with_a_permanent_url(client, session):
    r = client.get(CITE)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.citationstyles.csl+json")
    (item,) = r.json()
    assert item["type"] == "dataset"
    assert item["title"].startswith("More than 8.9 t of opium seized")
    assert item["publisher"] == "CSTO" and item["container-title"]
    assert item["issued"]["date-parts"][0] == [2024, 6, 28]  # the source document's date
    assert len(item["accessed"]["date-parts"][0]) == 3
    assert urlsplit(item["URL"]).path == f"/api/v1/results/{RID}"
    assert "8.9 tons of opium" in item["note"]
    then = client.get(item["URL"])
    assert then.status_code == 200 and then.json()["value"] == 8.9
    assert then.headers["cache-control"] == "no-cache"  # a write may still be stamped before it
    add_source(client, bearer(session))  # a write stamped after it
    settled = client.get(item["URL"])
    assert settled.json() == then.json()
    assert settled.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("fmt", "accept", "media"),
    [
        ("bibtex", "application/x-bibtex", "application/x-bibtex"),
        ("ris", "application/x-research-info-systems", "application/x-research-info-systems"),
        ("text", "text/plain", "text/plain"),
        ("csl-json", "application/vnd.citationstyles.csl+json", "application/vnd.citationstyles.csl+json"),
    ],
)
def test_each_format_by_parameter_and_by_accept(client, fmt, accept, media):
    by_param = client.get(f"{CITE}?format={fmt}")
    by_accept = client.get(CITE, headers={"Accept": accept})
    for r in (by_param, by_accept):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(media)


def test_bibtex_escapes_and_names_the_url(client):
    txt = client.get(f"{CITE}?format=bibtex").text
    assert re.match(r"@misc\{opstats:channel-center-2019-opium,\n", txt)
    assert re.search(r"^  url = \{http://testserver/api/v1/results/channel-center-2019-opium\?at=", txt, re.M)
    assert re.search(r"^  title = \{More than 8\.9 t of opium seized", txt, re.M)
    assert txt.count("{") == txt.count("}")


def test_bibtex_special_characters_are_escaped():
    from app.domain.citations import bibtex_escape

    assert bibtex_escape("50% & $5 #1 a_b {x}") == r"50\% \& \$5 \#1 a\_b \{x\}"
    assert bibtex_escape("two\nlines") == "two lines"


def test_ris_has_one_tag_per_line(client):
    lines = client.get(f"{CITE}?format=ris").text.split("\r\n")
    assert lines[0] == "TY  - DATA" and "ER  - " in lines
    assert all(re.match(r"^[A-Z][A-Z0-9]  - ", line) for line in lines if line)
    assert any(line.startswith("UR  - http://testserver/api/v1/results/") for line in lines)


def test_text_states_the_figure_with_its_qualifier_and_quote(client):
    txt = client.get(f"{CITE}?format=text").text
    assert "More than 8.9 t of opium seized" in txt and "CSTO" in txt and "Available at:" in txt
    assert "Quote: “" in txt


def test_cite_at_cites_the_figure_as_it_stood_and_never_changes(client, session):
    first = client.get(CITE).json()[0]
    etag = client.get(f"/api/v1/results/{RID}").headers["etag"]
    cur = bearer(session)
    r = client.patch(
        f"/api/v1/results/{RID}",
        json={"note": "corrected", "as_of": "2019-03-02"},
        headers={**cur, "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    second = client.get(CITE).json()[0]
    assert at_of(second["URL"]) > at_of(first["URL"])
    old, new = client.get(first["URL"]).json(), client.get(second["URL"]).json()
    assert old["as_of"] == "2019-03-01" and new["as_of"] == "2019-03-02"
    again = client.get(f"{CITE}?at={at_of(first['URL'])}")
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert again.json()[0]["URL"] == first["URL"] and "statement of 2019-03-01" in again.json()[0]["title"]


def test_unknown_format_and_result(client):
    assert client.get(f"{CITE}?format=docx").status_code == 422
    assert client.get("/api/v1/results/nope/cite").status_code == 404
