"""What a restored database must pass: integrity, migrations at head, every quote at its offsets."""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from app import db as storage
from app.ops.backup import BackupFailed

SHOWN = 5  # problems named in the error (the count says how many there are)
QUOTES_SQL = (
    "SELECT r.id, r.quote, r.quote_start, r.quote_end, r.number_text, r.number_start, r.number_end, s.id"
    " FROM result r JOIN source s ON s.id = r.source_id WHERE NOT r.retracted ORDER BY r.source_id"
)


@dataclass(frozen=True)
class Verified:
    """What the checks after a restore found to hold."""

    revision: str
    integrity: str
    results: int


def integrity(conn: Connection) -> str:
    """SQLite's integrity_check ("ok"); PostgreSQL's restore rebuilt and so re-checked every constraint."""
    if conn.dialect.name != "sqlite":
        return "constraints rebuilt"
    rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check")]
    return "ok" if rows == ["ok"] else "; ".join(rows[:SHOWN])


def misquoted(conn: Connection) -> Iterator[str]:
    """Each non-retracted result whose quote (or number) is not its source's text at its offsets."""
    texts: dict[int, str] = {}
    for rid, quote, qs, qe, number, ns, ne, sid in conn.execute(text(QUOTES_SQL)):
        if sid not in texts:
            texts.clear()  # ordered by source: one text held at a time
            texts[sid] = str(conn.execute(text("SELECT text FROM source WHERE id = :i"), {"i": sid}).scalar())
        body = texts[sid]
        if body[qs:qe] != quote:
            yield f"result {rid}: its quote is not the source's text at [{qs}:{qe}]"
        elif ne > ns and body[ns:ne] != number:
            yield f"result {rid}: {number!r} is not the source's text at [{ns}:{ne}]"


def verify_database(url: str) -> Verified:
    """Check the (restored) database at `url`; BackupFailed names what fails."""
    engine = storage.make_engine(url)
    try:
        revision, head = storage.current_revision(engine), storage.head_revision()
        with engine.connect() as conn:
            checked = integrity(conn)
            bad = list(misquoted(conn))
            results = conn.execute(text("SELECT count(*) FROM result WHERE NOT retracted")).scalar_one()
    finally:
        engine.dispose()
    problems = [] if revision == head else [f"the database is at migration {revision}, not head {head}"]
    problems += [] if checked in ("ok", "constraints rebuilt") else [f"integrity check: {checked}"]
    problems += bad
    if problems:
        listed = "; ".join(problems[:SHOWN]) + (
            f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        )
        raise BackupFailed(f"the restored database fails verification ({len(problems)} problem(s)): {listed}")
    return Verified(revision=str(revision), integrity=checked, results=int(results))
