"""The curated seeds: every figure verified against its source; every kind of bad entry refused."""

import shutil
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, select

from app import db as storage
from app.config import get_settings
from app.db import make_engine
from app.models import AuditLog, Result, Source
from app.read.history import read_data_version
from app.seeds.check import check_seeds
from app.seeds.files import SeedError, read_seeds
from app.seeds.load import seed_database

SEEDS = get_settings().seeds_dir
SHARED = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/ to break."""
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


def edit_result(root: Path, doc: str, rid: str, **changes: object) -> Path:
    """Change fields of one curated result in a copy of the seeds."""
    path = root / "results" / f"{doc}.yaml"
    data = yaml.safe_load(path.read_text())
    entry = next(r for r in data["results"] if r["id"] == rid)
    for k, v in changes.items():
        if v is None:
            entry.pop(k, None)
        else:
            entry[k] = v
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def refusal(root: Path) -> str:
    with pytest.raises(SeedError) as info:
        check_seeds(root=root)
    return "\n".join(info.value.problems)


DOC002 = "002_b2518f460fecc24b"
OPIUM = "channel-center-2019-opium"


def test_sources_are_the_shared_documents_unchanged():
    if not SHARED.exists():
        pytest.skip("../shared/seeds not beside the project")
    for f in sorted(SHARED.glob("*.txt")):
        assert (SEEDS / "sources" / f.name).read_bytes() == f.read_bytes()


def test_seeds_check_passes():
    report = check_seeds(root=SEEDS)
    curated = sum(len(f.results) for f in read_seeds(SEEDS).result_files)
    assert report.created["result"] == curated > 0


def test_quote_not_verbatim_is_refused(seeds_copy):
    edit_result(seeds_copy, DOC002, OPIUM, quote="more than 8.9 tons of opium were seized.")
    msg = refusal(seeds_copy)
    assert f"{DOC002}.yaml" in msg and OPIUM in msg and "not verbatim" in msg


def test_number_not_in_quote_is_refused(seeds_copy):
    edit_result(seeds_copy, DOC002, OPIUM, value=8.8)
    msg = refusal(seeds_copy)
    assert OPIUM in msg and "8.8 does not appear in the quote" in msg


def test_wrong_unit_is_refused(seeds_copy):
    edit_result(seeds_copy, DOC002, "channel-center-2019-heroin", unit="t")
    assert "channel-center-2019-heroin" in refusal(seeds_copy)


def test_wrong_qualifier_is_refused(seeds_copy):
    edit_result(seeds_copy, DOC002, OPIUM, qualifier="exact")
    assert "'more_than'" in refusal(seeds_copy)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("operation", "smuggling", "unknown operation 'smuggling'"),
        ("phase", "channel-nowhere-2019", "unknown phase 'channel-nowhere-2019'"),
        ("metric", "gold_seized", "unknown metric 'gold_seized'"),
        ("unit", "lb", "unknown unit 'lb'"),
    ],
)
def test_unknown_references_are_refused(seeds_copy, field, value, expected):
    edit_result(seeds_copy, DOC002, OPIUM, **{field: value})
    msg = refusal(seeds_copy)
    assert OPIUM in msg and expected in msg


def test_duplicate_id_is_refused(seeds_copy):
    path = seeds_copy / "results" / f"{DOC002}.yaml"
    data = yaml.safe_load(path.read_text())
    data["results"].append(dict(data["results"][0]))
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert f"duplicate result id {data['results'][0]['id']!r}" in refusal(seeds_copy)


def test_unknown_field_is_refused(seeds_copy):
    edit_result(seeds_copy, DOC002, OPIUM, quote_start=5)
    assert "quote_start" in refusal(seeds_copy)


def test_country_share_outside_a_phase_is_refused(seeds_copy):
    edit_result(seeds_copy, "004_fe582fb0e5078a95", "channel-2023-drugs-seized", country="Russia")
    assert "a country's share is a share of a phase" in refusal(seeds_copy)


def test_unknown_duplicate_target_is_refused(seeds_copy):
    edit_result(seeds_copy, DOC002, "channel-center-2019-drugs-headline", duplicate_of="nope")
    assert "unknown result 'nope'" in refusal(seeds_copy)


def test_status_quote_not_in_source_is_refused(seeds_copy):
    path = seeds_copy / "operations.yaml"
    data = yaml.safe_load(path.read_text())
    data[1]["status_history"][1]["quote"] = "Mercenary became permanent."
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert "'mercenary'" in refusal(seeds_copy)


@pytest.mark.parametrize("fresh_db", ["sqlite", "postgres"], indirect=True)
def test_seed_is_transactional_and_idempotent(fresh_db, seeds_copy):
    storage.upgrade(fresh_db.url)
    engine = make_engine(fresh_db.url)
    try:
        edit_result(seeds_copy, DOC002, OPIUM, value=8.8)
        with pytest.raises(SeedError):
            seed_database(engine=engine, root=seeds_copy)
        with Session(engine) as s:
            assert s.exec(select(Source)).first() is None and s.exec(select(Result)).first() is None
        first = seed_database(engine=engine, root=SEEDS)
        with Session(engine) as s:
            version, audits = read_data_version(session=s), len(s.exec(select(AuditLog)).all())
        second = seed_database(engine=engine, root=SEEDS)
        with Session(engine) as s:
            assert read_data_version(session=s) == version
            assert len(s.exec(select(AuditLog)).all()) == audits
        assert first.changed and not second.changed
        assert second.unchanged["result"] == first.created["result"]
    finally:
        engine.dispose()


def test_changed_source_text_is_refused(session, seeds_copy):
    from app.curation.unit_of_work import UnitOfWork
    from app.seeds.load import apply_seeds
    from app.writes import WriteContext

    (seeds_copy / "sources" / f"{DOC002}.txt").write_text("tampered")
    with pytest.raises(SeedError) as info:
        apply_seeds(uow=UnitOfWork(WriteContext(session, "seed")), root=seeds_copy)
    assert "stored evidence is never rewritten" in "\n".join(info.value.problems)


def test_every_seeded_figure_is_at_its_offsets(session):
    rows = session.exec(select(Result)).all()
    assert rows
    for r in rows:
        src = session.get(Source, r.source_id)
        assert src.text[r.quote_start : r.quote_end] == r.quote
        assert r.number_text in r.quote


def test_number_spellings_are_applied(session):
    spelled = {
        "channel-center-2019-criminal-cases": ("4 thousand", 4000),
        "csto-2023-drug-groups-neutralised": ("6,500", 6500),
        "illegal-2023-migration-violations": ("1.8 million", 1_800_000),
        OPIUM: ("8.9", 8.9),
    }
    for rid, (text, value) in spelled.items():
        r = session.get(Result, rid)
        assert (r.number_text, r.value) == (text, value)
    assert session.get(Result, OPIUM).value_base == 8900


def test_an_ambiguous_quote_needs_its_occurrence():
    from app.domain.errors import FigureRejected
    from app.domain.provenance import locate_quote

    text = "A 5 kg. B. A 5 kg."
    with pytest.raises(FigureRejected, match="occurs 2 times"):
        locate_quote(text, "A 5 kg.")
    assert locate_quote(text, "A 5 kg.", 1) == 0
    assert locate_quote(text, "A 5 kg.", 2) == 11
    with pytest.raises(FigureRejected, match="not 3"):
        locate_quote(text, "A 5 kg.", 3)
