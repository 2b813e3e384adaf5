"""GET /api/v1/datapackage and `opstats export --datapackage`: a valid Frictionless package of the
dataset, as it is or as it stood, with every row the API has, and the same files from the CLI."""

import csv
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import frictionless
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import make_engine
from app.main import create_app
from app.read.datapackage.package import TABLES
from app.read.datapackage.tables import HEADERS
from tests.factories import DIRECT, SOURCE, add_source, bearer
from tests.test_asof import instant

URL = "/api/v1/datapackage"
ROOT = Path(__file__).resolve().parents[1]
TABLE_NAMES = ("operations", "phases", "metrics", "sources", "results")
COUNTS = {  # the API's count of each table
    "operations": "/api/v1/operations",
    "phases": "/api/v1/phases",
    "metrics": "/api/v1/metrics",
    "sources": "/api/v1/sources",
    "results": "/api/v1/results?include_retracted=true",
}


def package(client: TestClient, query: str = "") -> zipfile.ZipFile:
    r = client.get(URL + query)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith('attachment; filename="opstats-datapackage')
    return zipfile.ZipFile(io.BytesIO(r.content))


def table(z: zipfile.ZipFile, name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(z.read(f"{name}.csv")), dtype=str, keep_default_na=False)


def members(z: zipfile.ZipFile) -> dict[str, bytes]:
    return {n: z.read(n) for n in z.namelist()}


def test_every_table_field_is_described_in_the_api_column_order():
    for t in TABLES:
        assert [c.name for c in t.fields] == HEADERS[t.name], t.name
        assert all(c.description for c in t.fields), t.name


def test_the_package_is_valid_and_holds_every_row(client, session, tmp_path):
    adm = bearer(session, "admin")
    retracted = "channel-center-2019-opium"
    r = client.post(f"/api/v1/results/{retracted}/retract", json={"reason": "test"}, headers=adm)
    assert r.status_code == 200, r.text
    body = client.get(URL).content
    (tmp_path / "p.zip").write_bytes(body)
    report = frictionless.validate(str(tmp_path / "p.zip"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    z = zipfile.ZipFile(io.BytesIO(body))
    meta = json.loads(z.read("datapackage.json"))
    assert {"name", "title", "licenses", "sources", "created"} <= meta.keys()
    assert {r["name"] for r in meta["resources"]} >= set(TABLE_NAMES)
    for name in TABLE_NAMES:
        total = client.get(COUNTS[name]).json()["total"]
        assert len(table(z, name)) == total > 0, name
    results = table(z, "results").set_index("id")
    assert results.loc[retracted, "retracted"] == "true"
    assert (results["retracted"] == "false").sum() == client.get("/api/v1/results").json()["total"]
    assert {"README.md", "CITATION.cff"} <= set(z.namelist())


def test_keys_hold_and_texts_are_listed(client):
    z = package(client)
    t = {name: table(z, name) for name in TABLE_NAMES}
    res = t["results"]
    for column, other, key in (
        ("operation", "operations", "slug"),
        ("phase", "phases", "slug"),
        ("metric", "metrics", "slug"),
        ("source_id", "sources", "id"),
    ):
        used = set(res[column]) - {""}
        assert used and used <= set(t[other][key]), column
    assert set(res["duplicate_of"]) - {""} <= set(res["id"])
    assert set(t["phases"]["operation"]) <= set(t["operations"]["slug"])
    meta = json.loads(z.read("datapackage.json"))
    listed = {r["path"] for r in meta["resources"]}
    for row in t["sources"].itertuples():
        assert row.text_path in listed and row.text_path in z.namelist()
        text = z.read(row.text_path).decode()
        assert len(text) == int(row.length)
    opium = res.set_index("id").loc["channel-center-2019-opium"]
    text = z.read(f"sources/{opium.source_id}.txt").decode()
    assert text[int(opium.quote_start) : int(opium.quote_end)] == opium.quote
    schema = next(r for r in meta["resources"] if r["name"] == "results")["schema"]
    fields = {f["name"]: f for f in schema["fields"]}
    assert schema["primaryKey"] == ["id"] and fields["quote_start"]["unit"] == "character"
    assert {fk["fields"][0] for fk in schema["foreignKeys"]} >= {"operation", "phase", "metric", "source_id"}


def test_at_gives_the_package_as_it_stood(client, session):
    cur = bearer(session)
    before = instant()
    sid = add_source(client, cur)
    r = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    now, then = package(client), package(client, f"?at={before}")
    assert rid in set(table(now, "results")["id"]) and rid not in set(table(then, "results")["id"])
    assert str(sid) in set(table(now, "sources")["id"]) and str(sid) not in set(table(then, "sources")["id"])
    assert f"sources/{sid}.txt" in now.namelist() and f"sources/{sid}.txt" not in then.namelist()
    assert len(table(then, "results")) == len(table(now, "results")) - 1
    old = client.get(f"{URL}?at={before}")
    assert old.headers["cache-control"].endswith("immutable")
    again = client.get(f"{URL}?at={before}", headers={"If-None-Match": old.headers["etag"]})
    assert again.status_code == 304
    assert members(zipfile.ZipFile(io.BytesIO(client.get(f"{URL}?at={before}").content))) == members(then)


def test_an_instant_before_any_data_is_an_empty_valid_package(client, tmp_path):
    z = package(client, "?at=1970-01-01T00:00:00Z")
    assert all(len(table(z, name)) == 0 for name in ("phases", "sources", "results"))
    assert len(table(z, "operations")) == 4  # the catalogue has no past: it is as it is now
    assert json.loads(z.read("datapackage.json"))["created"] == "1970-01-01T00:00:00Z"
    z.extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_etag_304_and_a_new_source_changes_it(client, session):
    first = client.get(URL)
    etag = first.headers["etag"]
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(URL).content == first.content  # one state, one body
    add_source(client, bearer(session))
    changed = client.get(URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_an_unknown_parameter_is_a_422_naming_it(client):
    for query in ("?format=csv", "?limit=5", "?at=tomorrow"):
        r = client.get(URL + query)
        assert r.status_code == 422, query
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["parameter"] == query[1:].split("=")[0]


def test_a_formula_like_quote_is_neutralised(client, session):
    cur = bearer(session)
    hostile = "=Officers also seized 41 firearms."
    src = client.post(
        "/api/v1/sources",
        json={**SOURCE, "text": f"{SOURCE['text']}\n{hostile}\n", "title": "@SUM(1+1)"},
        headers=cur,
    )
    assert src.status_code == 201, src.text
    body = {**DIRECT, "source_id": src.json()["id"], "quote": hostile}
    r = client.post("/api/v1/results", json=body, headers=cur)
    assert r.status_code == 201, r.text
    z = package(client)
    cells = [
        c
        for name in TABLE_NAMES
        for row in csv.reader(io.StringIO(z.read(f"{name}.csv").decode()))
        for c in row
    ]
    assert "'" + hostile in cells and "'@SUM(1+1)" in cells
    assert not [c for c in cells if c.startswith(tuple("=+-@\t\r"))]


def test_the_api_page_documents_it(client):
    spec = client.get("/openapi.json").json()["paths"][URL]["get"]
    assert spec["description"] and "application/zip" in spec["responses"]["200"]["content"]


@contextmanager
def scope_of(url: str) -> Iterator[Iterator[Session]]:
    engine = make_engine(url)

    @contextmanager
    def sessions() -> Iterator[Session]:
        with Session(engine) as s:
            yield s

    try:
        yield sessions
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_cli_writes_the_same_files(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"DATABASE_URL": db, "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "app.cli"]
    subprocess.run([*run, "seed"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = tmp_path / "pkg"
    r = subprocess.run(
        [*run, "export", "--datapackage", str(out)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with scope_of(db) as sessions, TestClient(create_app(sessions)) as c:
        zipped = members(package(c))
    assert files == zipped and "sources/1.txt" in files
    again = subprocess.run(
        [*run, "export", "--datapackage", str(out)], cwd=ROOT, env=env, capture_output=True
    )
    assert again.returncode == 2  # a folder that holds files already is refused
