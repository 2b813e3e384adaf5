"""SIGKILL rounds: concurrent keyed writes, a kill at a random moment, a restart, every request retried.

    .venv/bin/python -m bench.crash --backend sqlite --rounds 10 --writes 200 --clients 32
    .venv/bin/python -m bench.crash --backend postgres --rounds 10 --writes 200 --clients 32

Each round POSTs `writes` results (each its own figure and Idempotency-Key) from `clients` threads,
SIGKILLs the server after a random delay, restarts it and sends every request again with its key.
Checks: every retry is a 201; every write acknowledged before the kill is replayed (same id,
`Idempotent-Replayed`); every figure is stored exactly once with exactly one `create` audit entry;
no "in flight" 409; SQLite `PRAGMA integrity_check` is `ok`. Exit status 1 when a check fails.
"""

import argparse
import json
import random
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.models import AuditLog, Result
from bench.live import Server, fresh_database, new_key
from bench.writers import BULK_LIMITS

QUOTE = "Officers seized {} firearms."


def figure_body(source_id: int, value: int) -> dict[str, Any]:
    """One result whose figure is unique to this request."""
    return {
        "operation": "channel",
        "scope": "cumulative",
        "metric": "firearms_seized",
        "value": value,
        "unit": "count",
        "quote": QUOTE.format(value),
        "source_id": source_id,
    }


def add_round_source(base: str, key: str, values: list[int]) -> int:
    """A source stating every figure of one round."""
    body = {
        "text": "\n".join(QUOTE.format(v) for v in values),
        "title": f"crash round {values[0]}",
        "publisher": "bench",
        "published_on": "2025-01-01",
    }
    r = httpx.post(
        base + "/api/v1/sources", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    r.raise_for_status()
    return int(r.json()["id"])


def fire(base: str, key: str, bodies: list[dict[str, Any]], clients: int, tag: str) -> list[tuple[int, str]]:
    """Send every body with its key; (status or 0 for no answer, result id or '')."""
    out: list[tuple[int, str]] = [(0, "")] * len(bodies)
    local = threading.local()

    def one(i: int) -> None:
        if not hasattr(local, "c"):
            local.c = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {key}"})
        try:
            r = local.c.post("/api/v1/results", json=bodies[i], headers={"Idempotency-Key": f"{tag}-{i}"})
        except httpx.HTTPError:
            local.c = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {key}"})
            return
        rid = r.json().get("id", "") if r.status_code == 201 else ""
        replayed = "R" if r.headers.get("idempotent-replayed") == "true" else ""
        out[i] = (r.status_code, f"{rid}{'|' + replayed if replayed else ''}")

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(len(bodies))))
    return out


def audit_problems(engine: Engine, values: list[int]) -> tuple[list[str], dict[int, str]]:
    """Figures not stored exactly once, or without exactly one create entry; and each figure's id."""
    problems: list[str] = []
    ids: dict[int, str] = {}
    with Session(engine) as s:
        for v in values:
            rows = list(s.exec(select(Result.id).where(col(Result.quote) == QUOTE.format(v))))
            if len(rows) != 1:
                problems.append(f"value {v}: {len(rows)} results")
                continue
            ids[v] = rows[0]
            creates = s.exec(
                select(func.count()).where(
                    col(AuditLog.entity) == "result",
                    col(AuditLog.entity_id) == rows[0],
                    col(AuditLog.action) == "create",
                )
            ).one()
            if creates != 1:
                problems.append(f"value {v}: {creates} create entries")
    return problems, ids


def integrity(engine: Engine) -> str:
    """SQLite's own check of the file; PostgreSQL: 'ok' when it answers."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return str(conn.execute(text("PRAGMA integrity_check")).scalar())
        conn.execute(text("SELECT 1"))
        return "ok"


def one_round(server: Server, engine: Engine, key: str, n: int, clients: int, rnd: int) -> dict[str, Any]:
    """One kill-and-retry round; its figures and any problems."""
    values = [100_000 + rnd * 10_000 + i for i in range(n)]
    source_id = add_round_source(server.base, key, values)
    bodies = [figure_body(source_id, v) for v in values]
    tag = f"crash-{rnd}"
    delay = random.uniform(0.05, 0.2 + n * 0.01)
    killer = threading.Timer(delay, server.kill)
    killer.start()
    first = fire(server.base, key, bodies, clients, tag)
    killer.join()
    server.start()
    second = fire(server.base, key, bodies, clients, tag)
    problems, ids = audit_problems(engine, values)
    for i, ((c1, id1), (c2, id2)) in enumerate(zip(first, second, strict=True)):
        if c2 != 201:
            problems.append(f"retry {i}: {c2}")
        elif c1 == 201 and (id2.split("|")[0] != id1.split("|")[0] or not id2.endswith("|R")):
            problems.append(f"retry {i}: acknowledged {id1} but got {id2}")
        elif c1 >= 500:
            problems.append(f"request {i}: {c1} before the kill")
    check = integrity(engine)
    if check != "ok":
        problems.append(f"integrity_check: {check}")
    return {
        "round": rnd,
        "kill_after_s": round(delay, 2),
        "acknowledged": sum(c == 201 for c, _ in first),
        "unanswered": sum(c == 0 for c, _ in first),
        "replayed_on_retry": sum(i.endswith("|R") for _, i in second),
        "written_on_retry": sum(c == 201 and not i.endswith("|R") for c, i in second),
        "stored_once": len(ids),
        "integrity": check,
        "problems": problems[:10],
    }


def run(backend: str, rounds: int, writes: int, clients: int, tmp: Path) -> dict[str, Any]:
    """`rounds` rounds on one fresh database; a summary."""
    with fresh_database(backend, tmp) as url:
        server = Server(url=url, log=tmp / "server.log", env=BULK_LIMITS)
        server.start()
        from app.db import make_engine

        engine = make_engine(url)
        key = new_key(engine)
        out = []
        try:
            for rnd in range(rounds):
                t = time.perf_counter()
                res = one_round(server, engine, key, writes, clients, rnd)
                res["seconds"] = round(time.perf_counter() - t, 1)
                out.append(res)
                print(json.dumps(res), flush=True)
        finally:
            server.stop()
            engine.dispose()
    survived = sum(not r["problems"] for r in out)
    return {
        "backend": backend,
        "rounds": rounds,
        "survived": survived,
        "writes_verified": sum(r["stored_once"] for r in out),
        "acknowledged_before_kill": sum(r["acknowledged"] for r in out),
        "ok": survived == rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        summary = run(args.backend, args.rounds, args.writes, args.clients, Path(tmp))
    print(json.dumps(summary))
    raise SystemExit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
