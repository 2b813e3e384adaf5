"""A deployment past one machine, built on this one from the real engines, checked, torn down.

`python -m bench.cluster` (or `cluster(Topology.local())` in code, tests/test_cluster.py) builds:
its own PostgreSQL primary (`initdb` into a temporary directory, run as the `postgres` user, its own
port and socket directory: the cluster on 5432 is never touched), a streaming hot standby made from
it by `pg_basebackup -R` on another port (bench/postgres.py), PgBouncer in transaction mode in
front of the primary (server_login_retry 0.2 s: `--bouncer-login-retry`), and two `opstats serve`
instances sharing rate limits in Redis: A through PgBouncer (DATABASE_POOLER=transaction,
DATABASE_LISTEN_URL direct), B direct, reading from the standby (DATABASE_READ_URL). Then it checks:

- writes through A are read through B; no 5xx, no DuplicatePreparedStatement in A's log;
- B reads from the standby once it has replayed a write, from the primary before (replay paused);
  where each read went is B's opstats_standby_reads_total; the replay lag seen;
- A (primary) and B (standby) answer the same bodies and ETags, and B a 304 to A's ETag;
- a key's write limit holds for the sum of its writes to A and B (Redis);
- the standby killed (`pg_ctl stop -m immediate`) under load: no 5xx, B's reads move to the primary,
  and back to the standby once it is started again;
- PgBouncer and then the primary restarted under load: 503 + Retry-After at worst, never a 500, no
  acknowledged write lost; the 503s each instance answered once the primary was back.

`--throughput SECONDS` measures reads per second through B with the standby and with it stopped.
Everything is torn down on exit, failure or Ctrl-C.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from app.db import make_engine
from bench.live import Server, free_port, new_key
from bench.postgres import PG_BIN, Postgres, owned, run

__all__ = ["PGBOUNCER", "PG_BIN", "Topology", "cluster", "problems", "run_checks"]

PGBOUNCER = os.environ.get("OPSTATS_PGBOUNCER", "/usr/sbin/pgbouncer")
REDIS_URL = os.environ.get("OPSTATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DB = "opstats"
WRITE_LIMIT = 20  # per key per minute on both instances: small enough to check, keys rotate under load
PRIMARY_OPTIONS = "-c max_connections=100"


@dataclass
class Topology:
    """What to build: ports (free ones by default), Redis, and the optional parts."""

    root: Path
    primary_port: int = field(default_factory=free_port)
    bouncer_port: int | None = field(default_factory=free_port)  # None: no PgBouncer, A goes direct
    standby_port: int | None = field(default_factory=free_port)  # None: no standby, B reads the primary
    app_ports: tuple[int, int] = field(default_factory=lambda: (free_port(), free_port()))
    redis_url: str | None = REDIS_URL  # None: per-process limits
    key_prefix: str = field(default_factory=lambda: f"opstats-cluster-{uuid.uuid4().hex[:10]}")
    pooler_setting: bool = True  # False: A through PgBouncer without DATABASE_POOLER (the failure)
    logs_dir: Path | None = None  # where the logs are copied before the directory goes
    # PgBouncer's server_login_retry: after a failed server login (the primary restarting) it refuses
    # new clients and holds the queries of the others that long (None: its default, 15 s)
    bouncer_login_retry: float | None = 0.2

    @classmethod
    def local(cls, **overrides: Any) -> "Topology":
        """A topology in a new temporary directory the postgres user can write."""
        root = Path(tempfile.mkdtemp(prefix="opstats-cluster-"))
        os.chmod(root, 0o755)
        return cls(root=root, **overrides)

    def direct_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.primary_port}/{DB}"

    def pooled_url(self) -> str:
        port = self.bouncer_port or self.primary_port
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DB}"

    def standby_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.standby_port}/{DB}"


@dataclass
class Cluster:
    """The running topology: its processes and what the checks need to reach them."""

    topo: Topology
    servers: list[Server] = field(default_factory=list)
    bouncer_pid: int | None = None
    primary: Postgres = field(init=False)
    standby: Postgres | None = field(init=False)

    def __post_init__(self) -> None:
        root = self.topo.root
        self.primary = Postgres(root / "primary", self.topo.primary_port, PRIMARY_OPTIONS)
        port = self.topo.standby_port
        self.standby = None if port is None else Postgres(root / "standby", port, PRIMARY_OPTIONS)

    # ------------------------------------------------------------ PostgreSQL primary and standby

    def start_primary(self) -> None:
        """initdb (trust, replication from 127.0.0.1 included), start on its own port and socket dir."""
        self.primary.init()
        self.primary.start()
        admin = make_engine(self.primary.url("postgres"))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{DB}"'))
        admin.dispose()

    def stop_primary_fast(self) -> None:
        """A fast shutdown: sessions are ended, transactions in flight rolled back."""
        self.primary.stop("fast")

    def start_primary_again(self) -> None:
        self.primary.start()

    def start_standby(self) -> None:
        """A streaming standby of the primary (pg_basebackup -R the first time), started."""
        assert self.standby is not None
        if not self.standby.data.exists():
            self.standby.standby_of(self.primary)
        self.standby.start()

    def stop_standby(self) -> None:
        """`pg_ctl stop -m immediate`: the standby crashes, every session on it cut."""
        assert self.standby is not None
        self.standby.stop("immediate")

    def on_primary(self, sql: str) -> list[Any]:
        """The rows of `sql` on the primary (direct, autocommit)."""
        return _rows(self.topo.direct_url(), sql)

    def on_standby(self, sql: str) -> list[Any]:
        """The rows of `sql` on the standby (direct, autocommit)."""
        return _rows(self.topo.standby_url(), sql)

    # ------------------------------------------------------------ PgBouncer

    def write_bouncer_config(self) -> Path:
        """Transaction mode, trust, every database to the primary."""
        work = owned(self.topo.root / "pgbouncer")
        (work / "userlist.txt").write_text('"postgres" ""\n')
        retry = self.topo.bouncer_login_retry
        ini = work / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={self.topo.primary_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.topo.bouncer_port}\n"
            f"unix_socket_dir = {work}\npidfile = {work}/pgbouncer.pid\nlogfile = {work}/pgbouncer.log\n"
            f"auth_type = trust\nauth_file = {work}/userlist.txt\nadmin_users = postgres\n"
            "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 20\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            + ("" if retry is None else f"server_login_retry = {retry}\n")
        )
        for path in work.iterdir():
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
        return ini

    def start_bouncer(self) -> None:
        """Start PgBouncer (daemonized) and wait until it accepts connections."""
        ini = self.write_bouncer_config()
        run(PGBOUNCER, "-d", str(ini))
        pidfile = ini.parent / "pgbouncer.pid"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if pidfile.exists() and pidfile.read_text().strip():
                self.bouncer_pid = int(pidfile.read_text().strip())
                if _accepts(self.topo.bouncer_port or 0):
                    return
            time.sleep(0.05)
        raise RuntimeError("pgbouncer did not start: " + (ini.parent / "pgbouncer.log").read_text()[-1500:])

    def stop_bouncer(self) -> None:
        """SIGTERM: an immediate shutdown, every client and server connection cut."""
        pid, self.bouncer_pid = self.bouncer_pid, None
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.02)

    # ------------------------------------------------------------ the two instances

    def start_apps(self) -> None:
        """A (through PgBouncer, listener direct) and B (direct, reading from the standby), started
        at once: two processes preparing one empty database, one of them through the pooler."""
        topo = self.topo
        common = {"RATE_LIMIT_WRITES": f"{WRITE_LIMIT}/minute", "LOG_FORMAT": "json"}
        if topo.redis_url:
            common |= {"RATE_LIMIT_STORAGE": topo.redis_url, "RATE_LIMIT_KEY_PREFIX": topo.key_prefix}
        pooled = {"DATABASE_LISTEN_URL": topo.direct_url()}
        if topo.pooler_setting and topo.bouncer_port:
            pooled["DATABASE_POOLER"] = "transaction"
        direct = dict(common)
        if topo.standby_port:
            direct["DATABASE_READ_URL"] = topo.standby_url()
        self.servers = [
            Server(topo.pooled_url(), topo.root / "app-a.log", common | pooled, topo.app_ports[0]),
            Server(topo.direct_url(), topo.root / "app-b.log", direct, topo.app_ports[1]),
        ]
        errors: list[BaseException] = []

        def start(server: Server) -> None:
            try:
                server.start()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(s,)) for s in self.servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def stop_apps(self) -> None:
        for server in self.servers:
            server.stop()

    def keys(self, n: int) -> list[str]:
        """`n` new curator keys (made directly on the primary)."""
        engine = make_engine(self.topo.direct_url())
        try:
            return [new_key(engine) for _ in range(n)]
        finally:
            engine.dispose()

    def phase_slugs(self) -> set[str]:
        """Every phase slug stored on the primary."""
        return {row[0] for row in self.on_primary("SELECT slug FROM phase")}


def _rows(url: str, sql: str) -> list[Any]:
    """The rows of `sql` on a new autocommit connection to `url` (closed after)."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            result = conn.execute(text(sql))
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _accepts(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def cluster(topo: Topology) -> Iterator[Cluster]:
    """The topology running; everything stopped and its directory removed on exit, failure or Ctrl-C
    (SIGTERM is turned into the same exit)."""
    built = Cluster(topo)
    previous = signal.getsignal(signal.SIGTERM)
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, _interrupt)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, topo.root, True)
        stack.callback(_keep_logs, topo)
        if in_main:
            stack.callback(signal.signal, signal.SIGTERM, previous)
        stack.callback(built.primary.stop_quietly)
        built.start_primary()
        if built.standby is not None:
            stack.callback(built.standby.stop_quietly)
            built.start_standby()
        if topo.bouncer_port:
            stack.callback(built.stop_bouncer)
            built.start_bouncer()
        stack.callback(built.stop_apps)
        built.start_apps()
        yield built


def _keep_logs(topo: Topology) -> None:
    """Copy every log of the topology (the apps', PostgreSQL's, PgBouncer's) to `logs_dir`."""
    if topo.logs_dir is None:
        return
    topo.logs_dir.mkdir(parents=True, exist_ok=True)
    for log in topo.root.rglob("*.log"):
        shutil.copy(log, topo.logs_dir / log.name)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


# ---------------------------------------------------------------- the checks


class KeyRing:
    """Keys handed out so that none passes the write limit (the limit check uses its own); made
    ahead (`prefill`) when the database will be away while they are needed."""

    def __init__(self, built: Cluster, per_key: int = WRITE_LIMIT - 2, prefill: int = 0) -> None:
        self.built, self.per_key, self.used = built, per_key, 0
        self.lock = threading.Lock()
        self.pool: list[str] = built.keys(prefill) if prefill else []

    def next(self) -> dict[str, str]:
        with self.lock:
            if not self.pool or self.used >= self.per_key:
                self.pool = self.pool[1:] or self.built.keys(10)
                self.used = 0
            self.used += 1
            return {"Authorization": f"Bearer {self.pool[0]}"}


def write_phase(client: httpx.Client, base: str, headers: dict[str, str], label: str) -> httpx.Response:
    """One write: a new phase of the channel operation."""
    body = {"operation": "channel", "name": f"Cluster {label} {uuid.uuid4().hex[:8]}"}
    return client.post(f"{base}/api/v1/phases", json=body, headers=headers, timeout=30)


def uncached(n: int) -> str:
    """The `n`th of a run of results pages no two alike (a response cache never has one: each is a
    read of the database, as a crawler's or a first visitor's)."""
    since = date(2000, 1, 1) + timedelta(days=n // 50)
    return f"/api/v1/results?limit={1 + n % 50}&from={since.isoformat()}"


STANDBY_READS = re.compile(r'^opstats_standby_reads_total\{outcome="(\w+)"\} ([0-9.e+]+)$', re.M)


def standby_reads(base: str) -> Counter[str]:
    """Where an instance's GETs have read so far (its /metrics): standby, lagging, failed, down."""
    body = httpx.get(f"{base}/metrics", timeout=10).text
    return Counter({k: int(float(v)) for k, v in STANDBY_READS.findall(body)})


def from_standby(delta: Counter[str]) -> str:
    """Where the reads of a metrics delta went: "standby", "primary", or "none" (no versioned read)."""
    if delta["standby"] and delta.total() == delta["standby"]:
        return "standby"
    return "primary" if delta.total() else "none"


def read_where(client: httpx.Client, base: str, path: str) -> tuple[httpx.Response, str]:
    """A GET of `path` through `base` and where it read (alone on that instance: a metrics delta)."""
    before = standby_reads(base)
    r = client.get(base + path, timeout=30)
    return r, from_standby(standby_reads(base) - before)


CONCURRENCY = 4  # clients at once: PgBouncer then spreads each app connection's transactions


@dataclass
class WriteLog:
    """What the concurrent writers of check_writes saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    retried: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _writes_then_reads(a: str, b: str, ring: KeyRing, count: int, log: WriteLog) -> None:
    """`count` writes through `a`, each then read through `b` (retrying for up to 2 s)."""
    with httpx.Client() as client:
        for i in range(count):
            t0 = time.perf_counter()
            r = write_phase(client, a, ring.next(), f"w{i}")
            elapsed = (time.perf_counter() - t0) * 1000
            seen, tries = (False, 0)
            if r.status_code == 201:
                seen, tries = _read_until(client, f"{b}/api/v1/phases/{r.json()['slug']}")
            with log.lock:
                log.statuses[r.status_code] += 1
                log.latencies.append(elapsed)
                log.retried += tries > 1
                if r.status_code == 201 and not seen:
                    log.missing.append(r.json()["slug"])


def _concurrently(a: str, b: str, ring: KeyRing, n: int) -> WriteLog:
    """`n` writes through `a` by CONCURRENCY clients at once, each read through `b`."""
    log = WriteLog()
    shares = [n // CONCURRENCY + (k < n % CONCURRENCY) for k in range(CONCURRENCY)]
    threads = [threading.Thread(target=_writes_then_reads, args=(a, b, ring, c, log)) for c in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return log


def check_writes(built: Cluster, n: int = 50) -> dict[str, Any]:
    """`n` writes through A, each read through B (and as many through B, read through A, for the
    direct figure); where B's reads went (standby or primary)."""
    a, b = (s.base for s in built.servers)
    ring = KeyRing(built)
    before = standby_reads(b)
    pooled = _concurrently(a, b, ring, n)
    b_reads = standby_reads(b) - before
    direct = _concurrently(b, a, ring, n)
    return {
        "writes": n,
        "clients": CONCURRENCY,
        "statuses": dict(pooled.statuses),
        "statuses_direct": dict(direct.statuses),
        "read_through_b_missing": pooled.missing,
        "read_through_b_retried": pooled.retried,
        "b_reads_by_outcome": dict(b_reads),
        "write_ms_p50_pooled": round(statistics.median(pooled.latencies), 1),
        "write_ms_p50_direct": round(statistics.median(direct.latencies), 1),
        "duplicate_prepared_in_log": _count_in_log(built.servers[0], "DuplicatePreparedStatement"),
        "errors_in_log_a": _count_in_log(built.servers[0], "unhandled error"),
    }


def _read_until(client: httpx.Client, url: str, within: float = 2.0) -> tuple[bool, int]:
    """Whether `url` answers 200 within `within` seconds, and after how many tries."""
    deadline, tries = time.monotonic() + within, 0
    while True:
        tries += 1
        if client.get(url).status_code == 200:
            return True, tries
        if time.monotonic() > deadline:
            return False, tries
        time.sleep(0.02)


def _count_in_log(server: Server, needle: str) -> int:
    return server.log.read_text(errors="replace").count(needle) if server.log.exists() else 0


# ---------------------------------------------------------------- the standby


@dataclass
class Replay:
    """What a write through A looked like through B: where its first read went, when B first read
    from the standby after it."""

    first_read: Counter[str] = field(default_factory=Counter)
    standby_after_ms: list[float] = field(default_factory=list)
    never_from_standby: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    replay_lag_ms: list[float] = field(default_factory=list)  # pg_stat_replication.replay_lag
    behind_bytes: list[int] = field(default_factory=list)  # current WAL position - replay_lsn


def _first_200(client: httpx.Client, base: str, path: str, within: float = 2.0) -> tuple[int, str]:
    """Read `path` through `base` until it is 200 (B may not have heard of A's write yet): its
    status and where that read went."""
    deadline = time.monotonic() + within
    while True:
        r, where = read_where(client, base, path)
        if r.status_code == 200 or time.monotonic() > deadline:
            return r.status_code, where
        time.sleep(0.01)


def until_standby(client: httpx.Client, base: str, since: float, within: float = 5.0) -> float | None:
    """Milliseconds from `since` until a read through `base` is served by the standby (pages no
    cache holds), or None."""
    n = int(since * 1000) % 100_000
    while time.monotonic() - since < within:
        n += 1
        r, where = read_where(client, base, uncached(n))
        if r.status_code == 200 and where == "standby":
            return (time.monotonic() - since) * 1000
        time.sleep(0.005)
    return None


REPLICATION_SQL = (
    "SELECT EXTRACT(EPOCH FROM replay_lag) * 1000, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)"
    " FROM pg_stat_replication"
)


def check_replay(built: Cluster, n: int = 12) -> dict[str, Any]:
    """`n` writes through A, one at a time, each read through B: where its first read went
    (standby once replayed, else primary) and how long until B read from the standby; the
    primary's pg_stat_replication after each write."""
    a, b = (s.base for s in built.servers)
    ring, seen = KeyRing(built), Replay()
    engine = make_engine(built.topo.direct_url())
    try:
        with httpx.Client() as client, engine.connect() as conn:
            for i in range(n):
                r = write_phase(client, a, ring.next(), f"r{i}")
                acked = time.monotonic()
                seen.statuses[r.status_code] += 1
                if r.status_code != 201:
                    continue
                for lag, behind in conn.execute(text(REPLICATION_SQL)):
                    seen.replay_lag_ms += [] if lag is None else [float(lag)]
                    seen.behind_bytes.append(int(behind or 0))
                conn.commit()
                status, where = _first_200(client, b, f"/api/v1/phases/{r.json()['slug']}")
                seen.statuses[status] += 1
                seen.first_read[where] += 1
                first = (time.monotonic() - acked) * 1000  # (less the /metrics read after it)
                after = first if where == "standby" else until_standby(client, b, acked)
                seen.never_from_standby += after is None
                seen.standby_after_ms += [] if after is None else [after]
    finally:
        engine.dispose()
    return _replay_figures(seen)


def _replay_figures(seen: Replay) -> dict[str, Any]:
    return {
        "statuses": dict(seen.statuses),
        "first_read_of_each_write": dict(seen.first_read),
        # from A's answer to the end of B's first read from the standby (its /metrics reads included)
        "ms_until_b_read_from_the_standby": _spread(seen.standby_after_ms),
        "writes_never_read_from_the_standby": seen.never_from_standby,
        "pg_stat_replication_replay_lag_ms": _spread(seen.replay_lag_ms),
        "wal_bytes_not_replayed_at_ack": _spread([float(x) for x in seen.behind_bytes]),
    }


def _wait_paused(built: Cluster, within: float = 5.0) -> str:
    """Ask the standby to pause replay; its state once paused (or when `within` ran out)."""
    built.on_standby("SELECT pg_wal_replay_pause()")
    deadline, state = time.monotonic() + within, ""
    while time.monotonic() < deadline:
        state = str(built.on_standby("SELECT pg_get_wal_replay_pause_state()")[0][0])
        if state == "paused":
            break
        time.sleep(0.02)
    return state


def sample_lag(built: Cluster, seconds: float) -> dict[str, Any]:
    """The standby's lag sampled for `seconds` (under whatever load runs): the primary's
    pg_stat_replication (replay_lag, WAL bytes not replayed) and B's /readyz (versions behind)."""
    b = built.servers[1].base
    lag_ms, behind, versions = [], [], []
    engine = make_engine(built.topo.direct_url())
    deadline = time.monotonic() + seconds
    try:
        with engine.connect() as conn, httpx.Client() as client:
            while time.monotonic() < deadline:
                for lag, not_replayed in conn.execute(text(REPLICATION_SQL)):
                    lag_ms += [] if lag is None else [float(lag)]
                    behind.append(float(not_replayed or 0))
                conn.commit()
                standby = client.get(f"{b}/readyz", timeout=10).json().get("standby") or {}
                versions += [] if standby.get("lag_versions") is None else [float(standby["lag_versions"])]
                time.sleep(0.05)
    finally:
        engine.dispose()
    return {
        "samples": len(behind),
        "pg_stat_replication_replay_lag_ms": _spread(lag_ms),
        "wal_bytes_not_replayed": _spread(behind),
        "readyz_lag_versions": _spread(versions),
    }


def _spread(values: list[float]) -> dict[str, float] | None:
    """Median and maximum, rounded (None for no values)."""
    if not values:
        return None
    return {"p50": round(statistics.median(values), 1), "max": round(max(values), 1)}


def check_paused_replay(built: Cluster, n: int = 3) -> dict[str, Any]:
    """Replay paused on the standby: `n` writes through A, each read through B (from the primary,
    since the standby has not replayed them); B's /readyz; replay resumed, B back on the standby."""
    a, b = (s.base for s in built.servers)
    ring, where, statuses = KeyRing(built), Counter[str](), Counter[int]()
    state = _wait_paused(built)
    try:
        with httpx.Client() as client:
            for i in range(n):
                r = write_phase(client, a, ring.next(), f"p{i}")
                statuses[r.status_code] += 1
                if r.status_code == 201:
                    status, went = _first_200(client, b, f"/api/v1/phases/{r.json()['slug']}")
                    statuses[status] += 1
                    where[went] += 1
            ready = client.get(f"{b}/readyz", timeout=10).json()
    finally:
        built.on_standby("SELECT pg_wal_replay_resume()")
    with httpx.Client() as client:
        back = until_standby(client, b, time.monotonic())
    return {
        "pause_state": state,
        "statuses": dict(statuses),
        "reads_while_paused": dict(where),
        "readyz_standby_while_paused": ready.get("standby"),
        "ms_until_b_read_from_the_standby_after_resume": None if back is None else round(back, 1),
    }


AGREE_PATHS = ("/api/v1/phases", "/api/v1/operations", "/api/v1/results?limit=17", "/api/v1/phases?limit=3")


def _body(r: httpx.Response, base: str) -> bytes:
    """A body with the instance's own address taken out (links name the host they were asked on)."""
    return r.content.replace(base.encode(), b"").replace(base.removeprefix("http://").encode(), b"")


def check_agree(built: Cluster) -> dict[str, Any]:
    """The same pages through A (the primary) and B (the standby once replayed), first and cached:
    equal status, ETag and body; each instance's ETag answered 304 by the other."""
    a, b = (s.base for s in built.servers)
    disagree: list[str] = []
    where: Counter[str] = Counter()
    with httpx.Client() as client:
        caught_up = until_standby(client, b, time.monotonic()) if built.standby else None
        for path in AGREE_PATHS:
            for attempt in ("first", "cached"):
                ra = client.get(a + path, timeout=30)
                rb, went = read_where(client, b, path)
                where[f"{attempt}:{went}"] += 1
                if (ra.status_code, ra.headers.get("etag")) != (rb.status_code, rb.headers.get("etag")):
                    disagree.append(
                        f"{attempt} {path}: A {ra.status_code} {ra.headers.get('etag')}, "
                        f"B {rb.status_code} {rb.headers.get('etag')}"
                    )
                elif _body(ra, a) != _body(rb, b):
                    disagree.append(f"{attempt} {path}: bodies differ")
            for one, other in ((a, b), (b, a)):
                etag = client.get(one + path, timeout=30).headers.get("etag", "")
                status = client.get(other + path, headers={"If-None-Match": etag}, timeout=30).status_code
                if status != 304:
                    disagree.append(f"{path}: {other} answered {status} to the ETag of {one}")
    return {
        "paths": len(AGREE_PATHS),
        "standby_caught_up": caught_up is not None,
        "b_reads": dict(where),
        "disagreements": disagree,
    }


# ---------------------------------------------------------------- load around an outage

BACKOFF = 0.1  # seconds a load client waits after a 503 (a real one waits Retry-After)


@dataclass
class Sample:
    """One request of the load: where it went, what it got, when it was sent and answered."""

    base: str
    status: int  # 0: no answer (the app itself went away)
    sent: float
    answered: float
    slug: str | None = None
    retry_after: str | None = None


@dataclass
class Load:
    """Writers and readers running against the instances until stopped, and what they saw."""

    built: Cluster
    writers: list[str]  # one writer per base URL listed
    readers: list[str]  # one reader per base URL listed
    ring: KeyRing
    stop: threading.Event = field(default_factory=threading.Event)
    writes: list[Sample] = field(default_factory=list)
    reads: list[Sample] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def _write(self, base: str) -> None:
        with httpx.Client() as client:
            while not self.stop.is_set():
                sent = time.monotonic()
                r = _safe(lambda: write_phase(client, base, self.ring.next(), "load"))
                status = r.status_code if r is not None else 0
                slug = r.json().get("slug") if r is not None and status == 201 else None
                retry = r.headers.get("retry-after") if r is not None else None
                self.writes.append(Sample(base, status, sent, time.monotonic(), slug, retry))
                if status != 201:
                    time.sleep(BACKOFF)

    def _read(self, base: str, offset: int) -> None:
        with httpx.Client() as client:
            n = offset
            while not self.stop.is_set():
                n += 1
                sent = time.monotonic()
                r = _safe(lambda n=n: client.get(base + uncached(n), timeout=30))  # type: ignore[misc]
                status = r.status_code if r is not None else 0
                retry = r.headers.get("retry-after") if r is not None else None
                self.reads.append(Sample(base, status, sent, time.monotonic(), None, retry))
                if status != 200:
                    time.sleep(BACKOFF)

    def __enter__(self) -> "Load":
        self.threads = [threading.Thread(target=self._write, args=(b,)) for b in self.writers]
        offset = int(time.time()) % 1000 * 10_000  # pages no earlier load read
        self.threads += [
            threading.Thread(target=self._read, args=(b, offset + k * 1_000_000))
            for k, b in enumerate(self.readers)
        ]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def names(self) -> dict[str, str]:
        return {s.base: name for s, name in zip(self.built.servers, "AB", strict=False)}

    def by_instance(self, samples: list[Sample]) -> dict[str, dict[int, int]]:
        """Statuses per instance (A, B)."""
        names, out = self.names(), {}
        for name in sorted(set(names.values())):
            counted = Counter(s.status for s in samples if names.get(s.base) == name)
            if counted:
                out[name] = dict(counted)
        return out

    def first_write_after(self, back: float) -> dict[str, float | None]:
        """Per instance written to, seconds from `back` until a write sent after it was acknowledged
        (None: none was)."""
        names, out = self.names(), {}
        for base in sorted(set(self.writers), key=lambda b: names[b]):
            first = min(
                (s.answered for s in self.writes if s.base == base and s.status == 201 and s.sent > back),
                default=None,
            )
            out[names[base]] = None if first is None else round(first - back, 2)
        return out

    def figures(self, start: float, stopped: float, back: float) -> dict[str, Any]:
        """What the clients saw around an outage from `start` to `back` (stopped: when it was down)."""
        stored = self.built.phase_slugs()
        acked = [s.slug for s in self.writes if s.status == 201 and s.slug]
        unavailable = [s for s in self.writes + self.reads if s.status == 503]
        names = self.names()
        return {
            "stop_s": round(stopped - start, 2),
            "down_s": round(back - start, 2),
            "first_write_after_restart_s": self.first_write_after(back),
            "write_statuses": self.by_instance(self.writes),
            "read_statuses": self.by_instance(self.reads),
            "503_sent_after_back": dict(Counter(names[s.base] for s in unavailable if s.sent > back)),
            "acknowledged_writes": len(acked),
            "lost_acknowledged_writes": sorted(set(acked) - stored),
            "503_without_retry_after": sum(1 for s in unavailable if not s.retry_after),
        }


def restart_under_load(
    built: Cluster,
    stop: Callable[[], None],
    start: Callable[[], None],
    clients: tuple[list[str], list[str]],
    prefill: int,
) -> dict[str, Any]:
    """Load (writers, readers) for a second, `stop`, a second down, `start`, 1.5 s more: the figures."""
    with Load(built, clients[0], clients[1], KeyRing(built, prefill=prefill)) as load:
        time.sleep(1.0)
        t0 = time.monotonic()
        stop()
        stopped = time.monotonic()
        time.sleep(1.0)
        start()
        back = time.monotonic()
        time.sleep(1.5)
    return load.figures(t0, stopped, back)


def check_bouncer_restart(built: Cluster) -> dict[str, Any]:
    """Two writers and a reader through A while PgBouncer is killed (SIGTERM) and started again."""
    a = built.servers[0].base
    return restart_under_load(built, built.stop_bouncer, built.start_bouncer, ([a, a], [a]), prefill=0)


def check_primary_restart(built: Cluster) -> dict[str, Any]:
    """A writer and a reader on each instance while the primary stops (fast) and starts again;
    the keys are made before (a key is a write)."""
    bases = [s.base for s in built.servers]
    return restart_under_load(built, built.stop_primary_fast, built.start_primary_again, (bases, bases), 30)


def check_standby_kill(built: Cluster) -> dict[str, Any]:
    """A writer on A and two readers on B; the standby killed (`pg_ctl stop -m immediate`), 1.5 s
    dead, started again: what the clients saw, and where B's reads went before, while it was dead
    and after."""
    a, b = (s.base for s in built.servers)
    with Load(built, [a], [b, b], KeyRing(built)) as load:
        lag = sample_lag(built, 1.0)
        before = standby_reads(b)
        built.stop_standby()
        killed = standby_reads(b)
        time.sleep(1.5)
        dead = standby_reads(b)
        built.start_standby()
        started = time.monotonic()
        back = _until_count(b, "standby", dead["standby"], within=10)
        time.sleep(0.5)
    after = standby_reads(b)
    return {
        "write_statuses": load.by_instance(load.writes),
        "read_statuses": load.by_instance(load.reads),
        "b_reads_before_the_kill": dict(before),
        "b_reads_at_the_kill": dict(killed - before),
        "b_reads_while_dead": dict(dead - killed),
        "b_reads_after_the_restart": dict(after - dead),
        "s_until_b_read_from_the_standby_again": None if back is None else round(back - started, 2),
        "lag_under_load_before_the_kill": lag,
    }


def _until_count(base: str, outcome: str, above: int, within: float) -> float | None:
    """When the instance's count of `outcome` reads passes `above` (monotonic), or None."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if standby_reads(base)[outcome] > above:
            return time.monotonic()
        time.sleep(0.05)
    return None


def _safe(call: Callable[[], httpx.Response]) -> httpx.Response | None:
    """The response, or None when the client could not get one (the app itself went away)."""
    try:
        return call()
    except httpx.HTTPError:
        return None


def check_shared_limit(built: Cluster, extra: int = 6) -> dict[str, Any]:
    """One new key writes WRITE_LIMIT + `extra` times, alternating A and B."""
    headers = {"Authorization": f"Bearer {built.keys(1)[0]}"}
    bases = [s.base for s in built.servers]
    with httpx.Client() as client:
        codes = [
            write_phase(client, bases[i % 2], headers, f"l{i}").status_code
            for i in range(WRITE_LIMIT + extra)
        ]
    return {
        "limit": WRITE_LIMIT,
        "sent": len(codes),
        "accepted": codes.count(201),
        "refused_429": codes.count(429),
        "other": sorted(c for c in codes if c not in (201, 429)),
    }


# ---------------------------------------------------------------- reads per second


def _read_rate(
    base: str, seconds: float, clients: int, offset: int
) -> tuple[float, Counter[int], Counter[str]]:
    """Reads per second through `base` by `clients` at once (pages no cache holds) for `seconds`;
    their statuses, and where they read."""
    statuses: Counter[int] = Counter()
    lock, stop = threading.Lock(), threading.Event()
    before = standby_reads(base)

    def reader(k: int) -> None:
        n = offset + k * 1_000_000
        with httpx.Client() as client:
            while not stop.is_set():
                n += 1
                status = client.get(base + uncached(n), timeout=30).status_code
                with lock:
                    statuses[status] += 1

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    return statuses.total() / elapsed, statuses, standby_reads(base) - before


def check_read_throughput(
    built: Cluster, seconds: float, rounds: int = 2, clients: int = 4
) -> dict[str, Any]:
    """Reads per second through B with the standby and with it stopped (B then reads the primary),
    alternated `rounds` times after a warm-up; only their ratio means anything on a shared 2-core
    box. Stopped, not unset: B still tries it every DOWN_SECONDS (a refused connection)."""
    b = built.servers[1].base
    rates: dict[str, list[float]] = {"with": [], "without": []}
    where: dict[str, Counter[str]] = {"with": Counter(), "without": Counter()}
    statuses: Counter[int] = Counter()
    offset = 50_000_000
    _read_rate(b, seconds / 2, clients, offset)  # warm-up, not counted: the standby's caches are cold
    for _ in range(rounds):
        for phase in ("with", "without"):
            if phase == "without":
                built.stop_standby()
            with httpx.Client() as client:  # on the standby again (or marked down) before timing
                until_standby(client, b, time.monotonic(), within=6 if phase == "with" else 0.5)
            offset += 10_000_000
            rate, seen, went = _read_rate(b, seconds, clients, offset)
            rates[phase].append(rate)
            where[phase] += went
            statuses += seen
            if phase == "without":
                built.start_standby()
    ratio = statistics.mean(rates["with"]) / statistics.mean(rates["without"])
    return {
        "seconds_each": seconds,
        "rounds": rounds,
        "clients": clients,
        "ratio_with_to_without": round(ratio, 2),
        "ratio_per_round": [round(w / wo, 2) for w, wo in zip(rates["with"], rates["without"], strict=True)],
        "statuses": dict(statuses),
        "b_reads_with": dict(where["with"]),
        "b_reads_without": dict(where["without"]),
    }


# ---------------------------------------------------------------- the run


def run_checks(topo: Topology, writes: int = 50, throughput: float = 0, rounds: int = 2) -> dict[str, Any]:
    """Build, check, tear down: the figures seen (`throughput`: seconds of each reads-per-second
    phase, 0 for none, `rounds` times with and without the standby)."""
    t0 = time.monotonic()
    with cluster(topo) as built:
        report: dict[str, Any] = {"started_s": round(time.monotonic() - t0, 1)}
        report["writes"] = check_writes(built, writes)
        if topo.standby_port:
            report["replay"] = check_replay(built)
            report["paused_replay"] = check_paused_replay(built)
        report["agree"] = check_agree(built)
        if topo.redis_url:  # before the restarts: a write failed by a dead pooled connection counts too
            report["shared_limit"] = check_shared_limit(built)
        if topo.standby_port:
            report["standby_kill"] = check_standby_kill(built)
            if throughput:
                report["read_throughput"] = check_read_throughput(built, throughput, rounds)
        if topo.bouncer_port:
            report["bouncer_restart"] = check_bouncer_restart(built)
        report["primary_restart"] = check_primary_restart(built)
        report["errors_in_logs"] = {s.log.name: _count_in_log(s, "unhandled error") for s in built.servers}
    report["total_s"] = round(time.monotonic() - t0, 1)
    return report


# ---------------------------------------------------------------- what went wrong


def problems(report: dict[str, Any]) -> list[str]:
    """What the report shows went wrong (empty: every check held)."""
    out = _write_problems(report["writes"])
    out += _standby_problems(report)
    out += [f"A and B disagree: {d}" for d in report["agree"]["disagreements"]]
    for name in ("bouncer_restart", "primary_restart"):
        if name in report:
            out += _restart_problems(name, report[name])
    limit = report.get("shared_limit")
    if limit is not None and limit["accepted"] != limit["limit"]:
        out.append(f"shared limit: {limit['accepted']} writes accepted, limit {limit['limit']}")
    if any(report["errors_in_logs"].values()):
        out.append(f"500s logged: {report['errors_in_logs']}")
    return out


def _restart_problems(name: str, r: dict[str, Any]) -> list[str]:
    """What went wrong around one restart."""
    out = []
    statuses = [s for by in (*r["write_statuses"].values(), *r["read_statuses"].values()) for s in by]
    bad = {s for s in statuses if s not in (200, 201, 503)}
    if bad:
        out.append(f"{name}: statuses {sorted(bad)}")
    if r["lost_acknowledged_writes"]:
        out.append(f"{name}: acknowledged writes lost: {r['lost_acknowledged_writes']}")
    if r["503_without_retry_after"]:
        out.append(f"{name}: {r['503_without_retry_after']} answers 503 without Retry-After")
    for instance, after in r["first_write_after_restart_s"].items():
        if after is None:
            out.append(f"{name}: no write through {instance} succeeded after the restart")
    return out


def _write_problems(w: dict[str, Any]) -> list[str]:
    """What went wrong in check_writes."""
    out = []
    if set(w["statuses"]) != {201} or set(w["statuses_direct"]) != {201}:
        out.append(f"writes through A: {w['statuses']}, through B: {w['statuses_direct']}")
    if w["read_through_b_missing"]:
        out.append(f"{len(w['read_through_b_missing'])} writes not readable through B")
    if w["duplicate_prepared_in_log"]:
        out.append(f"DuplicatePreparedStatement {w['duplicate_prepared_in_log']} times in A's log")
    return out


def _standby_problems(report: dict[str, Any]) -> list[str]:
    """What went wrong in the standby's checks (none without a standby)."""
    if "replay" not in report:
        return []
    out = []
    replay, paused, agree, kill = (report[k] for k in ("replay", "paused_replay", "agree", "standby_kill"))
    if set(replay["statuses"]) != {201, 200}:
        out.append(f"replay: statuses {replay['statuses']}")
    if replay["writes_never_read_from_the_standby"]:
        out.append(
            f"replay: {replay['writes_never_read_from_the_standby']} writes never read from the standby"
        )
    if paused["pause_state"] != "paused" or set(paused["statuses"]) != {201, 200}:
        out.append(f"paused replay: state {paused['pause_state']}, statuses {paused['statuses']}")
    if set(paused["reads_while_paused"]) != {"primary"}:
        out.append(
            f"paused replay: B's reads went {paused['reads_while_paused']} (the primary only, expected)"
        )
    standby = paused["readyz_standby_while_paused"] or {}
    if standby.get("state") != "paused" or not standby.get("lag_versions"):
        out.append(f"paused replay: B's /readyz said {standby}")
    if paused["ms_until_b_read_from_the_standby_after_resume"] is None:
        out.append("paused replay: B did not read from the standby again after resume")
    if not agree["b_reads"].get("first:standby"):
        out.append(f"agree: B's answers compared were not the standby's ({agree['b_reads']})")
    out += _kill_problems(kill)
    return out


def _kill_problems(kill: dict[str, Any]) -> list[str]:
    """What went wrong when the standby was killed under load."""
    out = []
    reads = {s for by in kill["read_statuses"].values() for s in by}
    writes = {s for by in kill["write_statuses"].values() for s in by}
    if reads != {200} or writes != {201}:
        out.append(f"standby killed: reads {kill['read_statuses']}, writes {kill['write_statuses']}")
    dead = Counter(kill["b_reads_while_dead"])
    if dead["standby"] or not dead.total():
        out.append(f"standby killed: B's reads while it was dead went {dict(dead)}")
    if kill["s_until_b_read_from_the_standby_again"] is None:
        out.append("standby killed: B never read from it again once it was started")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--no-bouncer", action="store_true", help="A direct too (no PgBouncer)")
    parser.add_argument("--no-standby", action="store_true", help="B reads from the primary")
    parser.add_argument("--no-redis", action="store_true", help="per-process limits")
    parser.add_argument(
        "--no-pooler-setting", action="store_true", help="A through PgBouncer without DATABASE_POOLER"
    )
    parser.add_argument(
        "--bouncer-login-retry",
        type=float,
        default=0.2,
        help="PgBouncer's server_login_retry, seconds (PgBouncer's own default: 15)",
    )
    parser.add_argument(
        "--throughput", type=float, default=0, help="seconds of each reads-per-second phase through B"
    )
    parser.add_argument("--rounds", type=int, default=2, help="reads-per-second phases with and without")
    parser.add_argument("--logs", type=Path, default=None, help="copy the logs here before teardown")
    args = parser.parse_args()
    topo = Topology.local(
        redis_url=None if args.no_redis else REDIS_URL,
        pooler_setting=not args.no_pooler_setting,
        logs_dir=args.logs,
        bouncer_login_retry=args.bouncer_login_retry,
    )
    if args.no_bouncer:
        topo.bouncer_port = None
    if args.no_standby:
        topo.standby_port = None
    report = run_checks(topo, args.writes, args.throughput, args.rounds)
    print(json.dumps(report, indent=2))
    found = problems(report)
    for p in found:
        print(f"cluster: FAIL {p}")
    print("cluster: every check held" if not found else f"cluster: {len(found)} check(s) failed")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
