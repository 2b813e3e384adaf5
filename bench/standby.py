"""A primary and a streaming hot standby of the real PostgreSQL, in a temporary directory, on their
own ports (never the cluster on 5432): `standby_topology()` builds them and tears them down (the
servers themselves: bench/postgres.py, which bench/cluster.py builds its standby with too).

Run as root (the servers run as the `postgres` user) or as `postgres` itself.
"""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.postgres import PG_BIN, Postgres, available, owned, run, wait_replayed

__all__ = ["PG_BIN", "Topology", "available", "standby_topology"]

PRIMARY_PORT = 55532
STANDBY_PORT = 55533
PRIMARY_CONF = "wal_level = replica\nmax_wal_senders = 5\nfsync = off\n"


@dataclass
class Topology:
    """The two servers: URLs for the app, and the controls a test needs."""

    root: Path
    primary: Postgres
    standby: Postgres

    @property
    def primary_port(self) -> int:
        return self.primary.port

    @property
    def standby_port(self) -> int:
        return self.standby.port

    @property
    def primary_url(self) -> str:
        return self.primary.url()

    @property
    def standby_url(self) -> str:
        return self.standby.url()

    def start_standby(self) -> None:
        self.standby.start()

    def stop_standby(self, mode: str = "immediate") -> None:
        self.standby.stop(mode)

    def wait_replayed(self) -> None:
        """Until the standby has replayed all the primary has written so far."""
        wait_replayed(self.primary, self.standby)


@contextmanager
def standby_topology(
    primary_port: int = PRIMARY_PORT, standby_port: int = STANDBY_PORT, database: str = "opstats"
) -> Iterator[Topology]:
    """A primary (wal_level=replica, replication from 127.0.0.1 trusted) with database `database`
    and a streaming standby made from it by pg_basebackup -R; both stopped and removed after."""
    root = owned(Path(tempfile.mkdtemp(prefix="opstats-standby-")))
    topo = Topology(root, Postgres(root / "primary", primary_port), Postgres(root / "standby", standby_port))
    try:
        topo.primary.init(PRIMARY_CONF)
        topo.primary.start()
        run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres", database)
        topo.standby.standby_of(topo.primary)
        topo.standby.start()
        yield topo
    finally:
        topo.standby.stop_quietly()
        topo.primary.stop_quietly()
        shutil.rmtree(root, ignore_errors=True)
