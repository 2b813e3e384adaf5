"""One benchmark run: data at each size, opstats beside its ceiling and Datasette, written to RESULTS.md.

    .venv/bin/python bench/run.py --sizes 1k,100k,1m [--postgres] [--datasette /tmp/ds-venv/bin/datasette]
    .venv/bin/python bench/run.py --smoke --out /tmp/RESULTS-smoke.md      # CI: tiny, under a minute

For each size it builds (or reuses) a database with bench/make_million.py, then starts, one worker
each, on 127.0.0.1 only: opstats (uvicorn), a bare Starlette app answering opstats' exact bytes per
path (bench/ceiling.py) and, on SQLite, Datasette on the same file. Hot GETs are loaded with wrk
(`-t2 -c32`, bounded duration; a sequential Python client when wrk is absent, and the table says
so); "cold" requests follow a data-version bump, i.e. what the first reader pays after a write,
with the database's files read into the page cache first (then the pages once more with them
dropped from it: disk reads); CSV streams every result next to a plain driver + csv.writer loop
over the same database.
"""

import argparse
import csv
import http.client
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
PG_ADMIN = os.environ.get("OPSTATS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HOT = [
    "/api/v1/operations",
    "/api/v1/operations/channel",
    "/api/v1/operations/channel/totals",
    "/api/v1/totals",
    "/api/v1/results?limit=50",
    "/api/v1/metrics",
]
OPS = ["channel", "mercenary", "illegal", "proxy"]
METRICS = ["opium_seized", "heroin_seized", "criminal_cases_opened", "firearms_seized"]
SORTS = ["-value_base", "value_base", "-as_of", "as_of"]


@dataclass
class Load:
    """What one load of one URL measured."""

    rps: float
    p50: float
    p99: float
    tool: str


@dataclass
class Report:
    """Every figure of one (engine, size) run, and the commands that produced them."""

    engine: str
    size: str
    rows: int
    hot: list[tuple[str, Load, Load, list[float]]] = field(default_factory=list)  # opstats, ceiling, ratios
    cold: list[tuple[str, float, float, int, str]] = field(default_factory=list)
    csv: dict[str, float] = field(default_factory=dict)
    csv_ratios: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, proc: subprocess.Popen[bytes], path: str = "/", timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on {port} exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", path)
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not answer in {timeout} s")


@contextmanager
def server(
    cmd: list[str], env: dict[str, str], port: int, path: str = "/"
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process on 127.0.0.1:port for the duration of the block."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(port, proc, path)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def uvicorn(target: str, port: int, *, factory: bool = False) -> list[str]:
    extra = ["--factory"] if factory else []
    return [PY, "-m", "uvicorn", *extra, target, "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--log-level", "warning", "--no-access-log"]  # fmt: skip


# ---------------------------------------------------------------- clients


def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[float, int, dict[str, str], bytes]:
    """One GET on a new connection: ms, status, headers, body."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t = time.perf_counter()
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    ms = (time.perf_counter() - t) * 1000
    c.close()
    return ms, r.status, {k.lower(): v for k, v in r.getheaders()}, body


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str, label: str) -> float:
    m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def wrk(url: str, seconds: float, headers: dict[str, str], threads: int, conns: int) -> Load:
    """wrk on one URL: requests/s, p50 and p99 latency (ms)."""
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return Load(float(rps.group(1)) if rps else 0.0, _ms(out, "50%"), _ms(out, "99%"), "wrk")


def python_load(port: int, path: str, seconds: float, headers: dict[str, str]) -> Load:
    """Without wrk: one keep-alive connection, sequential requests, for `seconds`."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and len(samples) < 100_000:
        t = time.perf_counter()
        c.request("GET", path, headers=headers)
        c.getresponse().read()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return Load(len(samples) / seconds, percentile(samples, 50), percentile(samples, 99), "python")


def load(port: int, path: str, args: argparse.Namespace, headers: dict[str, str] | None = None) -> Load:
    if shutil.which("wrk"):
        return wrk(
            f"http://127.0.0.1:{port}{path}", args.duration, headers or {}, args.threads, args.connections
        )
    return python_load(port, path, args.duration, headers or {})


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms)) - 1))]


# ---------------------------------------------------------------- data


BUMP_SQL = (
    "UPDATE dataversion SET version = version + 1, content_version = version + 1 WHERE id = 1 "
    "RETURNING version"
)


@dataclass
class Database:
    engine: str
    url: str
    sqlite_path: Path | None

    @contextmanager
    def bumps(self) -> Iterator[Callable[[], int]]:
        """A write as readers see it: the data version moves (caches and ETags are invalidated); the
        new version. Over one kept connection, as the API's pool keeps them: a connection per bump
        made PostgreSQL start and end a server process beside each timed GET (+2 ms p50 of one
        operation's totals on 2 cores, which SQLite's in-process connection does not pay)."""
        sql = BUMP_SQL
        if self.sqlite_path is not None:
            lite = sqlite3.connect(self.sqlite_path, timeout=30, isolation_level=None)
            try:
                yield lambda: int(lite.execute(sql).fetchall()[0][0])  # all: the statement ends, commits
            finally:
                lite.close()
            return
        import psycopg

        with psycopg.connect(self.url.replace("+psycopg", ""), autocommit=True) as pg:
            yield lambda: int(pg.execute(sql).fetchall()[0][0])

    def files(self) -> list[Path]:
        """The files this database keeps here: SQLite's file and WAL; PostgreSQL's folder for it under
        the data directory (naming it takes a superuser, reading it the server's files; else none)."""
        if self.sqlite_path is not None:
            return [p for p in (self.sqlite_path, Path(f"{self.sqlite_path}-wal")) if p.exists()]
        import psycopg

        try:
            with psycopg.connect(self.url.replace("+psycopg", ""), autocommit=True) as c:
                data = c.execute("SHOW data_directory").fetchone()
                oid = c.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()
            folder = Path(str(data[0] if data else "")) / "base" / str(oid[0] if oid else "")
            return [p for p in folder.iterdir() if p.is_file() and os.access(p, os.R_OK)]
        except (psycopg.Error, OSError):
            return []

    def count(self) -> int:
        sql = "SELECT count(*) FROM result"
        try:
            if self.sqlite_path is not None:
                with sqlite3.connect(self.sqlite_path) as c:
                    return int(c.execute(sql).fetchone()[0])
            import psycopg

            with psycopg.connect(self.url.replace("+psycopg", ""), autocommit=True) as c:
                row = c.execute(sql).fetchone()
                return int(row[0]) if row else 0
        except Exception:
            return -1


def database(engine: str, size: str, workdir: Path) -> Database:
    if engine == "sqlite":
        path = workdir / f"opstats-bench-{size}.db"
        return Database("sqlite", f"sqlite:///{path}", path)
    import psycopg

    name = f"opstats_bench_{size}"
    admin = PG_ADMIN.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')
    return Database("postgres", PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", None)


def ensure_data(db: Database, n: int, commands: list[str]) -> int:
    """Build the database with make_million.py unless it already holds n generated results."""
    cmd = f"DATABASE_URL={db.url} {PY} bench/make_million.py --results {n}"
    env = dict(os.environ, DATABASE_URL=db.url, PYTHONPATH=str(ROOT))
    if db.count() >= n and db.count() - n < 100:
        prepare = "from app.seeds.prepare import prepare_database; prepare_database()"
        subprocess.run([PY, "-c", prepare], cwd=ROOT, env=env, check=True)  # migrate, rebuild if stale
        commands.append(f"{cmd}   # (reused: already built; migrated to head, aggregates rebuilt if stale)")
        return db.count()
    if db.sqlite_path is not None:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{db.sqlite_path}{suffix}").unlink(missing_ok=True)
    else:
        _reset_pg(db)
    started = time.time()
    subprocess.run([PY, "bench/make_million.py", "--results", str(n)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    commands.append(f"{cmd}   # {time.time() - started:.0f} s")
    return db.count()


def _reset_pg(db: Database) -> None:
    import psycopg

    name = db.url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


# ---------------------------------------------------------------- scenarios


def median_load(loads: list[Load]) -> Load:
    """The medians of each figure over rounds."""
    return Load(statistics.median(x.rps for x in loads), statistics.median(x.p50 for x in loads),
                statistics.median(x.p99 for x in loads), loads[0].tool)  # fmt: skip


def paired(rounds: int, api: Callable[[], Load], ref: Callable[[], Load]) -> tuple[Load, Load, list[float]]:
    """opstats and its reference in alternating rounds: the medians of each, and each round's ratio.
    Each pair ran back to back, so a drift of this shared machine's speed (it has halved a ceiling's
    req/s within minutes) moves both sides of a ratio, not one."""
    ours, refs = [], []
    for _ in range(max(1, rounds)):
        ours.append(api())
        refs.append(ref())
    ratios = [a.rps / r.rps if r.rps else float("nan") for a, r in zip(ours, refs, strict=True)]
    return median_load(ours), median_load(refs), ratios


def hot(report: Report, api: int, ceiling: int, args: argparse.Namespace) -> None:
    loads: list[tuple[str, str, dict[str, str]]] = [(f"GET {p}", p, {}) for p in HOT]
    for p in HOT[2:3] + HOT[4:5]:
        loads.append((f"GET {p} → 304", p, {"If-None-Match": get(api, p)[2]["etag"]}))
    for name, path, headers in loads:
        ours = partial(load, api, path, args, headers)
        report.hot.append((name, *paired(args.rounds, ours, partial(load, ceiling, path, args, headers))))


@dataclass
class Timed:
    ms: list[float]  # sorted
    stale: int  # answers whose Data-Version was not the bump's: served before the bump was seen

    def row(self, name: str, *notes: str) -> tuple[str, float, float, int, str]:
        """A row of the cold table: p50, p99, n, and the notes (how many answers were stale, if any)."""
        stale = f"{self.stale} of {len(self.ms)} answered the version before the bump" if self.stale else ""
        note = "; ".join(x for x in (*notes, stale) if x)
        return name, statistics.median(self.ms), percentile(self.ms, 99), len(self.ms), note


def timed_after_bump(bump: Callable[[], int], port: int, paths: list[str]) -> Timed:
    """Each path once, right after a bump; the answers checked to be of the new data version."""
    out, stale = [], 0
    for path in paths:
        version = bump()
        ms, status, headers, _ = get(port, path)
        assert status == 200, (path, status)
        stale += headers.get("data-version") != str(version)
        out.append(ms)
    return Timed(sorted(out), stale)


def page_paths(n: int, seed: int = 7) -> list[tuple[str, dict[str, str]]]:
    """Filtered, sorted pages: operation + metric + year + sort, limit 20-100 (each asked once)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        f = {"operation": rnd.choice(OPS), "metric": rnd.choice(METRICS),
             "year": str(rnd.randint(2002, 2025)), "sort": rnd.choice(SORTS),
             "limit": str(rnd.choice([20, 50, 100]))}  # fmt: skip
        out.append(("/api/v1/results?" + "&".join(f"{k}={v}" for k, v in f.items()), f))
    return out


def datasette_path(f: dict[str, str]) -> str:
    """The same filters as Datasette's default table JSON."""
    sort = f["sort"]
    order = f"_sort_desc={sort[1:]}" if sort.startswith("-") else f"_sort={sort}"
    y = f["year"]
    return (f"/bench/result.json?operation_slug={f['operation']}&metric_slug={f['metric']}"
            f"&as_of__gte={y}-01-01&as_of__lte={y}-12-31&retracted=0&{order}&_size={f['limit']}")  # fmt: skip


def page_cache(files: list[Path], *, keep: bool) -> int:
    """Read `files` into the OS page cache (keep) or drop them from it (`posix_fadvise` DONTNEED);
    how many bytes."""
    total = 0
    for path in files:
        with open(path, "rb") as fh:
            if keep:
                while chunk := fh.read(1 << 20):
                    total += len(chunk)
            else:
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
                total += path.stat().st_size
    return total


def cold(report: Report, db: Database, api: int, ds: int | None, samples: int) -> None:
    """Requests right after a bump, with the database's files read into the page cache first: what a
    write costs the next reader, not how soon this machine evicted a file nobody read for minutes
    (its DAMON reclaim does); then the pages again, with those files dropped from it (disk reads)."""
    files = db.files()
    warmed = page_cache(files, keep=True)
    with db.bumps() as bump:
        for path in ["/api/v1/operations/channel/totals", "/api/v1/totals"]:
            t = timed_after_bump(bump, api, [path] * samples)
            report.cold.append(t.row(f"cold GET {path} (after a write)"))
        pages = page_paths(samples * 2)
        t = timed_after_bump(bump, api, [p for p, _ in pages])
        versus = ""
        if ds is not None:
            dms = sorted(get(ds, datasette_path(f))[0] for _, f in pages)
            versus = (
                f"Datasette median {statistics.median(dms):.1f} ms, p99 {percentile(dms, 99):.1f} ms: "
                f"opstats {statistics.median(dms) / statistics.median(t.ms):.1f}× faster (median)"
            )
        name = "cold filtered sorted page with exact total (operation+metric+year+sort)"
        report.cold.append(t.row(name, versus))
        if files:
            page_cache(files, keep=False)
            t = timed_after_bump(bump, api, [p for p, _ in page_paths(samples * 2, seed=8)])
            kept = " (PostgreSQL's shared_buffers kept)" if db.sqlite_path is None else ""
            name = f"the same, other filters, database files dropped from the page cache first{kept}"
            report.cold.append(t.row(name, "disk reads: no target"))
    report.notes.append(
        f"Cold requests: {len(files)} database file(s), {warmed / 2**20:,.0f} MiB, read into the page cache "
        "before them; the last row dropped them from it first." if files else
        "Cold requests: the database's files could not be read here (page cache state as found)."
    )  # fmt: skip


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def stream_csv(api: int, pid: int) -> dict[str, float]:
    """One CSV of every result: rows, rows/s, the server's RSS before and its growth while streaming."""
    get(api, "/api/v1/results?limit=1")
    before = rss_kib(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], rss_kib(pid))

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    c = http.client.HTTPConnection("127.0.0.1", api, timeout=1200)
    t = time.perf_counter()
    c.request("GET", "/api/v1/results?format=csv")
    r = c.getresponse()
    lines = 0
    while chunk := r.read(1 << 20):
        lines += chunk.count(b"\n")
    secs = time.perf_counter() - t
    done.set()
    watcher.join()
    return {"rows": lines - 1, "api_rps": (lines - 1) / secs, "rss_before": before / 1024,
            "rss_growth": (peak[0] - before) / 1024}  # fmt: skip


def csv_rounds(report: Report, db: Database, api: int, pid: int, rounds: int) -> None:
    """The CSV and the plain loop in alternating rounds: medians of rows/s, the median of the rounds'
    ratios, the first round's RSS before and the largest growth."""
    streams, plains = [], []
    for _ in range(max(1, rounds)):
        streams.append(stream_csv(api, pid))
        plains.append(plain_loop(db))
    report.csv.update(
        rows=streams[-1]["rows"],
        api_rps=statistics.median(x["api_rps"] for x in streams),
        plain_rps=statistics.median(plains),
        rss_before=streams[0]["rss_before"],
        rss_growth=max(x["rss_growth"] for x in streams),
    )
    report.csv_ratios = [x["api_rps"] / p for x, p in zip(streams, plains, strict=True)]


PLAIN_SQL = (
    "SELECT r.id, r.operation_slug, r.phase_slug, r.metric_slug, r.value, r.unit, r.number_text, "
    "r.value_base, r.base_unit, r.qualifier, r.scope, r.country, r.period_start, r.period_end, r.as_of, "
    "s.id, s.title, s.published_on, r.quote, r.quote_start, r.quote_end, r.duplicate_of, r.note, "
    "r.retracted, r.retracted_reason, r.updated_at FROM result r JOIN source s ON s.id = r.source_id "
    "WHERE NOT r.retracted ORDER BY r.id"
)


def plain_loop(db: Database) -> float:
    """Rows/s of the plain loop: the driver's cursor into csv.writer, nothing else."""
    with open(os.devnull, "w", newline="") as sink:
        writer = csv.writer(sink)
        t = time.perf_counter()
        n = 0
        if db.sqlite_path is not None:
            with sqlite3.connect(db.sqlite_path) as lite:
                for row in lite.execute(PLAIN_SQL):
                    writer.writerow(row)
                    n += 1
        else:
            import psycopg

            with psycopg.connect(db.url.replace("+psycopg", "")) as pg, pg.cursor(name="plain") as cur:
                cur.itersize = 5000
                cur.execute(PLAIN_SQL)
                for row in cur:
                    writer.writerow(row)
                    n += 1
        return n / (time.perf_counter() - t)


# ---------------------------------------------------------------- one run


def capture(api: int, path: str) -> dict[str, str]:
    _, status, headers, body = get(api, path)
    assert status == 200, (path, status)
    return {"etag": headers["etag"], "content_type": headers["content-type"], "body": body.decode("latin-1")}


def run_one(engine: str, size: str, args: argparse.Namespace, commands: list[str]) -> Report:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db = database(engine, size, workdir)
    rows = ensure_data(db, SIZES[size], commands)
    report = Report(engine, size, rows)
    env = dict(os.environ, DATABASE_URL=db.url, PYTHONPATH=str(ROOT))
    api_port, ceiling_port = free_port(), free_port()
    with server(uvicorn("app.main:create_app", api_port, factory=True), env, api_port, "/healthz") as api:
        bodies = workdir / f"bodies-{engine}-{size}.json"
        bodies.write_text(json.dumps({p: capture(api_port, p) for p in HOT}))
        ceiling_env = dict(env, BENCH_BODIES=str(bodies))
        with server(uvicorn("bench.ceiling:app", ceiling_port), ceiling_env, ceiling_port):
            hot(report, api_port, ceiling_port, args)
        with datasette(db, args) as ds:
            cold(report, db, api_port, ds, args.samples)
        csv_rounds(report, db, api_port, api.pid, args.rounds)
    return report


@contextmanager
def datasette(db: Database, args: argparse.Namespace) -> Iterator[int | None]:
    exe = args.datasette
    if db.sqlite_path is None or not exe or not Path(exe).exists():
        yield None
        return
    port = free_port()
    link = Path(args.workdir) / "bench.db"  # Datasette names the database after the file
    link.unlink(missing_ok=True)
    link.symlink_to(db.sqlite_path)
    cmd = [exe, "serve", str(link), "--host", "127.0.0.1", "--port", str(port),
           "--setting", "sql_time_limit_ms", "60000"]  # fmt: skip
    with server(cmd, dict(os.environ), port, "/-/versions.json"):
        yield port


# ---------------------------------------------------------------- RESULTS.md


def ratio_text(ratios: list[float]) -> str:
    """The median of the rounds' ratios, and each round's when there were several."""
    median = f"{statistics.median(ratios):.2f}"
    return median if len(ratios) < 2 else f"{median} ({', '.join(f'{r:.2f}' for r in ratios)})"


def fmt_hot(report: Report) -> list[str]:
    out = ["| request | opstats req/s | p50 ms | p99 ms | ceiling req/s | p50 ms | p99 ms | ratio |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, a, c, ratios in report.hot:
        out.append(f"| {name} | {a.rps:,.0f} | {a.p50:.2f} | {a.p99:.2f} | {c.rps:,.0f} | {c.p50:.2f} | "
                   f"{c.p99:.2f} | {ratio_text(ratios)} |")  # fmt: skip
    return out


def fmt_report(report: Report) -> list[str]:
    lines = [f"### {report.engine}, {report.size} ({report.rows:,} results)", ""]
    tool = report.hot[0][1].tool if report.hot else "-"
    lines += [f"Hot unchanged-data GETs (load: {tool}):", "", *fmt_hot(report), ""]
    lines += ["| cold request | p50 ms | p99 ms | n | compared |", "|---|---:|---:|---:|---|"]
    lines += [f"| {n} | {p50:.1f} | {p99:.1f} | {k} | {x} |" for n, p50, p99, k, x in report.cold]
    c = report.csv
    lines += ["", "| CSV of every result | rows | rows/s | plain loop rows/s | ratio | RSS before MiB | "
              "RSS growth MiB |", "|---|---:|---:|---:|---:|---:|---:|",
              f"| GET /api/v1/results?format=csv | {c['rows']:,.0f} | {c['api_rps']:,.0f} | "
              f"{c['plain_rps']:,.0f} | {ratio_text(report.csv_ratios)} | {c['rss_before']:.0f} | "
              f"{c['rss_growth']:.0f} |", ""]  # fmt: skip
    return lines + report.notes


def write_results(reports: list[Report], commands: list[str], args: argparse.Namespace) -> None:
    head = [
        "# Benchmark results (bench/run.py)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores "
        f"(shared with other work: figures are noisy), Python {sys.version.split()[0]}, one uvicorn "
        f"worker per server, all on 127.0.0.1. Load: `wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration:g}s --latency`. Ceiling: bench/ceiling.py (bare Starlette on the same uvicorn "
        "answering opstats' exact bytes and ETag per path). Cold: after a data-version bump (the write "
        f"readers see), each request once. Hot loads and the CSV: {args.rounds} alternating round(s) of "
        "opstats and its reference (the ceiling; the plain loop), medians of the rounds; ratio: the "
        "median of the rounds' opstats/reference ratios (each round's in brackets).",
        "",
        "Commands:",
        "",
        *[f"    {c}" for c in commands],
        "",
    ]
    body = [line for r in reports for line in fmt_report(r)]
    Path(args.out).write_text("\n".join(head + body) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1k,100k,1m", help="comma list of 1k, 10k, 100k, 1m")
    ap.add_argument("--engines", default="sqlite", help="comma list of sqlite, postgres")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds of load per URL")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--samples", type=int, default=20, help="cold requests per scenario")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of each hot load and the CSV")
    ap.add_argument("--datasette", default="/tmp/ds-venv/bin/datasette", help="Datasette executable")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "opstats-bench"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    ap.add_argument("--smoke", action="store_true", help="1k rows, 1 s loads, 3 samples, 1 round (CI)")
    args = ap.parse_args()
    if args.smoke:
        args.sizes, args.duration, args.samples, args.rounds = "1k", 1.0, 3, 1
    commands = [" ".join(["python", "bench/run.py", *sys.argv[1:]])]
    reports = [
        run_one(engine, size, args, commands)
        for engine in args.engines.split(",")
        for size in args.sizes.split(",")
    ]
    write_results(reports, commands, args)
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
