"""The vocabulary extraction recognises: units, metric keywords, operation aliases and phase names."""

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from app.models import Metric, Operation, OperationAlias, Phase, Unit
from app.seeds.files import read_seeds


@dataclass(frozen=True)
class MetricInfo:
    """What extraction needs of a metric: how texts name it and whether it is a mass or a count."""

    slug: str
    dimension: str
    keywords: tuple[str, ...]
    base_unit: str = ""


@dataclass(frozen=True)
class PhaseInfo:
    """What extraction needs of a phase: its name as texts write it, its operation and year."""

    slug: str
    operation: str
    name: str
    start_year: int | None


@dataclass(frozen=True)
class Catalog:
    """The vocabulary extraction recognises, from the database or from seeds/ (offline)."""

    units: dict[str, tuple[str, ...]]  # symbol → words written after a number
    unit_dimensions: dict[str, str]  # symbol → mass | count | ...
    metrics: dict[str, MetricInfo]  # slug → keywords and dimension
    aliases: dict[str, str]  # alias, slug or name as written → operation slug
    phases: dict[str, PhaseInfo]  # slug → name, operation, start year


def load_catalog(*, session: Session) -> Catalog:
    """The catalogue as stored, so phases and aliases added through the API are recognised too."""
    units = list(session.exec(select(Unit)))
    aliases = {a.alias: a.operation_slug for a in session.exec(select(OperationAlias))}
    for op in session.exec(select(Operation)):
        aliases.setdefault(op.name, op.slug)
        aliases.setdefault(op.slug, op.slug)
    return Catalog(
        units={u.symbol: tuple(u.words or []) for u in units},
        unit_dimensions={u.symbol: u.dimension for u in units},
        metrics={
            m.slug: MetricInfo(m.slug, m.dimension, tuple(m.keywords or []), m.base_unit)
            for m in session.exec(select(Metric))
        },
        aliases=aliases,
        phases={
            p.slug: PhaseInfo(p.slug, p.operation_slug, p.name, _year(p.start_date))
            for p in session.exec(select(Phase))
        },
    )


def catalog_from_seeds(*, root: Path) -> Catalog:
    """The catalogue of seeds/*.yaml, so `opstats extract` works without a database."""
    b = read_seeds(root)
    aliases: dict[str, str] = {}
    for op in b.operations:
        for a in op.aliases:
            aliases[a.alias] = op.slug
        aliases.setdefault(op.name, op.slug)
        aliases.setdefault(op.slug, op.slug)
    return Catalog(
        units={u.symbol: tuple(u.words) for u in b.units},
        unit_dimensions={u.symbol: u.dimension for u in b.units},
        metrics={m.slug: MetricInfo(m.slug, m.dimension, tuple(m.keywords), m.base_unit) for m in b.metrics},
        aliases=aliases,
        phases={p.slug: PhaseInfo(p.slug, p.operation, p.name, _year(p.start_date)) for p in b.phases},
    )


def _year(partial_date: str | None) -> int | None:
    """The year of a YYYY[-MM[-DD]] date."""
    return int(partial_date[:4]) if partial_date and partial_date[:4].isdigit() else None
