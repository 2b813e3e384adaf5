"""The shared conformance checker (a client's view of the contract) passes on both engines."""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.factories import IN_CI, PG_ADMIN_URL, require_pg

ROOT = Path(__file__).resolve().parents[1]
CHECKER = ROOT.parent / "shared" / "conformance" / "conformance.py"
OPSTATS = Path(sys.executable).with_name("opstats")

pytestmark = pytest.mark.slow


def run_checker(*extra: str) -> subprocess.CompletedProcess:
    if not CHECKER.exists():
        if IN_CI:
            pytest.fail(f"{CHECKER} is missing")
        pytest.skip(f"{CHECKER} is not beside the project")
    return subprocess.run(
        [sys.executable, str(CHECKER), "--opstats", str(OPSTATS), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_conformance_sqlite():
    r = run_checker()
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


@pytest.mark.postgres
def test_conformance_postgres():
    require_pg()
    name = f"opstats_conf_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        r = run_checker("--database-url", url)
        assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
