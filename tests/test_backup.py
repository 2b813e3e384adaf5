"""`opstats db backup` / `db restore`: a backup under write load restores every acknowledged write;
a truncated or foreign file is refused before the database is touched; a restore starts a new
epoch, so no ETag from before is confirmed and no cached body served."""

import hashlib
import os
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app import db as storage
from app.config import get_settings
from app.db import make_engine
from app.seeds.load import seed_database
from bench import backup_load
from bench.backup_load import opstats
from tests.factories import SOURCE, FreshDatabase, cli_key, free_port, require_pg, start, wait_healthy

BOTH = ["sqlite", "postgres"]

pytestmark = pytest.mark.slow  # every test runs the CLI or a server: `make test` runs them, test-fast not


def seeded(backend: str, tmp: Path) -> FreshDatabase:
    """A fresh database, migrated and seeded."""
    db = FreshDatabase(backend, tmp)
    storage.upgrade(db.url)
    engine = make_engine(db.url)
    seed_database(engine=engine, root=get_settings().seeds_dir)
    engine.dispose()
    return db


def state(url: str) -> tuple[str, int, int]:
    """A database's epoch, data version and number of sources."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            epoch = conn.execute(text("SELECT epoch FROM databaseepoch")).scalar_one()
            version = conn.execute(text("SELECT version FROM dataversion")).scalar_one()
            count = conn.execute(text("SELECT count(*) FROM source")).scalar_one()
    finally:
        engine.dispose()
    return str(epoch), int(version), int(count)


@pytest.fixture(params=BOTH)
def source_db(request: pytest.FixtureRequest, tmp_path: Path):
    """A seeded database of each engine."""
    if request.param == "postgres":
        require_pg()
    db = seeded(request.param, tmp_path)
    yield db
    db.drop()


@pytest.fixture
def target_db(source_db: FreshDatabase, tmp_path: Path):
    """An empty database of the source's engine (a SQLite file that does not exist yet)."""
    db = FreshDatabase(source_db.backend, tmp_path)
    yield db
    db.drop()


def backed_up(db: FreshDatabase, tmp: Path) -> Path:
    out = tmp / f"backup-{db.backend}"
    done = opstats(db.url, "db", "backup", str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "data version" in done.stdout
    return out


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_a_backup_under_write_load_restores_every_acknowledged_write(backend, tmp_path):
    if backend == "postgres":
        require_pg()
    figures = backup_load.run(backend, tmp_path, clients=3, warmup=20, after=20)
    assert figures["write_failures"] == {}, figures
    assert figures["acked_during_backup"] > 0, figures  # the backup really ran while writes went on
    assert figures["acked_before_backup_lost"] == [] and figures["never_sent_but_found"] == [], figures
    versions = figures["data_version"]
    assert versions["before"] <= versions["reported"] == versions["restored"] <= versions["after"], figures
    assert figures["snapshot_whole"] and figures["export_is_source_less_later_writes"], figures
    assert figures["quiet_export_equal"], figures
    assert figures["ok"], figures


def test_a_restore_into_a_fresh_database_has_the_same_data_and_a_new_epoch(source_db, target_db, tmp_path):
    out = backed_up(source_db, tmp_path)
    done = opstats(target_db.url, "db", "restore", str(out), "--yes")
    assert done.returncode == 0, done.stderr
    assert "results verified" in done.stdout and "new epoch" in done.stdout
    before, after = state(source_db.url), state(target_db.url)
    assert after[1:] == before[1:] and after[0] != before[0]
    exports = [
        backup_load.export_of(db.url, tmp_path / db.backend / str(i))
        for i, db in enumerate((source_db, target_db))
    ]
    assert exports[0] == exports[1]


def test_a_truncated_backup_is_refused_and_the_database_untouched(source_db, target_db, tmp_path):
    out = backed_up(source_db, tmp_path)
    whole = out.read_bytes()
    for name, cut in (("half", len(whole) // 2), ("tail", len(whole) - 100), ("head", 50)):
        bad = tmp_path / name
        bad.write_bytes(whole[:cut])
        before = state(source_db.url)
        done = opstats(source_db.url, "db", "restore", str(bad), "--yes")
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and "restored" not in done.stdout
        assert state(source_db.url) == before, name
        fresh = opstats(target_db.url, "db", "restore", str(bad), "--yes")
        assert fresh.returncode == 1, (name, fresh.stderr)
    if target_db.backend == "sqlite":  # the fresh database was not even created
        assert not Path(target_db.url.removeprefix("sqlite:///")).exists()


def foreign_files(backend: str, tmp: Path) -> list[Path]:
    """Files that are no opstats backup of `backend`: text, another SQLite database, another dump."""
    plain = tmp / "notes.txt"
    plain.write_text("not a backup\n" * 100)
    other = tmp / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE thing (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO thing (name) VALUES ('x')")
    conn.commit()
    conn.close()
    files = [plain, other]
    if backend == "postgres":
        empty = FreshDatabase("postgres", tmp)
        try:
            done = opstats(empty.url, "db", "backup", str(tmp / "empty.dump"))
            assert done.returncode == 0, done.stderr
        finally:
            empty.drop()
        files.append(tmp / "empty.dump")
    return files


def test_a_foreign_file_is_refused(source_db, tmp_path):
    before = state(source_db.url)
    for file in foreign_files(source_db.backend, tmp_path):
        done = opstats(source_db.url, "db", "restore", str(file), "--yes")
        assert done.returncode == 1, (file.name, done.stdout)
        assert "not" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert state(source_db.url) == before, file.name


def test_a_backup_of_an_unknown_migration_is_refused(tmp_path):
    db = seeded("sqlite", tmp_path)
    out = backed_up(db, tmp_path)
    conn = sqlite3.connect(out)
    conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    conn.commit()
    conn.close()
    before = state(db.url)
    done = opstats(db.url, "db", "restore", str(out), "--yes")
    assert done.returncode == 1 and "does not know" in done.stderr, done.stderr
    assert state(db.url) == before


def test_a_restore_whose_quotes_do_not_check_out_fails_verification(tmp_path):
    db = seeded("sqlite", tmp_path)
    out = backed_up(db, tmp_path)
    conn = sqlite3.connect(out)
    conn.execute("UPDATE result SET quote_start = quote_start + 1 WHERE id = 'channel-center-2019-opium'")
    conn.commit()
    conn.close()
    target = FreshDatabase("sqlite", tmp_path)
    done = opstats(target.url, "db", "restore", str(out), "--yes")
    assert done.returncode == 1 and "fails verification" in done.stderr, done.stderr
    assert "channel-center-2019-opium" in done.stderr


def test_restore_without_yes_is_refused(source_db, tmp_path):
    out = backed_up(source_db, tmp_path)
    before = state(source_db.url)
    done = opstats(source_db.url, "db", "restore", str(out))
    assert done.returncode == 2 and "--yes" in done.stderr
    assert state(source_db.url) == before


def test_a_backup_to_an_unwritable_path_says_so(source_db, tmp_path):
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    for where in (a_file / "backup", tmp_path / "no-such-folder" / "backup", tmp_path):
        done = opstats(source_db.url, "db", "backup", str(where))
        assert done.returncode == 1, done.stdout
        assert "cannot write the backup" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not list(tmp_path.glob("*.partial"))


def test_a_backup_of_a_missing_sqlite_database_says_so(tmp_path):
    done = opstats(f"sqlite:///{tmp_path / 'none.db'}", "db", "backup", str(tmp_path / "b"))
    assert done.returncode == 1 and "no database" in done.stderr
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "b").exists()


def test_missing_pg_dump_and_pg_restore_are_said(tmp_path):
    require_pg()
    db = seeded("postgres", tmp_path)
    try:
        out = backed_up(db, tmp_path)
        bare = {"PATH": str(Path(sys.executable).parent)}  # the venv's programs, no PostgreSQL client
        done = opstats(db.url, "db", "backup", str(tmp_path / "again"), env=bare)
        assert done.returncode == 1 and "pg_dump was not found on PATH" in done.stderr, done.stderr
        assert not (tmp_path / "again").exists()
        done = opstats(db.url, "db", "restore", str(out), "--yes", env=bare)
        assert done.returncode == 1 and "pg_restore was not found on PATH" in done.stderr, done.stderr
    finally:
        db.drop()


def test_a_backup_file_is_one_self_contained_sqlite_file(tmp_path):
    db = seeded("sqlite", tmp_path)
    out = backed_up(db, tmp_path)
    conn = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert not out.with_name(out.name + "-wal").exists()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BOTH)
def test_a_restore_under_a_running_server_confirms_no_old_etag(backend, tmp_path, monkeypatch):
    """Restore into the database a server is serving: every GET answers from the restored data with
    a new ETag (If-None-Match with an old one is a 200, not a 304), the write made after the backup is
    gone, and a keyed write from before the backup is replayed, not made again."""
    if backend == "postgres":
        require_pg()
    monkeypatch.setenv("RATE_LIMIT_WRITES", "10000/minute")
    db = FreshDatabase(backend, tmp_path)
    port = free_port()
    proc = start(db.url, port)
    try:
        wait_healthy(port, proc)
        env = dict(os.environ, DATABASE_URL=db.url)
        auth = {"Authorization": f"Bearer {cli_key(env, 'restorer')}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            first = c.post("/api/v1/sources", json=SOURCE, headers={**auth, "Idempotency-Key": "before"})
            assert first.status_code == 201, first.text
            old = {
                p: c.get(p).headers["etag"] for p in ("/api/v1/sources", "/api/v1/results", "/api/v1/totals")
            }
            one = c.get("/api/v1/results/channel-center-2019-opium").headers["etag"]
            out = backed_up(db, tmp_path)
            later = {**SOURCE, "text": SOURCE["text"] + "\nA later paragraph.", "title": "after the backup"}
            assert c.post("/api/v1/sources", json=later, headers=auth).status_code == 201
            assert c.get("/api/v1/sources").json()["total"] == 7
            done = opstats(db.url, "db", "restore", str(out), "--yes")
            assert done.returncode == 0, done.stderr
            for path, etag in old.items():
                r = c.get(path, headers={"If-None-Match": etag})
                assert r.status_code == 200 and r.headers["etag"] != etag, path
            assert c.get("/api/v1/sources").json()["total"] == 6
            r = c.get("/api/v1/results/channel-center-2019-opium", headers={"If-None-Match": one})
            assert r.status_code == 200 and r.headers["etag"] != one
            again = c.post("/api/v1/sources", json=SOURCE, headers={**auth, "Idempotency-Key": "before"})
            assert again.status_code == 201 and again.json()["id"] == first.json()["id"], again.text
            assert c.get("/api/v1/sources").json()["total"] == 6
            assert c.get("/readyz").status_code == 200
    finally:
        proc.terminate()
        proc.wait(30)
        db.drop()


def test_backup_bytes_are_a_function_of_the_data(tmp_path):
    """Two SQLite backups of an unchanged database are byte for byte the same file."""
    db = seeded("sqlite", tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert opstats(db.url, "db", "backup", str(out)).returncode == 0
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
