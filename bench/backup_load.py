"""A backup taken under a stream of keyed writes, restored into a fresh database: nothing lost.

    .venv/bin/python -m bench.backup_load --backend sqlite --clients 4 --warmup 40 --after 40
    .venv/bin/python -m bench.backup_load --backend postgres --clients 4 --warmup 40 --after 40

`clients` threads POST sources (each its own Idempotency-Key) to a running `opstats serve`; once
`warmup` are acknowledged `opstats db backup` runs, the stream goes on until `after` more are, then
stops. The backup is restored (`opstats db restore --yes`) into a fresh database. Checks: every write
acknowledged before the backup began is there; nothing there that was never sent; the data version
is the one the backup reported, between the versions before and after it, and is the seeded version
plus the writes it holds (a snapshot, not a mix); `opstats export` of the restore is the source's
export without the writes made after the snapshot; a second backup with the stream stopped restores
to an export equal byte for byte. Exit status 1 when a check fails.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import make_engine
from bench.live import ROOT, fresh_database, new_key, running
from bench.writers import BULK_LIMITS

TITLE = "load {}"
VERSION_SAID = re.compile(r"data version (\d+)\) in ([0-9.]+) s")


def opstats(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `opstats` command line on the database at `url`."""
    run_env = {**os.environ, **(env or {}), "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=run_env, capture_output=True, text=True
    )


@dataclass
class Stream:
    """Keyed writes from several threads until stopped; what was sent and what was acknowledged."""

    base: str
    key: str
    sent: set[int] = field(default_factory=set)
    acked: dict[int, int] = field(default_factory=dict)  # write number -> source id
    failures: dict[str, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0

    def _next(self) -> int:
        with self.lock:
            self.counter += 1
            self.sent.add(self.counter)
            return self.counter

    def _writer(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base, timeout=60, headers=headers) as c:
            while not self.stop.is_set():
                i = self._next()
                body = {"text": f"Load document {i}: nothing was seized.", "title": TITLE.format(i)}
                body |= {"publisher": "bench", "published_on": "2025-01-01", "language": "en"}
                try:
                    r = c.post("/api/v1/sources", json=body, headers={"Idempotency-Key": f"load-{i}"})
                    said = str(r.status_code)
                except httpx.HTTPError as exc:
                    said = type(exc).__name__
                with self.lock:
                    if said == "201":
                        self.acked[i] = int(r.json()["id"])
                    else:
                        self.failures[said] = self.failures.get(said, 0) + 1

    def start(self, clients: int) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._writer, daemon=True) for _ in range(clients)]
        for t in threads:
            t.start()
        return threads

    def wait_for(self, count: int, timeout: float = 120) -> None:
        """Block until `count` writes are acknowledged in all."""
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def snapshot(self) -> dict[int, int]:
        with self.lock:
            return dict(self.acked)


def data_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT version FROM dataversion WHERE id = 1")).scalar_one())


def stream_writes(url: str) -> dict[int, int]:
    """The stream's writes stored in a database: write number -> source id."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, title FROM source WHERE title LIKE 'load %'")).all()
    finally:
        engine.dispose()
    return {int(title.split()[1]): int(sid) for sid, title in rows}


def export_of(url: str, out: Path) -> dict[str, bytes]:
    """`opstats export` of a database: relative path -> bytes."""
    done = opstats(url, "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def by_content(files: dict[str, bytes]) -> dict[str, bytes]:
    """An export keyed without the files' position numbers ("sources/042_<hash>.txt" ->
    "sources/<hash>.txt", the same in sources.yaml): on PostgreSQL a snapshot may hold a source with
    a higher id than one committed after it, so the numbers of the later files differ."""
    unnumbered = re.compile(rb"(?<![0-9])[0-9]{3,}_(?=[0-9a-f]{16}\.txt)")
    return {re.sub(r"/[0-9]{3,}_", "/", k): unnumbered.sub(b"", v) for k, v in files.items()}


def export_without(full: dict[str, bytes], kept: dict[str, bytes], later: int) -> bool:
    """True when `kept` is `full` less `later` API sources: each one's two files (text and results)
    and its entry in sources.yaml; every other file the same, sources.yaml's rest in order."""
    full, kept = by_content(full), by_content(kept)
    dropped = set(full) - set(kept)
    files = {k for k in kept if k.startswith("sources/")}
    listed = [e for e in yaml.safe_load(full["sources.yaml"]) if f"sources/{e['file']}" in files]
    return (
        all(full.get(k) == v for k, v in kept.items() if k != "sources.yaml")
        and yaml.safe_load(kept["sources.yaml"]) == listed
        and len(dropped) == 2 * later
        and all(k.startswith(("sources/", "results/")) for k in dropped)
    )


def backup(url: str, file: Path, env: dict[str, str] | None = None) -> tuple[int, float, int]:
    """`opstats db backup`: the data version it reports, the seconds it reports (the copy itself,
    without the command's start-up) and the file's size."""
    done = opstats(url, "db", "backup", str(file), env=env)
    assert done.returncode == 0, done.stderr
    said = VERSION_SAID.search(done.stdout)
    assert said is not None, done.stdout
    return int(said.group(1)), float(said.group(2)), file.stat().st_size


def restore(url: str, file: Path) -> float:
    """`opstats db restore --yes`: the seconds it reports (check, replace, migrate, verify)."""
    done = opstats(url, "db", "restore", str(file), "--yes")
    assert done.returncode == 0, done.stderr
    said = re.search(r"in ([0-9.]+) s$", done.stdout.strip())
    assert said is not None, done.stdout
    return float(said.group(1))


def run(backend: str, tmp: Path, *, clients: int = 4, warmup: int = 40, after: int = 40) -> dict[str, Any]:
    """One backup under load and its restore; the figures as a dict (`ok`: every check holds)."""
    with running(backend, tmp, env=BULK_LIMITS) as (server, engine):
        stream = Stream(server.base, new_key(engine))
        base_version = data_version(engine)
        threads = stream.start(clients)
        stream.wait_for(warmup)
        before, v_before = stream.snapshot(), data_version(engine)
        reported, backup_s, size = backup(server.url, tmp / "under-load.backup")
        v_after, during = data_version(engine), len(stream.snapshot()) - len(before)
        stream.wait_for(len(stream.snapshot()) + after)
        stream.stop.set()
        for t in threads:
            t.join()
        stored = stream_writes(server.url)
        source_export = export_of(server.url, tmp / "export-source")
        quiet_version, quiet_s, _ = backup(server.url, tmp / "quiet.backup")
        with fresh_database(backend, tmp) as target, fresh_database(backend, tmp) as quiet_target:
            restore_s = restore(target, tmp / "under-load.backup")
            found = stream_writes(target)
            restored_engine = make_engine(target)
            restored_version = data_version(restored_engine)
            restored_engine.dispose()
            restored_export = export_of(target, tmp / "export-restored")
            restore(quiet_target, tmp / "quiet.backup")
            quiet_equal = export_of(quiet_target, tmp / "export-quiet") == source_export
    lost = sorted(set(before) - set(found))
    versions = {"before": v_before, "reported": reported, "restored": restored_version, "after": v_after}
    figures: dict[str, object] = {
        "backend": backend,
        "clients": clients,
        "writes_acked": len(stream.acked),
        "write_failures": stream.failures,
        "acked_before_backup": len(before),
        "acked_during_backup": during,
        "stored_in_source": len(stored),
        "found_after_restore": len(found),
        "acked_before_backup_lost": lost,
        "never_sent_but_found": sorted(set(found) - stream.sent),
        "backup_seconds": round(backup_s, 2),
        "backup_bytes": size,
        "restore_seconds": round(restore_s, 2),
        "data_version": versions,
        "snapshot_whole": restored_version == base_version + len(found),
        "export_is_source_less_later_writes": export_without(
            source_export, restored_export, len(stored) - len(found)
        ),
        "quiet_backup_version": quiet_version,
        "quiet_backup_seconds": round(quiet_s, 2),
        "quiet_export_equal": quiet_equal,
    }
    figures["ok"] = (
        not lost
        and not figures["never_sent_but_found"]
        and all(found[i] == sid for i, sid in before.items())
        and versions["before"] <= versions["reported"] == versions["restored"] <= versions["after"]
        and figures["snapshot_whole"]
        and figures["export_is_source_less_later_writes"]
        and quiet_equal
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=40, help="writes acknowledged before the backup")
    parser.add_argument("--after", type=int, default=40, help="writes acknowledged after it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args.backend, Path(tmp), clients=args.clients, warmup=args.warmup, after=args.after)
    print(json.dumps(figures))
    raise SystemExit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
