"""A primary and a streaming hot standby of the real PostgreSQL, in a temporary directory, on their
own ports (never the cluster on 5432): `standby_topology()` builds them and tears them down.

Run as root (the servers run as the `postgres` user) or as `postgres` itself.
"""

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PRIMARY_PORT = 55532
STANDBY_PORT = 55533
HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"


def available() -> bool:
    """True when the PostgreSQL server binaries this needs are installed."""
    return all((PG_BIN / name).exists() for name in ("initdb", "pg_ctl", "pg_basebackup"))


def as_postgres(*args: str) -> list[str]:
    """A command run as the `postgres` user (directly when this process is that user)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return list(args)


def run(*args: str) -> None:
    """Run a server tool as `postgres`, quietly, failing loudly."""
    subprocess.run(as_postgres(*args), check=True, capture_output=True, timeout=120)


@dataclass
class Topology:
    """The two servers: URLs for the app, and the controls a test needs."""

    root: Path
    primary_port: int
    standby_port: int

    def url(self, port: int, database: str = "opstats") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    @property
    def standby_dir(self) -> Path:
        return self.root / "standby"

    def start_standby(self) -> None:
        start(self.standby_dir, self.standby_port, self.root)

    def stop_standby(self, mode: str = "immediate") -> None:
        run(str(PG_BIN / "pg_ctl"), "-D", str(self.standby_dir), "-m", mode, "-w", "stop")


def start(data: Path, port: int, sockets: Path) -> None:
    """Start a server on `port`, its socket in `sockets` (not /var/run: no clash with the system's)."""
    opts = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(data) + ".log", "-w", "start")


def wait_accepting(port: int, timeout: float = 30.0) -> None:
    """Wait until a server on `port` accepts connections (a standby does once consistent)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres").close()
            return
        except psycopg.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def standby_topology(
    primary_port: int = PRIMARY_PORT, standby_port: int = STANDBY_PORT, database: str = "opstats"
) -> Iterator[Topology]:
    """A primary (wal_level=replica, replication from 127.0.0.1 trusted) with database `database`
    and a streaming standby made from it by pg_basebackup -R; both stopped and removed after."""
    root = Path(tempfile.mkdtemp(prefix="opstats-standby-"))
    shutil.chown(root, "postgres", "postgres") if os.geteuid() == 0 else None
    primary = root / "primary"
    topo = Topology(root, primary_port, standby_port)
    started: list[Path] = []
    try:
        run(str(PG_BIN / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust", "--no-sync")
        (primary / "pg_hba.conf").write_text(HBA)
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 5\nfsync = off\n")
        start(primary, primary_port, root)
        started.append(primary)
        run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres", database)
        run(
            str(PG_BIN / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres"),
            *("-D", str(topo.standby_dir), "-R", "-X", "stream"),
        )
        topo.start_standby()
        started.append(topo.standby_dir)
        wait_accepting(standby_port)
        yield topo
    finally:
        for data in reversed(started):
            subprocess.run(
                as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)
