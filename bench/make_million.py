"""Build a benchmark database of N results (default 1,000,000) on top of the seeds.

Every generated figure is consistent: its quote is a sentence of a generated source and its offsets
slice that source's text, so the read API serves it like a curated one. Bulk-inserted (not through
the validation path, which the test suite covers) so a million rows load in about a minute.

    DATABASE_URL=sqlite:////tmp/bench.db .venv/bin/python bench/make_million.py --results 1000000
"""

import argparse
import random
import time
from datetime import UTC, date, datetime
from typing import TypedDict

from sqlalchemy import insert, text
from sqlmodel import Session

from app.config import get_settings
from app.curation.totals import mark_stale
from app.db import make_engine, refresh_statistics
from app.models import Phase, Result, ResultRevision, Source
from app.progress import progress_bar
from app.seeds.files import content_hash
from app.seeds.prepare import prepare_database, recompute_stored_totals


class PhaseRow(TypedDict):
    """One generated phase, as inserted (the columns of Phase)."""

    slug: str
    operation_slug: str
    name: str
    kind: str
    start_date: str
    end_date: str
    participants: list[str]
    observers: list[str]


METRICS = [
    ("opium_seized", "t", "tons of opium", 1000.0, "kg"),
    ("heroin_seized", "kg", "kg of heroin", 1.0, "kg"),
    ("criminal_cases_opened", "count", "criminal cases", 1.0, "count"),
    ("firearms_seized", "count", "firearms", 1.0, "count"),
]
QUALIFIERS = [("more than ", "more_than"), ("about ", "about"), ("", "exact")]
OPERATIONS = ["channel", "mercenary", "illegal", "proxy"]
PER_SOURCE = 2000

BUMP_SQL = "UPDATE dataversion SET version = version + 1, content_version = version + 1 WHERE id = 1"


def phases(n_years: int, per_year: int) -> list[PhaseRow]:
    out: list[PhaseRow] = []
    for op in OPERATIONS:
        for year in range(2026 - n_years, 2026):
            for k in range(per_year):
                out.append(
                    {
                        "slug": f"bench-{op}-{year}-{k}",
                        "operation_slug": op,
                        "name": f"Bench {op} {k}",
                        "kind": "bench",
                        "start_date": f"{year}-03-01",
                        "end_date": f"{year}-03-05",
                        "participants": [],
                        "observers": [],
                    }
                )
    return out


def source_batch(session: Session, idx: int, rows: list[tuple[str, str, float, str]]) -> int:
    """Insert one generated source whose sentences state `rows`' figures; returns its id."""
    sentences = [f"In phase {ph} officers seized {q}{v} {words}." for ph, q, v, words in rows]
    body = " ".join(sentences)
    src = Source(
        title=f"Bench release {idx}",
        publisher="bench",
        published_on=date(2025, 1, 1),
        content_hash=content_hash(body),
        text=body,
    )
    session.add(src)
    session.flush()
    return src.id or 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", type=int, default=1_000_000)
    a = ap.parse_args()
    url = get_settings().database_url
    prepare_database(url)
    engine = make_engine(url)
    rnd = random.Random(42)
    ph = phases(24, 10)
    t0 = time.time()
    now = datetime.now(UTC)  # the results' creation: their first (and only) revision starts then
    with Session(engine) as s, progress_bar("make_million", a.results, unit="results") as bar:
        mark_stale(session=s)  # bulk rows bypass the write path: totals are rebuilt at the end
        s.execute(insert(Phase), ph)
        s.commit()
        made = 0
        while made < a.results:
            n = min(PER_SOURCE, a.results - made)
            picks = []
            for _ in range(n):
                p = rnd.choice(ph)
                metric, unit, words, factor, base = rnd.choice(METRICS)
                qtext, qual = rnd.choice(QUALIFIERS)
                value = round(rnd.uniform(1, 900), 1) if unit != "count" else rnd.randint(1, 5000)
                picks.append((p, metric, unit, words, factor, base, qtext, qual, value))
            sid = source_batch(
                s, made // PER_SOURCE, [(p["slug"], q, v, w) for p, _, _, w, _, _, q, _, v in picks]
            )
            pos, rows = 0, []
            body = " ".join(
                f"In phase {p['slug']} officers seized {q}{v} {w}." for p, _, _, w, _, _, q, _, v in picks
            )
            for i, (p, metric, unit, words, factor, base, qtext, qual, value) in enumerate(picks):
                quote = f"In phase {p['slug']} officers seized {qtext}{value} {words}."
                number_start = pos + quote.index(f"{qtext}{value} ") + len(qtext)
                rows.append(
                    {
                        "id": f"bench-{made + i:07d}",
                        "operation_slug": p["operation_slug"],
                        "phase_slug": p["slug"],
                        "metric_slug": metric,
                        "value": float(value),
                        "unit": unit,
                        "number_text": str(value),
                        "value_base": float(value) * factor,
                        "base_unit": base,
                        "qualifier": qual,
                        "scope": "phase",
                        "country": None,
                        "period_start": p["start_date"],
                        "period_end": p["end_date"],
                        "as_of": date(int(p["start_date"][:4]), 3, 6),
                        "source_id": sid,
                        "quote": quote,
                        "quote_start": pos,
                        "quote_end": pos + len(quote),
                        "quote_prefix": body[max(0, pos - 32) : pos],
                        "quote_suffix": body[pos + len(quote) : pos + len(quote) + 32],
                        "number_start": number_start,
                        "number_end": number_start + len(str(value)),
                        "duplicate_of": None,
                        "note": None,
                        "retracted": False,
                        "retracted_reason": None,
                        "revision": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                pos += len(quote) + 1
            s.execute(insert(Result), rows)
            revisions = [{**r, "result_id": r["id"], "valid_from": now, "valid_to": None} for r in rows]
            s.execute(insert(ResultRevision), [{k: v for k, v in r.items() if k != "id"} for r in revisions])
            s.commit()
            made += n
            bar.advance(n)
        s.execute(text(BUMP_SQL))
        s.commit()
    if engine.dialect.name == "postgresql":  # what autovacuum would do soon: statistics and the
        # visibility map, without which the covering indexes cannot answer index-only
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) result"))
            conn.execute(text("VACUUM (ANALYZE) resultrevision"))  # at= reads (its covering indexes)
    refresh_statistics(engine)  # SQLite: the planner's row counts (app/db.py)
    inserted = time.time() - t0
    t1 = time.time()
    with progress_bar("rebuild-aggregates", unit="passes") as bar:
        entries = recompute_stored_totals(engine, actor="bench/make_million.py", progress=bar)
    print(
        f"done: {made} results inserted in {inserted:.0f} s, {entries} totals entries rebuilt in "
        f"{time.time() - t1:.0f} s; {time.time() - t0:.0f} s in all"
    )


if __name__ == "__main__":
    main()
