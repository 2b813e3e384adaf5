"""The `opstats` command line: serve, migrate, seed."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from app import db as storage
from app.config import get_settings
from app.db import get_engine
from app.domain.errors import InvalidInput
from app.progress import progress_bar
from app.seeds.files import SeedError

cli = typer.Typer(
    help="opstats: provenance-first statistics of the CSTO's standing operations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database migrations, backups and restores.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
keys_cli = typer.Typer(help="API keys for writes (only their hash is stored).", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
err = Console(stderr=True)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Apply migrations, seed an empty database from seeds/, then serve the API."""
    import uvicorn

    from app.db import describe, pooling_notes
    from app.seeds.prepare import prepare_database

    url = get_settings().database_url
    err.print(f"opstats: preparing {describe(url)}")
    for note in pooling_notes():
        err.print(f"opstats: {note}", highlight=False, soft_wrap=True)
    try:
        report = prepare_database(url)
    except SeedError as exc:
        _fail_seed(exc)
    if report is not None:
        err.print(f"opstats: seeded {dict(report.created)}")
    from app.http.edge.observability import log_config

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=log_config() if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        access_log=False,  # the app logs each request itself, as JSON with its request id
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )


def _fail_seed(exc: SeedError) -> None:
    for problem in exc.problems:
        err.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
    err.print(f"opstats: {len(exc.problems)} problem(s); nothing was written.")
    raise typer.Exit(1)


@cli.command()
def seed(
    check: Annotated[bool, typer.Option("--check", help="Validate seeds/ without writing.")] = False,
) -> None:
    """Load seeds/ in one transaction (idempotent); --check validates on a throwaway database."""
    from app.seeds.check import check_seeds
    from app.seeds.load import seed_database

    settings = get_settings()
    try:
        if check:
            with progress_bar("seed --check", unit="records", console=err) as bar:
                report = check_seeds(root=settings.seeds_dir, progress=bar)
        else:
            storage.upgrade()
            with progress_bar("seed", unit="records", console=err) as bar:
                report = seed_database(engine=get_engine(), root=settings.seeds_dir, progress=bar)
    except SeedError as exc:
        _fail_seed(exc)
    table = Table("kind", "created", "updated", "unchanged", title="seed check" if check else "seed")
    kinds = sorted(set(report.created) | set(report.updated) | set(report.unchanged))
    for k in kinds:
        table.add_row(k, str(report.created[k]), str(report.updated[k]), str(report.unchanged[k]))
    Console(stderr=True).print(table)
    verdict = "seeds are valid" if check else ("changed" if report.changed else "nothing changed")
    print(f"opstats seed: {verdict}")


@cli.command()
def extract(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, metavar="FILE", help="A UTF-8 text file."),
    ],
    fmt: Annotated[str, typer.Option("--format", help="Output: table or json.")] = "table",
    language: Annotated[
        str | None, typer.Option("--language", help="BCP 47 tag of the text (ru, en); default: detected.")
    ] = None,
) -> None:
    """Print the candidate figures of a text file, offline (the catalogue comes from seeds/)."""
    import json

    from app.extraction.catalog import catalog_from_seeds
    from app.extraction.extract import extract_candidates

    if fmt not in ("table", "json"):
        raise typer.BadParameter(f"{fmt!r} is not one of 'table', 'json'", param_hint="--format")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]error[/red] cannot read {file}: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    try:
        catalog = catalog_from_seeds(root=get_settings().seeds_dir)
    except SeedError as exc:
        _fail_seed(exc)
    try:
        cands = extract_candidates(text=text, catalog=catalog, language=language)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc), param_hint="--language") from exc
    if fmt == "json":
        print(json.dumps([c.to_dict() for c in cands], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(cands)} candidate(s) in {file.name}")
    columns = ("value", "unit", "as written", "qualifier", "metric", "operation", "phase", "scope", "country")
    for column in columns:
        table.add_column(column, no_wrap=True)
    table.add_column("conf.", no_wrap=True)
    table.add_column("quote [start:end]", min_width=40, overflow="fold")
    for c in cands:
        table.add_row(
            f"{c.value:.12g}",
            c.unit,
            c.number_text,
            c.qualifier,
            c.metric or "—",
            c.operation or "—",
            c.phase or "—",
            c.scope,
            c.country or "—",
            f"{c.confidence:.2f}",
            f"{c.quote} [{c.quote_start}:{c.quote_end}]",
        )
    Console(width=None if sys.stdout.isatty() else 220).print(table)


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database up (to head by default)."""
    storage.upgrade(revision=revision)
    print(f"at {storage.current_revision(get_engine())}")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision (required): a revision id, -1 for one step, base for none.")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: a downgrade drops tables or columns.")] = False,
) -> None:
    """Migrate the database down to REVISION; it drops data, so it needs --yes (`base` drops every table)."""
    url = get_settings().database_url
    if not yes:
        err.print(
            f"opstats: refusing to downgrade {storage.describe(url)} to {revision!r} without --yes: "
            "a downgrade drops data (`base` drops every table)."
        )
        raise typer.Exit(2)
    err.print(f"opstats: downgrading {storage.describe(url)} to {revision!r}")
    storage.downgrade(revision=revision)
    print(f"at {storage.current_revision(get_engine())}")


@db_cli.command("current")
def db_current() -> None:
    """Print the database's migration and whether it is at head."""
    current = storage.current_revision(get_engine())
    head = storage.head_revision()
    print(f"{current} ({'head' if current == head else f'head is {head}'})")


@db_cli.command("rebuild-aggregates")
def db_rebuild_aggregates() -> None:
    """Recompute the maintained totals from every result (after a bulk load, or to repair them)."""
    import time

    from app.seeds.prepare import recompute_stored_totals

    engine = _existing_engine()
    started = time.perf_counter()
    with progress_bar("rebuild-aggregates", unit="passes", console=err) as bar:
        count = recompute_stored_totals(engine, progress=bar)
    print(f"rebuilt {count} totals entries in {time.perf_counter() - started:.1f} s")


@db_cli.command("backup")
def db_backup(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Where to write the backup (replaced when done).")
    ],
) -> None:
    """Write a consistent copy of the database while it serves (SQLite online backup; pg_dump -Fc)."""
    from app.ops.backup import BackupFailed, take_backup

    url = get_settings().database_url
    err.print(f"opstats: backing up {storage.describe(url)}")
    try:
        with progress_bar("backup", unit="steps", console=err) as bar:
            done = take_backup(url, file, progress=bar)
    except BackupFailed as exc:
        err.print(f"opstats db backup: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    print(
        f"opstats db backup: wrote {done.file} ({_size(done.size)}, {done.engine}, "
        f"data version {done.data_version}) in {done.seconds:.2f} s"
    )


@db_cli.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A file written by `opstats db backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the database is replaced by the backup.")
    ] = False,
) -> None:
    """Check FILE, replace the database with it, verify it and start a new database epoch (needs --yes)."""
    from app.ops.backup import BackupFailed
    from app.ops.restore import restore_backup

    url = get_settings().database_url
    if not yes:
        err.print(
            f"opstats: refusing to restore {file} over {storage.describe(url)} without --yes: "
            "every write made since the backup is lost."
        )
        raise typer.Exit(2)
    err.print(f"opstats: restoring {file} into {storage.describe(url)}")
    try:
        with progress_bar("restore", unit="steps", console=err) as bar:
            done = restore_backup(url, file, progress=bar)
    except BackupFailed as exc:
        err.print(f"opstats db restore: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    print(
        f"opstats db restore: restored {file} (data version {done.checked.data_version}, "
        f"{done.verified.results} results verified, integrity {done.verified.integrity}, "
        f"migration {done.verified.revision}, new epoch {done.epoch[:8]}) in {done.seconds:.2f} s"
    )


def _size(size: int) -> str:
    """A byte count for people."""
    value, unit = float(size), "B"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            break
        value /= 1024
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def _existing_engine() -> Engine:
    """The configured database, said on stderr; refused when it was never created and migrated.

    A keys or export command never makes a fresh database: a key made in a new ./opstats.db beside
    the wrong folder would be unknown to the server. An existing one behind head is migrated first."""
    url = get_settings().database_url
    err.print(f"opstats: database {storage.describe(url)}")
    path = sqlite_file(url)
    if path is not None and not path.exists():
        err.print(f"opstats: no database at {path}; run `opstats serve` (or `opstats db upgrade`) first,")
        err.print("  or set DATABASE_URL to the server's database")
        raise typer.Exit(1)
    engine = get_engine(url)
    if storage.current_revision(engine) is None:
        err.print("opstats: the database was never migrated; run `opstats serve` or `opstats db upgrade`")
        raise typer.Exit(1)
    if not storage.is_at_head(engine):
        storage.upgrade()
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file of an on-disk SQLite URL (None for PostgreSQL or in-memory SQLite)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not storage.is_sqlite(url) or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "").resolve()


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Who writes with it (shown in history).")],
    scope: Annotated[str, typer.Option("--scope", help="curator, or admin (may also retract).")] = "curator",
) -> None:
    """Make a key; it is printed once, alone on the last line of stdout (KEY=$(opstats keys create ...))."""
    from sqlmodel import Session

    from app.curation.keys import create_key
    from app.domain.errors import DomainError
    from app.models import KeyScope

    name = name.strip()
    if scope not in ("curator", "admin") or not 1 <= len(name) <= 100:
        err.print("opstats: --name must be 1-100 characters and --scope curator or admin")
        raise typer.Exit(2)
    with Session(_existing_engine()) as session:
        try:
            row, key = create_key(session=session, name=name, scope=KeyScope(scope))
        except DomainError as exc:
            err.print(f"opstats: {exc}")
            raise typer.Exit(1) from exc
    err.print(f"opstats: created {scope} key {name!r} ({row.prefix}...); it is shown once, below.")
    print(key)


@keys_cli.command("list")
def keys_list() -> None:
    """Every key's name, scope, prefix, creation and revocation (never the key or its hash)."""
    from sqlmodel import Session

    from app.curation.keys import list_keys

    table = Table("name", "scope", "prefix", "created", "revoked")
    with Session(_existing_engine()) as session:
        for k in list_keys(session=session):
            revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "-"
            table.add_row(k.name, k.scope, k.prefix, k.created_at.isoformat(timespec="seconds"), revoked)
    Console().print(table)


@keys_cli.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: every later write with it is a 401; its history stays."""
    from sqlmodel import Session

    from app.curation.keys import revoke_key
    from app.domain.errors import DomainError

    with Session(_existing_engine()) as session:
        try:
            revoke_key(session=session, name=name)
        except DomainError as exc:
            err.print(f"opstats: {exc}")
            raise typer.Exit(1) from exc
    print(f"opstats: key {name!r} revoked")


@cli.command()
def ingest(
    where: Annotated[
        str, typer.Argument(metavar="PATH|URL", help="A saved page (.html), a text file, or a URL.")
    ],
    language: Annotated[
        str | None, typer.Option("--language", help="BCP 47 tag; default: the page's.")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Default: the page's title.")] = None,
    publisher: Annotated[str | None, typer.Option("--publisher", help="Default: the page's site.")] = None,
    published_on: Annotated[
        str | None, typer.Option("--published-on", help="YYYY-MM-DD; default: the page's.")
    ] = None,
) -> None:
    """Add a source from a saved web page, a text file or a URL, as POST /api/v1/sources does."""
    from pydantic import ValidationError
    from sqlmodel import Session

    from app.curation.pages import fetch_limits
    from app.curation.sources import add_source, resolve_document
    from app.domain.errors import DomainError
    from app.schemas.sources import SourceCreate
    from app.writes import WriteContext

    given = {"language": language, "title": title, "publisher": publisher, "published_on": published_on}
    try:
        data = SourceCreate.model_validate({**_document_of(where), **{k: v for k, v in given.items() if v}})
        document = resolve_document(data, fetch_limits(get_settings()))
        with Session(_existing_engine()) as session:
            src, created = add_source(write=WriteContext(session, "cli"), document=document)
            said = f"source {src.id} {'added' if created else 'already stored'}: {src.title!r}"
            sid, size = src.id, f"{src.language}, {len(src.text)} characters"
    except (DomainError, ValidationError) as exc:
        err.print(f"opstats ingest: {exc}", highlight=False)
        raise typer.Exit(1) from exc
    err.print(f"opstats ingest: {said} ({size})", highlight=False)
    print(sid)


def _document_of(where: str) -> dict[str, str]:
    """The body a path or URL stands for: a URL to fetch, a page's html or a file's text."""
    if where.startswith(("http://", "https://")):
        return {"url": where}
    path = Path(where)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"opstats ingest: cannot read {where}: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    return {"html": raw} if path.suffix.lower() in (".html", ".htm", ".xhtml") else {"text": raw}


@cli.command()
def export(
    out: Annotated[Path | None, typer.Option("--out", help="Target folder (default: seeds_dir).")] = None,
    datapackage: Annotated[
        Path | None,
        typer.Option(
            "--datapackage",
            help="Write the Frictionless data package (the files of GET /api/v1/datapackage) into this "
            "new or empty folder instead of the seeds.",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="With --datapackage: as the data stood at this RFC 3339 instant."),
    ] = None,
) -> None:
    """Write the curated database back to the seeds/ format, to review and commit what the API added;
    or, with --datapackage DIR, the dataset as a data package."""
    from sqlmodel import Session

    from app.seeds.export import export_seeds

    if datapackage is not None or at is not None:
        _export_package(datapackage, out, at)
        return
    settings = get_settings()
    target = out or settings.seeds_dir
    with Session(_existing_engine()) as session, progress_bar("export", unit="files", console=err) as bar:
        report = export_seeds(session=session, out=target, progress=bar)
    for sid, file in sorted(report.named.items()):
        err.print(f"opstats: source {sid} (added through the API) exported as sources/{file}")
    print(f"opstats export: wrote {len(report.written)} files to {target}")


def _export_package(target: Path | None, out: Path | None, at_text: str | None) -> None:
    """`export --datapackage DIR [--at T]`: the package's files, byte for byte the zip's members."""
    from sqlmodel import Session

    from app.domain.instants import check_past, parse_instant
    from app.read.datapackage import write_folder

    if target is None or out is not None:
        err.print("opstats export: --datapackage DIR is needed with --at, and goes without --out")
        raise typer.Exit(2)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        err.print(f"opstats export: {target} is not a new or empty folder; the package needs one of its own")
        raise typer.Exit(2)
    try:
        at = check_past(parse_instant(at_text)) if at_text else None
    except ValueError as exc:
        err.print(f"opstats export: --at {exc}")
        raise typer.Exit(2) from exc
    with Session(_existing_engine()) as session:
        written = write_folder(session=session, root=target, at=at)
    print(f"opstats export: wrote the data package ({len(written)} files) to {target}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="opstats")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
