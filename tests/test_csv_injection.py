"""CSV formula injection: text cells starting with =, +, -, @, tab or CR get a leading ' in every CSV."""

import csv
import io
import re

from app.domain.cells import neutralise
from tests.factories import DIRECT, SOURCE, bearer

HOSTILE = {
    "title": '=HYPERLINK("http://evil","x")',
    "publisher": "@SUM(1+1)",
    "phase": "+cmd|' /C calc'!A0",
    "headquarters": "-2+3",
    "participants": ["\tTab", "\rReturn"],
}
DANGER = tuple("=+-@\t\r")


def test_neutralise_only_touches_formula_starts():
    assert neutralise("=1+1") == "'=1+1" and neutralise("@x") == "'@x" and neutralise("\tx") == "'\tx"
    assert neutralise("Astana") == "Astana" and neutralise("") == "" and neutralise("a=b") == "a=b"


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def test_no_csv_of_any_route_starts_a_cell_with_a_formula(client, session, app):
    cur = bearer(session)
    src = client.post(
        "/api/v1/sources",
        json={**SOURCE, "title": HOSTILE["title"], "publisher": HOSTILE["publisher"]},
        headers=cur,
    )
    assert src.status_code == 201, src.text
    sid = src.json()["id"]
    phase = client.post(
        "/api/v1/phases",
        json={
            "operation": "channel",
            "name": HOSTILE["phase"],
            "slug": "hostile-phase",
            "start_date": "2025-05-19",
            "end_date": "2025-05-23",
            "headquarters": HOSTILE["headquarters"],
            "participants": HOSTILE["participants"],
        },
        headers=cur,
    )
    assert phase.status_code == 201, phase.text
    res = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur)
    assert res.status_code == 201, res.text
    cand = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"][0]["id"]
    values = {
        "key": "channel",
        "slug": "hostile-phase",
        "source_id": str(sid),
        "result_id": res.json()["id"],
        "candidate_id": str(cand),
    }
    spec = app.openapi()["paths"]
    csv_paths = [p for p, item in spec.items() if "get" in item and "text/csv" in str(item["get"])]
    assert len(csv_paths) >= 10, csv_paths
    seen = ""
    for path in csv_paths:
        url = _fill(path, values)
        query = {"/api/v1/series": "metric=firearms_seized&scope=cumulative&operation=channel"}.get(path, "")
        r = client.get(f"{url}?format=csv{'&' + query if query else ''}")
        assert r.status_code == 200, (url, r.text)
        for row in csv.reader(io.StringIO(r.text)):
            for cell in row:
                assert not cell.startswith(DANGER), (url, cell)
        seen += r.text
    for text in (HOSTILE["title"], HOSTILE["publisher"], HOSTILE["phase"], HOSTILE["headquarters"]):
        assert "'" + text in seen.replace('""', '"'), text
