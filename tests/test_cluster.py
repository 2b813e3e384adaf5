"""The harness of bench/cluster.py: its own primary and streaming standby, PgBouncer (transaction
mode), two instances sharing Redis, B reading from the standby; every check must hold (run by
`make test`, not by test-fast)."""

import json
import os
import shutil
from pathlib import Path

import pytest

from bench.cluster import PG_BIN, PGBOUNCER, Topology, problems, run_checks
from tests.factories import IN_CI, require_redis

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def require_engines() -> None:
    """Skip (locally) or fail (in CI) without initdb, pg_basebackup, pgbouncer, or a postgres user to
    run them."""
    needed = (PG_BIN / "initdb", PG_BIN / "pg_basebackup", Path(PGBOUNCER))
    missing = [p for p in needed if not p.exists()]
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing.append(Path("runuser"))
    if not missing:
        return
    why = f"cluster harness needs {', '.join(map(str, missing))}"
    if IN_CI:
        pytest.fail(f"{why} (CI=true)")
    pytest.skip(why)


def test_two_instances_one_through_pgbouncer_one_on_the_standby_hold_every_check(tmp_path):
    require_engines()
    topo = Topology.local(redis_url=require_redis(), logs_dir=tmp_path / "logs")
    report = run_checks(topo, writes=50)
    print(json.dumps(report, indent=2))
    assert not topo.root.exists(), "torn down"
    assert report["writes"]["statuses"] == {201: 50}
    assert report["replay"]["first_read_of_each_write"].get("standby"), report["replay"]
    assert report["paused_replay"]["reads_while_paused"] == {"primary": 3}, report["paused_replay"]
    assert problems(report) == [], json.dumps(report, indent=2)
