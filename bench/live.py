"""Real servers for the reliability scripts: a fresh database, `opstats serve` on loopback, a key.

Used by bench/writers.py, bench/crash.py and bench/soak.py (and the short versions in tests/).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app.curation.keys import create_key
from app.db import make_engine
from app.models import KeyScope

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("OPSTATS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def fresh_database(backend: str, tmp: Path) -> Iterator[str]:
    """The URL of an empty database of `backend` (sqlite or postgres), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / f'opstats-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"opstats_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Server:
    """One `opstats serve` process on loopback."""

    url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        """Start and wait until /readyz answers 200."""
        env = {**os.environ, "DATABASE_URL": self.url, **self.env}
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.log.read_text()[-2000:])
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server not ready: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        """SIGTERM (graceful shutdown), then wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> int:
        """Resident memory of the server process (KiB, from /proc)."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def new_key(engine: Engine, scope: str = "curator") -> str:
    """A new API key on the database (what `opstats keys create` does)."""
    with Session(engine) as session:
        _, key = create_key(session=session, name=f"bench-{uuid.uuid4().hex[:8]}", scope=KeyScope(scope))
    return key


@contextmanager
def running(backend: str, tmp: Path, env: dict[str, str] | None = None) -> Iterator[tuple[Server, Engine]]:
    """A fresh database with a started server; stopped and dropped afterwards."""
    with fresh_database(backend, tmp) as url:
        server = Server(url=url, log=tmp / f"server-{backend}.log", env=env or {})
        server.start()
        engine = make_engine(url)
        try:
            yield server, engine
        finally:
            server.stop()
            engine.dispose()
