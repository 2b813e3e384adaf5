"""`opstats export`: seed then export reproduces seeds/ byte for byte; API additions come out reviewable."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session

from app import db as storage
from app.config import get_settings
from app.db import make_engine
from app.seeds.check import check_seeds
from app.seeds.export import export_seeds
from app.seeds.files import content_hash
from app.seeds.load import seed_database
from tests.factories import DIRECT, PHASE, SAMPLE, SOURCE, bearer

ROOT = Path(__file__).resolve().parents[1]
SEEDS = get_settings().seeds_dir


def files(root: Path) -> dict[str, bytes]:
    """Every file an export writes, by path relative to the root."""
    kinds = ("*.yaml", "sources/*.txt", "results/*.yaml")
    return {str(p.relative_to(root)): p.read_bytes() for k in kinds for p in sorted(root.glob(k))}


@pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)
def test_seed_then_export_is_byte_for_byte(fresh_db, tmp_path):
    storage.upgrade(fresh_db.url)
    engine = make_engine(fresh_db.url)
    try:
        seed_database(engine=engine, root=SEEDS)
        with Session(engine) as s:
            report = export_seeds(session=s, out=tmp_path / "out")
    finally:
        engine.dispose()
    assert report.named == {}
    got, want = files(tmp_path / "out"), files(SEEDS)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name


@pytest.mark.slow
def test_the_cli_exports(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"DATABASE_URL": db, "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "app.cli"]
    subprocess.run([*run, "seed"], cwd=ROOT, env=env, check=True, capture_output=True)
    r = subprocess.run(
        [*run, "export", "--out", str(tmp_path / "x")], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and files(tmp_path / "x") == files(SEEDS)


def test_api_additions_export_as_seeds(client, session, tmp_path):
    cur = bearer(session)
    adm = bearer(session, "admin")
    sid = client.post("/api/v1/sources", json={**SOURCE, "url": "https://example.org/r"}, headers=cur).json()[
        "id"
    ]
    phase = client.post("/api/v1/phases", json=PHASE, headers=cur).json()["slug"]
    kept = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur).json()
    gone = {
        **DIRECT,
        "source_id": sid,
        "phase": phase,
        "scope": "phase",
        "metric": "criminal_cases_opened",
        "value": 203,
        "quote": "517 drug crimes were detected and 203 criminal cases were opened.",
    }
    gone_id = client.post("/api/v1/results", json=gone, headers=cur).json()["id"]
    assert (
        client.post(f"/api/v1/results/{gone_id}/retract", json={"reason": "x"}, headers=adm).status_code
        == 200
    )

    out = tmp_path / "out"
    report = export_seeds(session=session, out=out)
    name = f"005_{content_hash(SAMPLE)[:16]}.txt"
    assert report.named == {sid: name}
    assert (out / "sources" / name).read_text(encoding="utf-8") == SAMPLE
    manifest = yaml.safe_load((out / "sources.yaml").read_text())
    assert manifest[-1] == {
        "file": name,
        "title": SOURCE["title"],
        "publisher": "CSTO",
        "published_on": date(2025, 6, 5),
        "url": "https://example.org/r",
        "language": "en",
    }
    entries = yaml.safe_load((out / "results" / f"{Path(name).stem}.yaml").read_text())
    assert entries["source"] == name
    by_id = {e["id"]: e for e in entries["results"]}
    assert set(by_id) == {kept["id"], gone_id}, "retracted results are exported too, as history"
    assert by_id[kept["id"]]["value"] == 41 and by_id[kept["id"]]["quote"] == DIRECT["quote"]
    assert "retracted" not in by_id[kept["id"]] and "retracted_reason" not in by_id[kept["id"]]
    assert by_id[gone_id]["retracted"] is True and by_id[gone_id]["retracted_reason"] == "x"
    assert phase in (out / "phases.yaml").read_text()

    report = check_seeds(root=out)  # the exported folder loads, every figure verified
    assert report.created["result"] == sum(
        len(yaml.safe_load(p.read_text())["results"]) for p in out.glob("results/*")
    )
    assert report.created["source"] == 6 and report.created["phase"] == 4


def test_export_then_seed_keeps_a_retraction_and_its_reason(client, session, tmp_path):
    from app.db import make_engine, upgrade
    from app.models import Result
    from app.seeds.load import seed_database

    cur, adm = bearer(session), bearer(session, "admin")
    sid = client.post("/api/v1/sources", json=SOURCE, headers=cur).json()["id"]
    rid = client.post("/api/v1/results", json={**DIRECT, "source_id": sid}, headers=cur).json()["id"]
    client.post(
        f"/api/v1/results/{rid}/retract", json={"reason": "superseded by the annual report"}, headers=adm
    )
    out = tmp_path / "out"
    export_seeds(session=session, out=out)
    url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        seed_database(engine=engine, root=out)
        from sqlmodel import Session as Plain

        with Plain(engine) as again:
            row = again.get(Result, rid)
            assert (
                row is not None
                and row.retracted
                and row.retracted_reason == "superseded by the annual report"
            )
    finally:
        engine.dispose()
