"""Loading the curated seeds into the database: one transaction, idempotent, every figure verified."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.curation.results import (
    create_result,
    recompute_totals_on,
    retract_row,
    snapshot,
    update_result_checked,
)
from app.curation.unit_of_work import UnitOfWork, unit_of_work
from app.curation.verify import check_figure
from app.domain.errors import FigureRejected
from app.domain.provenance import locate_quote
from app.domain.text.languages import detect_language, normalize_language
from app.models import (
    Metric,
    Operation,
    OperationAlias,
    OperationSource,
    OperationStatus,
    Phase,
    PhaseSource,
    Result,
    Source,
    Unit,
)
from app.progress import SILENT, Progress
from app.read.catalog import alias_key
from app.schemas.seeds import OperationSeed, PhaseSeed, QuotedFact, ResultSeed
from app.seeds.files import SeedBundle, SeedError, read_seeds
from app.writes import WriteContext

ACTOR = "seed"


@dataclass
class SeedReport:
    """What a seed run created, updated or found unchanged, per kind of record."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        """True when the run wrote anything."""
        return bool(sum(self.created.values()) + sum(self.updated.values()))

    def count(self, kind: str, outcome: str) -> None:
        """Tally one record."""
        getattr(self, outcome)[kind] += 1


def _upsert(uow: UnitOfWork, model: type[SQLModel], key: Any, values: dict[str, Any]) -> str:
    """Insert (stamped with the write's instant) or update one catalogue row; returns created,
    updated or unchanged."""
    session = uow.session
    row = session.get(model, key)
    if row is None:
        uow.add(model(**values))
        return "created"
    if all(getattr(row, k) == v for k, v in values.items()):
        return "unchanged"
    for k, v in values.items():
        setattr(row, k, v)
    session.add(row)
    return "updated"


class _Loader:
    """One seed run over one session; collects problems instead of stopping at the first."""

    def __init__(self, uow: UnitOfWork, bundle: SeedBundle, root: Path, progress: Progress = SILENT) -> None:
        self.uow, self.session, self.bundle, self.root = uow, uow.session, bundle, root
        self.progress = progress
        self.report = SeedReport()
        self.problems: list[str] = []
        self.source_ids: dict[str, int] = {}

    def run(self) -> SeedReport:
        """Every step in order; progress counts records (the results, one by one, take the time)."""
        b = self.bundle
        steps = (
            (self.units, len(b.units)),
            (self.metrics, len(b.metrics)),
            (self.sources, len(b.sources)),
            (self.operations, len(b.operations)),
            (self.phases, len(b.phases)),
            (self.results, 0),  # advanced per figure
        )
        self.progress.expect(sum(n for _, n in steps) + sum(len(rf.results) for rf in b.result_files))
        for step, n in steps:
            step()
            self.session.flush()
            self.progress.advance(n)
        if self.problems:
            raise SeedError(self.problems)
        if self.report.changed:
            counts = {"created": dict(self.report.created), "updated": dict(self.report.updated)}
            self.uow.record("load", "seeds", str(self.root.name), after=counts)
        return self.report

    def units(self) -> None:
        for u in self.bundle.units:
            self.report.count("unit", _upsert(self.uow, Unit, u.symbol, u.model_dump()))

    def metrics(self) -> None:
        known = {u.symbol for u in self.bundle.units}
        for m in self.bundle.metrics:
            if m.base_unit not in known:
                self.problems.append(
                    f"{self.root / 'metrics.yaml'}: entry {m.slug!r}: unknown base unit {m.base_unit!r}"
                )
                continue
            self.report.count("metric", _upsert(self.uow, Metric, m.slug, m.model_dump()))

    def sources(self) -> None:
        for sf in self.bundle.sources:
            meta = sf.meta
            row = self.session.exec(select(Source).where(Source.file_name == meta.file)).first()
            row = (
                row or self.session.exec(select(Source).where(Source.content_hash == sf.content_hash)).first()
            )
            if row is not None and row.content_hash != sf.content_hash:
                self.problems.append(
                    f"{self.root / 'sources' / meta.file}: differs from the stored "
                    "text of this source; stored evidence is never rewritten"
                )
                continue
            values = {
                "title": meta.title,
                "publisher": meta.publisher,
                "published_on": meta.published_on,
                "date_basis": meta.date_basis,
                "url": meta.url,
                "file_name": meta.file,
                "language": normalize_language(meta.language) if meta.language else detect_language(sf.text),
                "retrieved_at": meta.retrieved_at,
                "raw_hash": meta.raw_hash,
            }
            if row is None:
                row = Source.model_validate({"text": sf.text, "content_hash": sf.content_hash, **values})
                outcome = "created"
            elif all(getattr(row, k) == v for k, v in values.items()):
                outcome = "unchanged"
            else:
                for k, v in values.items():
                    setattr(row, k, v)
                outcome = "updated"
            self.uow.add(row)
            self.source_ids[meta.file] = row.id or 0
            self.report.count("source", outcome)

    def _source(self, where: str, name: str | None) -> int | None:
        if name is None:
            return None
        if name not in self.source_ids:
            self.problems.append(f"{where}: unknown source {name!r}")
            return None
        return self.source_ids[name]

    def _quoted(self, where: str, fact: QuotedFact) -> int | None:
        """Check that a quoted fact's quote is verbatim in its source."""
        sid = self._source(where, fact.source)
        if sid is not None and fact.quote:
            source = self.session.get(Source, sid)
            try:
                locate_quote(source.text if source else "", fact.quote)
            except FigureRejected as exc:
                self.problems.append(f"{where}: {exc}")
        return sid

    def operations(self) -> None:
        for pos, op in enumerate(self.bundle.operations):
            where = f"{self.root / 'operations.yaml'}: entry {op.slug!r}"
            started_source = self._quoted(where + ": started", op.started)
            values = {
                "slug": op.slug,
                "name": op.name,
                "name_ru": op.name_ru,
                "purpose": op.purpose,
                "started_year": op.started.year,
                "started_precision": op.started.precision,
                "started_basis": op.started.basis,
                "started_source_id": started_source,
                "started_quote": op.started.quote,
                "status": op.status_history[-1].status if op.status_history else "unknown",
                "position": pos,
            }
            self.report.count("operation", _upsert(self.uow, Operation, op.slug, values))
            self.session.flush()
            self._aliases(where, op)
            self._statuses(where, op)
            for name in op.sources:
                self._link(OperationSource, (op.slug, self._source(where, name)))

    def _link(self, model: type[SQLModel], key: tuple[str, int | None]) -> None:
        if key[1] is None or self.session.get(model, key) is not None:
            return
        names = [c.name for c in model.__table__.primary_key.columns]  # type: ignore[attr-defined]
        self.uow.add(model(**dict(zip(names, key, strict=True))))
        self.report.count(model.__name__.lower(), "created")

    def _aliases(self, where: str, op: OperationSeed) -> None:
        """Sync an operation's spellings (in order); a spelling may name one operation only."""
        want = [(alias_key(a.alias), a.alias, a.language) for a in op.aliases]
        keys = [k for k, _, _ in want]
        clash = self.session.exec(
            select(OperationAlias).where(
                col(OperationAlias.alias_key).in_(keys), OperationAlias.operation_slug != op.slug
            )
        ).all()
        for row in clash:
            self.problems.append(f"{where}: alias {row.alias!r} already names {row.operation_slug!r}")
        rows = self.session.exec(
            select(OperationAlias)
            .where(OperationAlias.operation_slug == op.slug)
            .order_by(col(OperationAlias.id))
        ).all()
        if [(r.alias_key, r.alias, r.language) for r in rows] == want:
            self.report.count("alias", "unchanged")
            return
        self.session.execute(delete(OperationAlias).where(col(OperationAlias.operation_slug) == op.slug))
        self.session.flush()
        for k, alias, language in want:
            self.uow.add(OperationAlias(operation_slug=op.slug, alias=alias, alias_key=k, language=language))
        self.report.count("alias", "updated" if rows else "created")

    def _statuses(self, where: str, op: OperationSeed) -> None:
        want = []
        for st in op.status_history:
            sid = self._quoted(where + f": status {st.status!r}", st)
            want.append((st.status, st.since, st.note, sid, st.quote))
        rows = self.session.exec(
            select(OperationStatus)
            .where(OperationStatus.operation_slug == op.slug)
            .order_by(col(OperationStatus.id))
        ).all()
        if [(r.status, r.since, r.note, r.source_id, r.quote) for r in rows] == want:
            return
        self.session.execute(delete(OperationStatus).where(OperationStatus.operation_slug == op.slug))  # type: ignore[arg-type]
        for status, since, note, sid, quote in want:
            self.uow.add(
                OperationStatus(
                    operation_slug=op.slug,
                    status=status,
                    since=since,
                    note=note,
                    source_id=sid,
                    quote=quote,
                )
            )
        self.report.count("status", "updated" if rows else "created")

    def phases(self) -> None:
        ops = {o.slug for o in self.bundle.operations}
        for ph in self.bundle.phases:
            where = f"{self.root / 'phases.yaml'}: entry {ph.slug!r}"
            if ph.operation not in ops:
                self.problems.append(f"{where}: unknown operation {ph.operation!r}")
                continue
            self.report.count("phase", _upsert(self.uow, Phase, ph.slug, _phase_values(ph)))
            self.session.flush()
            for name in ph.sources:
                self._link(PhaseSource, (ph.slug, self._source(where, name)))

    def results(self) -> None:
        """Verify and upsert every figure; reports of another figure go last, after their target."""
        entries = []
        for rf in self.bundle.result_files:
            sid = self._source(rf.path, rf.source)
            source = self.session.get(Source, sid) if sid else None
            if source is None:
                self.progress.advance(len(rf.results))  # refused above: nothing to verify
            entries += [
                (seed.duplicate_of is not None, rf.path, source, seed)
                for seed in rf.results
                if source is not None
            ]
        for _, path, source, seed in sorted(entries, key=lambda e: e[0]):
            self._result(path, source, seed)
            self.progress.advance()

    def _result(self, path: str, source: Source, seed: ResultSeed) -> None:
        where = f"{path}: entry {seed.id!r}"
        try:
            checked = check_figure(
                session=self.session,
                draft=seed,
                source=source,
                occurrence=seed.quote_occurrence,
                self_id=seed.id,
            )
            row = self.session.get(Result, seed.id)
            if row is None:
                row = create_result(self.uow, checked, result_id=seed.id)
                self.report.count("result", "created")
            elif update_result_checked(self.uow, row, checked, reason="seeds changed"):
                self.report.count("result", "updated")
            elif not (seed.retracted and not row.retracted):
                self.report.count("result", "unchanged")
            else:
                self.report.count("result", "updated")
            if seed.retracted and not row.retracted:
                retract_row(self.uow, row, reason=seed.retracted_reason or "retracted (seeds)")
        except FigureRejected as exc:
            self.problems.append(f"{where}: {exc}")


def _phase_values(ph: PhaseSeed) -> dict[str, Any]:
    return ph.model_dump(exclude={"sources", "operation"}) | {"operation_slug": ph.operation}


def apply_seeds(*, uow: UnitOfWork, root: Path, progress: Progress = SILENT) -> SeedReport:
    """Load seeds/ into the unit of work; raise SeedError (nothing kept) on any problem."""
    recompute_totals_on(uow)  # metrics' labels and units are part of the stored totals
    return _Loader(uow, read_seeds(root), root, progress).run()


def seed_database(*, engine: Engine, root: Path, progress: Progress = SILENT) -> SeedReport:
    """Load seeds/ in one audited unit of work: all or nothing, one version bump when anything changed."""
    with Session(engine) as session, unit_of_work(WriteContext(session, ACTOR)) as uow:
        return apply_seeds(uow=uow, root=root, progress=progress)


def is_empty(*, session: Session) -> bool:
    """True when no operation has been loaded yet (serve seeds only then)."""
    return not session.exec(select(func.count()).select_from(Operation)).one()


__all__ = ["SeedError", "SeedReport", "apply_seeds", "is_empty", "seed_database", "snapshot"]
