"""`opstats db restore FILE --yes`: check the file, replace the database with it, verify, new epoch.

The file is checked before the database is touched: a truncated or foreign file is refused with the
database as it was. SQLite: the file is copied to a temporary folder and that copy is checked (the
header's magic and page count against its size, `PRAGMA integrity_check`, opstats' tables and a
migration this code knows) and then copied into the database with the backup API (one write
transaction: readers see the old database or the new one). PostgreSQL: `pg_restore --list` names
opstats' tables, and a full read of the file (`pg_restore -f /dev/null`) meets its end; then
`pg_restore --clean --if-exists --no-owner --single-transaction` (all or nothing; the foreign keys
and unique indexes are rebuilt over the data, so they are checked again).
Afterwards: migrations to head, the checks of app/ops/verify.py, and a new database epoch, so no
ETag from before is confirmed and no cached body served (running servers notice: SQLite's
data_version, PostgreSQL's NOTIFY).
"""

import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import db as storage
from app.ops.backup import (
    SQLITE_MAGIC,
    BackupFailed,
    pg_data_version,
    pg_target,
    pg_tool,
    run_tool,
    sqlite_path,
)
from app.ops.verify import Verified, verify_database
from app.progress import SILENT, Progress
from app.versions import CHANNEL

OPSTATS_TABLES = frozenset({"alembic_version", "dataversion", "databaseepoch", "source", "result"})


@dataclass(frozen=True)
class Checked:
    """What a backup file holds, as far as the checks before a restore read it."""

    revision: str
    data_version: int | None


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    checked: Checked
    verified: Verified
    epoch: str
    seconds: float


def known_revision(revision: str | None, file: Path) -> str:
    """The file's migration, refused when missing or unknown to this code (a newer opstats made it)."""
    if not revision:
        raise BackupFailed(f"{file} is not an opstats backup: it has no migration (alembic_version)")
    try:
        found = ScriptDirectory.from_config(storage.alembic_config()).get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise BackupFailed(
            f"{file} is at migration {revision}, which this opstats does not know (made by a newer one?)"
        )
    return revision


# ---------------------------------------------------------------- SQLite


def sqlite_header(file: Path) -> None:
    """Refuse a file that is not a whole SQLite database: magic, then page size x count = its size."""
    with file.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise BackupFailed(f"{file} is not a SQLite database (no SQLite header)")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, counted_at, changed = (int.from_bytes(head[i : i + 4], "big") for i in (28, 92, 24))
    size = file.stat().st_size
    if counted_at == changed and pages and page_size * pages != size:
        raise BackupFailed(
            f"{file} is truncated or damaged: its header says {page_size * pages} bytes, the file has {size}"
        )
    if size % page_size:
        raise BackupFailed(
            f"{file} is truncated: {size} bytes is not a whole number of {page_size}-byte pages"
        )


def sqlite_contents(copy: Path, file: Path) -> Checked:
    """integrity_check, opstats' tables and migration of a (temporary copy of a) backup file."""
    conn = sqlite3.connect(copy)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            raise BackupFailed(f"{file} fails SQLite's integrity check: {'; '.join(problems[:3])}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = OPSTATS_TABLES - tables
        if missing:
            raise BackupFailed(f"{file} is not an opstats backup: no table {', '.join(sorted(missing))}")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        version = conn.execute("SELECT version FROM dataversion WHERE id = 1").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupFailed(f"{file} cannot be read as a SQLite database: {exc}") from exc
    finally:
        conn.close()
    return Checked(known_revision(row[0] if row else None, file), int(version[0]) if version else None)


@contextmanager
def checked_sqlite_copy(file: Path) -> Iterator[tuple[Path, Checked]]:
    """A temporary copy of the backup, checked: what is restored is exactly what was checked."""
    sqlite_header(file)
    with tempfile.TemporaryDirectory(prefix="opstats-restore-") as tmp:
        copy = Path(tmp) / "backup.db"
        try:
            shutil.copyfile(file, copy)
        except OSError as exc:
            raise BackupFailed(f"cannot copy {file} to check it: {exc.strerror or exc}") from exc
        yield copy, sqlite_contents(copy, file)


def sqlite_replace(copy: Path, url: str) -> None:
    """Copy the checked file into the database (created when missing) in one write transaction."""
    target = sqlite_path(url)
    if not target.parent.is_dir():
        raise BackupFailed(f"cannot restore into {target}: the folder {target.parent} does not exist")
    src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=60)
    except sqlite3.Error as exc:
        src.close()
        raise BackupFailed(f"cannot open {target}: {exc}") from exc
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")  # the server's mode (a no-op when it was already)
    except sqlite3.Error as exc:
        raise BackupFailed(f"restoring into {target} failed (it is unchanged): {exc}") from exc
    finally:
        dst.close()
        src.close()


# ---------------------------------------------------------------- PostgreSQL


def pg_tables(listing: str) -> set[str]:
    """The table names a `pg_restore --list` names ("123; 1259 16390 TABLE public result owner")."""
    names: set[str] = set()
    for line in listing.splitlines():
        words = line.split()
        if not line.startswith(";") and len(words) >= 6 and words[3] == "TABLE":
            names.add(words[5])
    return names


def pg_revision(file: Path) -> str | None:
    """The migration stored in a pg_dump file (its `alembic_version` table's data)."""
    script = run_tool([pg_tool("pg_restore"), "--data-only", "--table=alembic_version", "-f", "-", str(file)])
    lines = script.stdout.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("COPY ") and "alembic_version" in line:
            return lines[i + 1].strip() if lines[i + 1] != "\\." else None
    return None


def pg_check(file: Path) -> Checked:
    """Refuse a foreign or truncated dump: its list names opstats' tables, and it reads to its end."""
    restore = pg_tool("pg_restore")
    try:
        listing = run_tool([restore, "--list", str(file)]).stdout
    except BackupFailed as exc:
        raise BackupFailed(f"{file} is not a whole pg_dump custom-format file ({exc})") from exc
    missing = OPSTATS_TABLES - pg_tables(listing)
    if missing:
        raise BackupFailed(f"{file} is not an opstats backup: no table {', '.join(sorted(missing))}")
    try:
        run_tool([restore, "--file=/dev/null", str(file)])
    except BackupFailed as exc:
        raise BackupFailed(f"{file} is truncated or damaged: {exc}") from exc
    return Checked(known_revision(pg_revision(file), file), pg_data_version(file))


def pg_replace(file: Path, url: str) -> None:
    """pg_restore in one transaction: the database is the backup's, or (on any error) unchanged."""
    conninfo, env = pg_target(url)
    args = [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges"]
    args += ["--single-transaction", "--no-password", f"--dbname={conninfo}", str(file)]
    try:
        run_tool(args, env)
    except BackupFailed as exc:
        raise BackupFailed(f"the restore failed and was rolled back: {exc}") from exc


# ---------------------------------------------------------------- both


def check_backup(url: str, file: Path) -> Checked:
    """Check a backup file for the engine of `url` without touching the database."""
    if not file.is_file():
        raise BackupFailed(f"no backup file at {file}")
    if storage.is_sqlite(url):
        with checked_sqlite_copy(file) as (_, checked):
            return checked
    return pg_check(file)


def new_epoch(url: str) -> str:
    """Give the database a new epoch, so every ETag and cached body from before is stale; tell
    running PostgreSQL servers to read it (SQLite servers see the commit by data_version)."""
    epoch = uuid.uuid4().hex
    engine = storage.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE databaseepoch SET epoch = :e WHERE id = 1"), {"e": epoch})
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_notify(:c, 'restored')"), {"c": CHANNEL})
    finally:
        engine.dispose()
    return epoch


def restore_backup(url: str, file: Path, progress: Progress = SILENT) -> Restored:
    """Check `file`, replace the database at `url` with it, migrate to head, renew the epoch, verify;
    `progress` counts those four steps (check, replace, migrate, verify)."""
    started = time.perf_counter()
    progress.expect(4)
    file = file.expanduser().absolute()
    if not file.is_file():
        raise BackupFailed(f"no backup file at {file}")
    if storage.is_sqlite(url):
        with checked_sqlite_copy(file) as (copy, checked):
            progress.advance()
            sqlite_replace(copy, url)
    else:
        checked = pg_check(file)
        progress.advance()
        pg_replace(file, url)
    progress.advance()
    try:
        storage.upgrade(url)
        epoch = new_epoch(url)
    except SQLAlchemyError as exc:
        raise BackupFailed(f"the restored database cannot be migrated: {exc}") from exc
    progress.advance()
    verified = verify_database(url)
    progress.advance()
    return Restored(checked, verified, epoch, time.perf_counter() - started)
