"""`opstats keys`: the key is printed once, alone on stdout's last line; only its hash is kept."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    env = {**os.environ, "DATABASE_URL": url}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    run.url = url  # type: ignore[attr-defined]
    assert run("db", "upgrade").returncode == 0
    return run


@pytest.mark.slow
def test_create_list_revoke(cli):
    r = cli("keys", "create", "--name", "ci")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ops_") and len(lines[0]) > 40
    key = lines[0]
    assert key not in r.stderr
    admin = cli("keys", "create", "--name", "boss", "--scope", "admin")
    assert admin.returncode == 0 and admin.stdout.strip() != key

    engine = create_engine(cli.url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, scope, key_hash FROM apikey ORDER BY id")).all()
    engine.dispose()
    assert [(n, s) for n, s, _ in rows] == [("ci", "curator"), ("boss", "admin")]
    assert rows[0][2] == hashlib.sha256(key.encode()).hexdigest()

    listed = cli("keys", "list")
    assert listed.returncode == 0 and "ci" in listed.stdout and "boss" in listed.stdout
    assert key not in listed.stdout and rows[0][2] not in listed.stdout and "admin" in listed.stdout

    assert cli("keys", "revoke", "ci").returncode == 0
    assert cli("keys", "revoke", "nobody").returncode == 1
    dup = cli("keys", "create", "--name", "boss")
    assert dup.returncode == 1 and dup.stdout == "" and "already exists" in dup.stderr
    assert cli("keys", "create", "--name", "x", "--scope", "root").returncode == 2
