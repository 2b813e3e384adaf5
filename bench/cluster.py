"""A deployment past one machine, built on this one from the real engines, checked, torn down.

`python -m bench.cluster` (or `cluster(Topology.local())` in code, tests/test_cluster.py) builds:
its own PostgreSQL primary (`initdb` into a temporary directory, run as the `postgres` user, its own
port and socket directory: the cluster on 5432 is never touched), PgBouncer in transaction mode in
front of it, and two `opstats serve` instances sharing rate limits in Redis: A through PgBouncer
(DATABASE_POOLER=transaction, DATABASE_LISTEN_URL direct), B direct. Then it checks:

- writes through A are read through B; no 5xx, no DuplicatePreparedStatement in A's log; ETags agree;
- PgBouncer restarted under load: 503 + Retry-After at worst, never a 500, no acknowledged write lost;
- a key's write limit holds for the sum of its writes to A and B (Redis).

Everything is torn down on exit, failure or Ctrl-C. A standby (`pg_basebackup -R`, another port) is
an optional part of the Topology still to be built (`standby_port`); the primary's pg_hba.conf already
trusts replication from 127.0.0.1 (initdb -A trust).
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from app.db import make_engine
from bench.live import Server, free_port, new_key

PG_BIN = Path(os.environ.get("OPSTATS_PG_BIN", "/usr/lib/postgresql/15/bin"))
PGBOUNCER = os.environ.get("OPSTATS_PGBOUNCER", "/usr/sbin/pgbouncer")
REDIS_URL = os.environ.get("OPSTATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DB = "opstats"
WRITE_LIMIT = 20  # per key per minute on both instances: small enough to check, keys rotate under load


@dataclass
class Topology:
    """What to build: ports (free ones by default), Redis, and the optional parts."""

    root: Path
    primary_port: int = field(default_factory=free_port)
    bouncer_port: int | None = field(default_factory=free_port)  # None: no PgBouncer, A goes direct
    app_ports: tuple[int, int] = field(default_factory=lambda: (free_port(), free_port()))
    redis_url: str | None = REDIS_URL  # None: per-process limits
    key_prefix: str = field(default_factory=lambda: f"opstats-cluster-{uuid.uuid4().hex[:10]}")
    pooler_setting: bool = True  # False: A through PgBouncer without DATABASE_POOLER (the failure)
    logs_dir: Path | None = None  # where the logs are copied before the directory goes
    standby_port: int | None = None  # to come: a streaming standby (pg_basebackup -R) for DATABASE_READ_URL

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


def as_postgres(cmd: list[str]) -> list[str]:
    """`cmd` run as the postgres user (initdb and pgbouncer refuse root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def run(cmd: list[str], **kwargs: Any) -> None:
    """Run a set-up command; its output in the exception when it fails."""
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")


def owned(path: Path) -> Path:
    """A directory the postgres user owns (when run as root)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


@dataclass
class Cluster:
    """The running topology: its processes and what the checks need to reach them."""

    topo: Topology
    servers: list[Server] = field(default_factory=list)
    bouncer_pid: int | None = None

    # ------------------------------------------------------------ PostgreSQL primary

    def start_primary(self) -> None:
        """initdb (trust, replication from 127.0.0.1 included), start on its own port and socket dir."""
        data = owned(self.topo.root / "primary")
        run(as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-N"]))
        opts = f"-p {self.topo.primary_port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=100"
        log = data / "server.log"
        run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start"]))
        admin = make_engine(self.topo.direct_url().rsplit("/", 1)[0] + "/postgres")
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{DB}"'))
        admin.dispose()

    def _pg_ctl(self, *args: str) -> None:
        data = self.topo.root / "primary"
        run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), *args]))

    def stop_primary_fast(self) -> None:
        """A fast shutdown: sessions are ended, transactions in flight rolled back."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def start_primary_again(self) -> None:
        data = self.topo.root / "primary"
        opts = f"-p {self.topo.primary_port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._pg_ctl("-l", str(data / "server.log"), "-o", opts, "-w", "start")

    def stop_primary(self) -> None:
        data = self.topo.root / "primary"
        if (data / "postmaster.pid").exists():
            run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]))

    # ------------------------------------------------------------ PgBouncer

    def write_bouncer_config(self) -> Path:
        """Transaction mode, trust, every database to the primary."""
        work = owned(self.topo.root / "pgbouncer")
        (work / "userlist.txt").write_text('"postgres" ""\n')
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
        )
        for path in work.iterdir():
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
        return ini

    def start_bouncer(self) -> None:
        """Start PgBouncer (daemonized) and wait until it accepts connections."""
        ini = self.write_bouncer_config()
        run(as_postgres([PGBOUNCER, "-d", str(ini)]))
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
        """A (through PgBouncer, listener direct) and B (direct), started at once: two processes
        preparing one empty database, one of them through the pooler."""
        topo = self.topo
        common = {"RATE_LIMIT_WRITES": f"{WRITE_LIMIT}/minute", "LOG_FORMAT": "json"}
        if topo.redis_url:
            common |= {"RATE_LIMIT_STORAGE": topo.redis_url, "RATE_LIMIT_KEY_PREFIX": topo.key_prefix}
        pooled = {"DATABASE_LISTEN_URL": topo.direct_url()}
        if topo.pooler_setting and topo.bouncer_port:
            pooled["DATABASE_POOLER"] = "transaction"
        self.servers = [
            Server(topo.pooled_url(), topo.root / "app-a.log", common | pooled, topo.app_ports[0]),
            Server(topo.direct_url(), topo.root / "app-b.log", dict(common), topo.app_ports[1]),
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
        engine = make_engine(self.topo.direct_url())
        try:
            with engine.connect() as conn:
                return {row[0] for row in conn.execute(text("SELECT slug FROM phase"))}
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
        stack.callback(built.stop_primary)
        built.start_primary()
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
    direct figure); then the ETags of A and B for the same state compared."""
    a, b = (s.base for s in built.servers)
    ring = KeyRing(built)
    pooled = _concurrently(a, b, ring, n)
    direct = _concurrently(b, a, ring, n)
    with httpx.Client() as client:
        etags = {base: client.get(f"{base}/api/v1/phases").headers.get("etag") for base in (a, b)}
    return {
        "writes": n,
        "clients": CONCURRENCY,
        "statuses": dict(pooled.statuses),
        "statuses_direct": dict(direct.statuses),
        "read_through_b_missing": pooled.missing,
        "read_through_b_retried": pooled.retried,
        "write_ms_p50_pooled": round(statistics.median(pooled.latencies), 1),
        "write_ms_p50_direct": round(statistics.median(direct.latencies), 1),
        "etags_agree": len(set(etags.values())) == 1 and None not in etags.values(),
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


BACKOFF = 0.1  # seconds a load client waits after a 503 (a real one waits Retry-After)


@dataclass
class Load:
    """Writers and a reader running against the instances until stopped, and what they saw."""

    built: Cluster
    writers: list[str]  # one writer per base URL listed
    reader: str
    ring: KeyRing
    stop: threading.Event = field(default_factory=threading.Event)
    writes: list[tuple[int, str | None, str | None, float]] = field(default_factory=list)
    reads: Counter[int] = field(default_factory=Counter)
    threads: list[threading.Thread] = field(default_factory=list)

    def _write(self, base: str) -> None:
        with httpx.Client() as client:
            while not self.stop.is_set():
                r = _safe(lambda: write_phase(client, base, self.ring.next(), "load"))
                status = r.status_code if r is not None else 0
                slug = r.json().get("slug") if r is not None and status == 201 else None
                retry = r.headers.get("retry-after") if r is not None else None
                self.writes.append((status, slug, retry, time.monotonic()))
                if status != 201:
                    time.sleep(BACKOFF)

    def _read(self) -> None:
        with httpx.Client() as client:
            n = 0
            while not self.stop.is_set():
                n += 1  # a new limit each time: not served from the response cache
                url = f"{self.reader}/api/v1/results?limit={1 + n % 400}"
                r = _safe(lambda url=url: client.get(url, timeout=30))  # type: ignore[misc]
                self.reads[r.status_code if r is not None else 0] += 1
                if r is None or r.status_code != 200:
                    time.sleep(BACKOFF)

    def __enter__(self) -> "Load":
        self.threads = [threading.Thread(target=self._write, args=(b,)) for b in self.writers]
        self.threads.append(threading.Thread(target=self._read))
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def figures(self, start: float, stopped: float, back: float) -> dict[str, Any]:
        """What the clients saw around an outage from `start` to `back` (stopped: when it was down)."""
        stored = self.built.phase_slugs()
        acked = [slug for status, slug, _, _ in self.writes if status == 201 and slug]
        unavailable = [ra for s, _, ra, _ in self.writes if s == 503]
        first_after = min((at for s, _, _, at in self.writes if s == 201 and at > back), default=None)
        return {
            "stop_s": round(stopped - start, 2),
            "down_s": round(back - start, 2),
            "first_write_after_restart_s": None if first_after is None else round(first_after - back, 2),
            "write_statuses": dict(Counter(s for s, _, _, _ in self.writes)),
            "read_statuses": dict(self.reads),
            "acknowledged_writes": len(acked),
            "lost_acknowledged_writes": sorted(set(acked) - stored),
            "503_without_retry_after": sum(1 for ra in unavailable if not ra),
        }


def restart_under_load(
    built: Cluster, stop: Callable[[], None], start: Callable[[], None], writers: list[str], prefill: int
) -> dict[str, Any]:
    """Load for a second, `stop`, a second down, `start`, 1.5 s more load: the figures."""
    with Load(built, writers, built.servers[0].base, KeyRing(built, prefill=prefill)) as load:
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
    return restart_under_load(built, built.stop_bouncer, built.start_bouncer, [a, a], prefill=0)


def check_primary_restart(built: Cluster) -> dict[str, Any]:
    """A writer on A, one on B and a reader on A while the primary stops (fast) and starts again;
    the keys are made before (a key is a write)."""
    bases = [s.base for s in built.servers]
    return restart_under_load(built, built.stop_primary_fast, built.start_primary_again, bases, prefill=30)


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


def run_checks(topo: Topology, writes: int = 50) -> dict[str, Any]:
    """Build, check, tear down: the figures seen."""
    t0 = time.monotonic()
    with cluster(topo) as built:
        report: dict[str, Any] = {"started_s": round(time.monotonic() - t0, 1)}
        report["writes"] = check_writes(built, writes)
        if topo.redis_url:  # before the restarts: a write failed by a dead pooled connection counts too
            report["shared_limit"] = check_shared_limit(built)
        if topo.bouncer_port:
            report["bouncer_restart"] = check_bouncer_restart(built)
        report["primary_restart"] = check_primary_restart(built)
        report["errors_in_logs"] = {s.log.name: _count_in_log(s, "unhandled error") for s in built.servers}
    report["total_s"] = round(time.monotonic() - t0, 1)
    return report


def problems(report: dict[str, Any]) -> list[str]:
    """What the report shows went wrong (empty: every check held)."""
    out = _write_problems(report["writes"])
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
    bad = {s for s in (*r["write_statuses"], *r["read_statuses"]) if s not in (200, 201, 503)}
    if bad:
        out.append(f"{name}: statuses {sorted(bad)}")
    if r["lost_acknowledged_writes"]:
        out.append(f"{name}: acknowledged writes lost: {r['lost_acknowledged_writes']}")
    if r["503_without_retry_after"]:
        out.append(f"{name}: {r['503_without_retry_after']} answers 503 without Retry-After")
    if r["first_write_after_restart_s"] is None:
        out.append(f"{name}: no write succeeded after the restart")
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
    if not w["etags_agree"]:
        out.append("A and B answered different ETags for the same state")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--no-bouncer", action="store_true", help="A direct too (no PgBouncer)")
    parser.add_argument("--no-redis", action="store_true", help="per-process limits")
    parser.add_argument(
        "--no-pooler-setting", action="store_true", help="A through PgBouncer without DATABASE_POOLER"
    )
    parser.add_argument("--logs", type=Path, default=None, help="copy the logs here before teardown")
    args = parser.parse_args()
    topo = Topology.local(
        redis_url=None if args.no_redis else REDIS_URL,
        pooler_setting=not args.no_pooler_setting,
        logs_dir=args.logs,
    )
    if args.no_bouncer:
        topo.bouncer_port = None
    report = run_checks(topo, args.writes)
    print(json.dumps(report, indent=2))
    found = problems(report)
    for p in found:
        print(f"cluster: FAIL {p}")
    print("cluster: every check held" if not found else f"cluster: {len(found)} check(s) failed")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
