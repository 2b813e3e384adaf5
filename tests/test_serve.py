"""`opstats serve` migrates and seeds an empty database, and is safe to start twice at once."""

import urllib.request
from contextlib import ExitStack

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.config import get_settings
from app.db import make_engine
from app.models import Result
from app.seeds.files import read_seeds
from tests.factories import free_port, start, wait_healthy

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)
def test_two_servers_started_at_once_seed_exactly_once(fresh_db):
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        procs = [start(fresh_db.url, p) for p in ports]
        for proc in procs:
            stack.callback(proc.kill)
            stack.callback(proc.terminate)
        for port, proc in zip(ports, procs, strict=True):
            wait_healthy(port, proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[1]}/api/v1/operations/Naemnik") as r:
            assert b'"slug":"mercenary"' in r.read()
    engine = make_engine(fresh_db.url)
    try:
        with Session(engine) as s:
            n = s.exec(select(func.count()).select_from(Result)).one()
    finally:
        engine.dispose()
    assert n == sum(len(f.results) for f in read_seeds(get_settings().seeds_dir).result_files)
