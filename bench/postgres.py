"""PostgreSQL servers of the harnesses' own (bench/standby.py, bench/cluster.py): `initdb` into a
temporary directory, started on their own port with their sockets beside the data directory (never
the cluster on 5432, never /var/run), and streaming standbys made from them by `pg_basebackup -R`.

The server tools refuse to run as root: as root, they run as the `postgres` user.
"""

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("OPSTATS_PG_BIN", os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")))
# initdb -A trust writes the same for local and 127.0.0.1, replication included; written out so the
# standby harness does not depend on initdb's defaults
HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"


def available() -> bool:
    """True when the PostgreSQL server binaries the harnesses need are installed."""
    return all((PG_BIN / name).exists() for name in ("initdb", "pg_ctl", "pg_basebackup"))


def as_postgres(*args: str) -> list[str]:
    """A command run as the `postgres` user (directly when this process is not root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


def run(*args: str, timeout: float = 120) -> None:
    """Run a server tool as `postgres`; its output in the exception when it fails."""
    done = subprocess.run(as_postgres(*args), capture_output=True, text=True, check=False, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")


def owned(path: Path) -> Path:
    """`path`, made, owned by the postgres user (when run as root)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


@dataclass
class Postgres:
    """One server: its data directory (its log and socket beside it) and port."""

    data: Path
    port: int
    options: str = ""  # more `-c name=value` for the server's command line

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"

    def url(self, database: str = "opstats") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self, conf: str = "") -> None:
        """initdb (trust; replication from 127.0.0.1 allowed), `conf` appended to postgresql.conf."""
        owned(self.data.parent)
        run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        (self.data / "pg_hba.conf").write_text(HBA)
        if conf:
            with (self.data / "postgresql.conf").open("a") as out:
                out.write(conf)

    def standby_of(self, primary: "Postgres") -> None:
        """This data directory made a streaming standby of `primary` (pg_basebackup -R: its
        primary_conninfo and standby.signal written). A fast checkpoint: the default, spread, waits
        for most of checkpoint_timeout (93 s of 95 here)."""
        owned(self.data.parent)
        run(
            str(PG_BIN / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(self.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"),
        )

    def start(self) -> None:
        """Start on its own port, listening on 127.0.0.1 only, and wait until it accepts connections."""
        opts = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 {self.options}"
        run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "start")
        wait_accepting(self.port)

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: `fast` ends sessions and rolls back; `immediate` is a crash (no checkpoint)."""
        run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def stop_quietly(self) -> None:
        """An immediate stop if it runs, whatever happens (teardown)."""
        if self.running:
            subprocess.run(
                as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"),
                capture_output=True,
                timeout=60,
                check=False,
            )


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
            time.sleep(0.05)


def wait_replayed(primary: Postgres, standby: Postgres, timeout: float = 30.0) -> None:
    """Wait until `standby` has replayed everything `primary` had written when called (a schema
    just migrated, say): a read of the standby then finds it."""
    import psycopg

    def conninfo(server: Postgres) -> str:
        return f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres"

    with psycopg.connect(conninfo(primary), autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo(standby), autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target).fetchone()
            if row and row[0]:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"standby on {standby.port} did not replay up to {target}")
            time.sleep(0.01)
