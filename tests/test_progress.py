"""Progress bars of the long commands: drawn on a terminal, nothing but the final line otherwise."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session

from app import db as storage
from app.config import get_settings
from app.db import make_engine
from app.progress import SILENT, progress_bar
from app.seeds.check import check_seeds
from app.seeds.export import export_seeds
from app.seeds.load import seed_database
from app.seeds.prepare import recompute_stored_totals

ROOT = Path(__file__).resolve().parents[1]
SEEDS = get_settings().seeds_dir
RATES = ("records/s", "files/s", "passes/s", "results/s", "items/s")  # what only a drawn bar shows


class Recorder:
    """A Progress that remembers what it was told."""

    def __init__(self) -> None:
        self.totals: list[int] = []
        self.steps: list[int] = []

    def expect(self, total: int) -> None:
        self.totals.append(total)

    def advance(self, n: int = 1) -> None:
        self.steps.append(n)


def _plain_env(url: str) -> dict[str, str]:
    """The environment of a command run by CI: no terminal, no colour forced."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR")}
    return {**env, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def _cli(url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "app.cli", *args], {**_plain_env(url), **extra})


def _no_bar(text: str) -> None:
    assert "\x1b" not in text and "\r" not in text, text
    assert not any(rate in text for rate in RATES), text


# ------------------------------------------------------------------------------------- the helper


def test_the_bar_counts_what_it_is_told_and_draws_nothing_off_a_terminal():
    out = io.StringIO()
    with progress_bar("job", console=Console(file=out)) as bar:
        bar.expect(10)
        for n in (1, 2, 3, 4):
            bar.advance(n)
    assert (bar.total, bar.done) == (10, 10) and out.getvalue() == ""


def test_on_a_terminal_a_bar_is_drawn_with_counts_rate_and_time_left():
    out = io.StringIO()
    with progress_bar(
        "job", 7, unit="records", console=Console(force_terminal=True, file=out, width=120)
    ) as bar:
        for _ in range(7):
            bar.advance()
    drawn = out.getvalue()
    assert "\x1b[" in drawn and "job" in drawn and "━" in drawn
    assert "7/7" in drawn and "records/s" in drawn and "0:00:00" in drawn


def test_a_bytes_bar_shows_sizes_and_a_transfer_rate():
    out = io.StringIO()
    console = Console(force_terminal=True, file=out, width=120)
    with progress_bar("backup", 2_000_000, unit="bytes", console=console) as bar:
        bar.advance(1_000_000)
        time.sleep(0.05)  # a rate needs two samples
        bar.advance(1_000_000)
    drawn = out.getvalue()
    assert "2.0/2.0 MB" in drawn and "B/s" in drawn and "2000000/2000000" not in drawn


def test_silent_accepts_everything():
    SILENT.expect(3)
    SILENT.advance(2)  # reports nowhere, raises nothing


def test_the_capabilities_do_not_import_rich():
    code = (
        "import sys, app.seeds.load, app.seeds.export, app.seeds.check, app.seeds.prepare, "
        "app.read.aggregates, app.progress; "
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.')))"
    )
    r = _run([sys.executable, "-c", code], _plain_env("sqlite://"))
    assert r.stdout.strip() == "[]"


# ------------------------------------------------------------------------- what the capabilities report


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file seeded from seeds/ once for this module, by `opstats seed` (no terminal)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('progress') / 'p.db'}"
    r = _cli(url, "seed")
    assert r.stdout == "opstats seed: changed\n"
    _no_bar(r.stderr)
    return url


def test_seeding_reports_every_record_once(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    storage.upgrade(url)
    engine = make_engine(url)
    seen = Recorder()
    try:
        report = seed_database(engine=engine, root=SEEDS, progress=seen)
    finally:
        engine.dispose()
    [total] = seen.totals
    results = report.created["result"]
    assert sum(seen.steps) == total and total > results > 0
    assert seen.steps.count(1) >= results  # one step per figure verified


def test_the_check_reports_like_a_load():
    seen = Recorder()
    check_seeds(root=SEEDS, progress=seen)
    assert len(seen.totals) == 1 and sum(seen.steps) == seen.totals[0] > 0


def test_export_reports_every_file_it_writes(seeded, tmp_path):
    engine = make_engine(seeded)
    seen = Recorder()
    try:
        with Session(engine) as session:
            report = export_seeds(session=session, out=tmp_path / "x", progress=seen)
    finally:
        engine.dispose()
    assert seen.totals == [len(report.written)] and sum(seen.steps) == len(report.written)


def test_rebuild_reports_each_pass(seeded):
    engine = make_engine(seeded)
    seen = Recorder()
    try:
        recompute_stored_totals(engine, progress=seen)
    finally:
        engine.dispose()
    [total] = seen.totals
    assert total >= 3 and seen.steps == [1] * total


def test_backup_and_restore_report_their_steps(seeded, tmp_path):
    """A backup counts its copy and its check; a restore its check, replace, migrate and verify."""
    from app.ops.backup import take_backup
    from app.ops.restore import restore_backup

    seen = Recorder()
    take_backup(seeded, tmp_path / "b.db", progress=seen)
    assert seen.totals == [2] and seen.steps == [1, 1]
    again = Recorder()
    restore_backup(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "b.db", progress=again)
    assert again.totals == [4] and again.steps == [1, 1, 1, 1]


@pytest.mark.slow
def test_backup_and_restore_off_a_terminal_print_only_their_final_line(seeded, tmp_path):
    backup = _cli(seeded, "db", "backup", str(tmp_path / "b.db"))
    assert backup.stdout.count("\n") == 1 and backup.stdout.startswith("opstats db backup: wrote ")
    _no_bar(backup.stdout + backup.stderr)
    restore = _cli(f"sqlite:///{tmp_path / 'r.db'}", "db", "restore", str(tmp_path / "b.db"), "--yes")
    assert restore.stdout.count("\n") == 1 and restore.stdout.startswith("opstats db restore: restored ")
    _no_bar(restore.stdout + restore.stderr)


# --------------------------------------------------------------------------------- the commands


@pytest.mark.slow
def test_seed_check_off_a_terminal_prints_only_its_final_line():
    r = _cli("sqlite://", "seed", "--check")
    assert r.stdout == "opstats seed: seeds are valid\n"
    _no_bar(r.stderr)


@pytest.mark.slow
def test_seed_again_off_a_terminal_prints_only_its_final_line(seeded):
    r = _cli(seeded, "seed")
    assert r.stdout == "opstats seed: nothing changed\n"
    _no_bar(r.stderr)


@pytest.mark.slow
def test_export_off_a_terminal_prints_only_its_final_line(seeded, tmp_path):
    r = _cli(seeded, "export", "--out", str(tmp_path / "x"))
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("opstats export: wrote ")
    _no_bar(r.stdout + r.stderr)


@pytest.mark.slow
def test_rebuild_off_a_terminal_prints_only_its_final_line(seeded):
    r = _cli(seeded, "db", "rebuild-aggregates")
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("rebuilt ")
    _no_bar(r.stdout + r.stderr)


@pytest.mark.slow
def test_on_a_terminal_the_commands_draw_their_bar_on_stderr(seeded, tmp_path):
    """FORCE_COLOR makes rich take stderr for a terminal: the bar is drawn there, stdout keeps one line."""
    r = _cli(seeded, "export", "--out", str(tmp_path / "x"), FORCE_COLOR="1")
    assert "files/s" in r.stderr and "export" in r.stderr and "\x1b[" in r.stderr
    assert r.stdout.count("\n") == 1 and "\x1b" not in r.stdout
    r = _cli(seeded, "db", "rebuild-aggregates", FORCE_COLOR="1")
    assert "passes/s" in r.stderr and r.stdout.startswith("rebuilt ")


@pytest.mark.slow
def test_make_million_off_a_terminal_prints_only_its_final_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    r = _run([sys.executable, "bench/make_million.py", "--results", "3000"], _plain_env(url))
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("done: 3000 results inserted")
    _no_bar(r.stdout + r.stderr)
