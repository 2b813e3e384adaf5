"""The `opstats` command line: serve, migrate, seed."""

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.core import migrations
from app.core.config import get_settings
from app.core.db import get_engine
from app.services.seedfiles import SeedError

cli = typer.Typer(help="opstats: provenance-first statistics of the CSTO's standing operations.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
err = Console(stderr=True)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Apply migrations, seed an empty database from seeds/, then serve the API."""
    import uvicorn

    from app.core.startup import describe, prepare_database

    url = get_settings().database_url
    err.print(f"opstats: preparing {describe(url)}")
    try:
        report = prepare_database(url)
    except SeedError as exc:
        _fail_seed(exc)
    if report is not None:
        err.print(f"opstats: seeded {dict(report.created)}")
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", access_log=False)


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
    from app.services.seeding import seed_database
    from app.services.seedcheck import check_seeds

    settings = get_settings()
    try:
        if check:
            report = check_seeds(root=settings.seeds_dir)
        else:
            migrations.upgrade()
            report = seed_database(engine=get_engine(), root=settings.seeds_dir)
    except SeedError as exc:
        _fail_seed(exc)
    table = Table("kind", "created", "updated", "unchanged", title="seed check" if check else "seed")
    kinds = sorted(set(report.created) | set(report.updated) | set(report.unchanged))
    for k in kinds:
        table.add_row(k, str(report.created[k]), str(report.updated[k]), str(report.unchanged[k]))
    Console(stderr=True).print(table)
    verdict = "seeds are valid" if check else ("changed" if report.changed else "nothing changed")
    print(f"opstats seed: {verdict}")


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database up (to head by default)."""
    migrations.upgrade(revision=revision)
    print(f"at {migrations.current_revision(get_engine())}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "-1") -> None:
    """Migrate the database down (one step by default; `base` removes every table)."""
    migrations.downgrade(revision=revision)
    print(f"at {migrations.current_revision(get_engine())}")


@db_cli.command("current")
def db_current() -> None:
    """Print the database's migration and whether it is at head."""
    current = migrations.current_revision(get_engine())
    head = migrations.head_revision()
    print(f"{current} ({'head' if current == head else f'head is {head}'})")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="opstats")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
