"""`opstats db backup FILE`: a consistent copy of the database while the server runs and writes.

SQLite: the online backup API copies every page in one step, i.e. one read transaction of a WAL
database (writers go on; the copy is the database as of that transaction's start), into
FILE.partial, which is made a single self-contained file (rollback journal, not WAL) and renamed
over FILE only once complete. PostgreSQL: `pg_dump -Fc` (one repeatable-read snapshot), found on
PATH, into FILE.partial, renamed likewise. A half-written FILE never exists.
"""

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from app.db import describe, is_sqlite
from app.domain.errors import DomainError
from app.progress import SILENT, Progress

SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupFailed(DomainError):
    """A backup or restore that cannot be done, said in the operator's terms; nothing was replaced."""

    code = "backup-failed"


@dataclass(frozen=True)
class Written:
    """What a backup wrote."""

    file: Path
    size: int
    seconds: float
    data_version: int | None
    engine: str


def sqlite_path(url: str) -> Path:
    """The file of an on-disk SQLite URL; refused for an in-memory database."""
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise BackupFailed(f"{describe(url)} is an in-memory database: there is no file to back up")
    return Path(database or "").resolve()


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program on PATH (pg_dump, pg_restore), or why it is missing."""
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(
            f"{name} was not found on PATH; install the PostgreSQL client programs "
            f"(Debian: apt-get install postgresql-client-15) or add their folder to PATH"
        )
    return found


def pg_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL for the client programs and their environment (the password goes in
    PGPASSWORD, never on a command line other users can read)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def run_tool(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a client program, its output captured; a failure is a BackupFailed with its last words."""
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupFailed(f"{Path(args[0]).name} failed (exit {done.returncode}): {' / '.join(said)}")
    return done


def _partial(target: Path) -> Path:
    """FILE.partial beside FILE, created now: an unwritable place is said before any work is done."""
    if target.is_dir():
        raise BackupFailed(f"cannot write the backup to {target}: it is a directory")
    partial = target.with_name(f"{target.name}.partial")
    try:
        with partial.open("wb"):
            pass
    except OSError as exc:
        raise BackupFailed(f"cannot write the backup to {target}: {exc.strerror or exc}") from exc
    return partial


def _finish(partial: Path, target: Path) -> None:
    """Flush FILE.partial to disk and rename it over FILE (atomic on one file system)."""
    try:
        with partial.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(partial, target)
    except OSError as exc:
        raise BackupFailed(f"cannot write the backup to {target}: {exc.strerror or exc}") from exc


def _sqlite_backup(url: str, partial: Path) -> None:
    """Copy the database with the online backup API, in one step (one consistent read transaction)."""
    source = sqlite_path(url)
    if not source.exists():
        raise BackupFailed(f"no database at {source}: nothing to back up")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupFailed(f"the SQLite backup of {source} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def sqlite_data_version(file: Path) -> int | None:
    """The data version stored in a SQLite backup file (None when it has none)."""
    conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT version FROM dataversion WHERE id = 1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return int(row[0]) if row else None


def pg_data_version(file: Path) -> int | None:
    """The data version stored in a pg_dump custom-format file (its `dataversion` table's data)."""
    script = run_tool([pg_tool("pg_restore"), "--data-only", "--table=dataversion", "-f", "-", str(file)])
    lines = script.stdout.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("COPY ") and "dataversion" in line:
            columns = line[line.index("(") + 1 : line.index(")")].split(", ")
            return int(lines[i + 1].split("\t")[columns.index("version")])
    return None


def _pg_backup(url: str, partial: Path) -> None:
    """pg_dump -Fc: the whole database in one snapshot, in the format pg_restore reads selectively."""
    dump = pg_tool("pg_dump")
    conninfo, env = pg_target(url)
    run_tool([dump, "--format=custom", "--no-password", f"--file={partial}", f"--dbname={conninfo}"], env)


def take_backup(url: str, target: Path, progress: Progress = SILENT) -> Written:
    """Write a consistent copy of the database at `url` to `target` (replacing it only when done);
    `progress` counts its two steps: the copy, then the file in place and read back."""
    started = time.perf_counter()
    progress.expect(2)
    target = target.expanduser().absolute()
    sqlite = is_sqlite(url)
    if not sqlite:
        pg_tool("pg_dump")  # say a missing pg_dump before anything is written
    partial = _partial(target)
    try:
        (_sqlite_backup if sqlite else _pg_backup)(url, partial)
        progress.advance()
        _finish(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    version = sqlite_data_version(target) if sqlite else pg_data_version(target)
    progress.advance()
    return Written(
        file=target,
        size=target.stat().st_size,
        seconds=time.perf_counter() - started,
        data_version=version,
        engine="sqlite" if sqlite else "postgresql",
    )
