"""Answers as the data stood at an instant (`at=`): the same read code, run over views of the past.

For the length of one request the session's connection gets temporary views named like the
tables they stand for (`result`, `source`, `phase`, `phasesource`, `operationsource`); both
engines look up an unqualified name in the connection's temporary schema first, so every read
function answers from the data as it stood, unchanged: `result` from the revision table (the state
valid at the instant), the others without the rows created later. Current answers never take
this path. An instant within SETTLE seconds of now is answered once SETTLE has passed, so a write
stamped at or before it has committed and the answer never changes afterwards.
"""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlmodel import Session

from app.models import Result

SETTLE = 1.0  # seconds a write may take between its commit stamp and its commit
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
RESULT_COLUMNS = [c.name for c in Result.__table__.columns]  # type: ignore[attr-defined]
SHADOWED = ("result", "source", "phase", "phasesource", "operationsource")


def parse_instant(text: str) -> datetime:
    """An RFC 3339 timestamp with its offset (e.g. 2026-12-01T10:00:00Z), in UTC; ValueError otherwise."""
    if not RFC3339.match(text.strip()):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2026-12-01T10:00:00Z")
    raw = text.strip().replace("z", "Z").replace("Z", "+00:00")
    head, _, frac_zone = raw.partition(".")
    if frac_zone:  # Python reads at most 6 fractional digits
        digits = re.match(r"\d+", frac_zone)
        frac = digits.group(0) if digits else ""
        raw = f"{head}.{frac[:6].ljust(6, '0')}{frac_zone[len(frac) :]}"
    try:
        return datetime.fromisoformat(raw).astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: 0001-01-01 east of UTC is before year 1
        raise ValueError(f"is not a valid instant: {exc}") from exc


def check_past(at: datetime) -> datetime:
    """The instant, when it is not in the future (the future has no answer yet)."""
    if at > datetime.now(UTC):
        raise ValueError("is in the future: the data can be read only as it stood at a past instant")
    return at


def instant_of(value: str | None) -> datetime | None:
    """The instant a request names, or None when it names none or a malformed one (refused elsewhere)."""
    if not value:
        return None
    try:
        return check_past(parse_instant(value))
    except ValueError:
        return None


def settle(at: datetime) -> None:
    """Wait until every write stamped at or before `at` has committed."""
    wait = (at - datetime.now(UTC)).total_seconds() + SETTLE
    if wait > 0:
        time.sleep(min(wait, SETTLE))


def _literal(conn: Connection, at: datetime) -> str:
    """The instant as a SQL literal comparable with the stored UTC timestamps."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"'{stamp}'" if conn.dialect.name == "sqlite" else f"TIMESTAMPTZ '{stamp}+00:00'"


def view_bodies(conn: Connection, at: datetime) -> dict[str, str]:
    """The SELECT each shadowed table is replaced by, as it stood at `at`."""
    t = _literal(conn, at)
    main = "main." if conn.dialect.name == "sqlite" else ""
    columns = ", ".join("result_id AS id" if c == "id" else c for c in RESULT_COLUMNS)
    created = {name: f"SELECT * FROM {main}{name} WHERE created_at <= {t}" for name in SHADOWED[1:]}
    return {
        "result": f"SELECT {columns} FROM {main}resultrevision "
        f"WHERE valid_from <= {t} AND (valid_to IS NULL OR valid_to > {t})",
        **created,
    }


def _drop(conn: Connection) -> None:
    temp = "temp" if conn.dialect.name == "sqlite" else "pg_temp"
    for name in SHADOWED:
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {temp}.{name}")


@contextmanager
def as_of(session: Session, at: datetime) -> Iterator[Session]:
    """The session, reading the data as it stood at `at` until the block ends. `session.info["as_of"]`
    says so: state kept only for the present (maintained aggregates, caches) must not answer it."""
    settle(at)
    session.info["as_of"] = at
    conn = session.connection()
    _drop(conn)
    for name, body in view_bodies(conn, at).items():
        conn.exec_driver_sql(f"CREATE TEMP VIEW {name} AS {body}")
    try:
        yield session
    finally:
        session.info.pop("as_of", None)
        try:
            _drop(session.connection())
        except Exception:  # an aborted transaction: its rollback drops the views (PostgreSQL)
            session.rollback()
            with suppress(Exception):
                _drop(session.connection())
