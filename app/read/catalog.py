"""Look-ups of operations (by slug or any alias), phases, metrics and units."""

import unicodedata

from sqlmodel import Session, col, select

from app.models import Metric, Operation, OperationAlias
from app.schemas.catalog import MetricPublic


def alias_key(name: str) -> str:
    """Case- and form-insensitive key of a name ("KANAL", "Kanal" and "kanal" are one)."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def resolve_operation(*, session: Session, key: str) -> Operation | None:
    """The operation named by a slug or alias, case-insensitively; None when unknown."""
    k = alias_key(key)
    op = session.get(Operation, k)
    if op is not None:
        return op
    slug = session.exec(select(OperationAlias.operation_slug).where(OperationAlias.alias_key == k)).first()
    return session.get(Operation, slug) if slug else None


def operation_slugs(*, session: Session) -> list[str]:
    """Every operation slug, in display order (for not-found answers)."""
    return list(session.exec(select(Operation.slug).order_by(col(Operation.position), col(Operation.slug))))


def list_metrics(*, session: Session) -> list[MetricPublic]:
    """Every metric with its dimension and base unit, by slug."""
    rows = session.exec(select(Metric).order_by(col(Metric.slug))).all()
    return [MetricPublic.model_validate(m, from_attributes=True) for m in rows]
