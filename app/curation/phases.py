"""Adding phases through the API: a new release often reports a phase not seen before."""

import re
import unicodedata

from sqlalchemy.exc import IntegrityError

from app.curation.unit_of_work import unit_of_work
from app.domain.errors import Conflict, InvalidInput
from app.models import Phase
from app.read.catalog import resolve_operation
from app.schemas.catalog import PhaseCreate
from app.writes import WriteContext


def derive_slug(name: str, start_date: str | None) -> str:
    """A slug from the name and the start year: "Channel - Harbour", 2025 → channel-harbour-2025."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    year = start_date[:4] if start_date else ""
    if year and not base.endswith(year):
        base = f"{base}-{year}" if base else year
    return base[:100].strip("-")


def _slug(data: PhaseCreate) -> str:
    """The phase's slug: as given, or derived (422 when the name gives nothing to derive from)."""
    slug = data.slug or derive_slug(data.name, data.start_date)
    if not slug:
        raise InvalidInput("Cannot derive a slug from this name; give one.", field="slug")
    return slug


def _conflict(slug: str) -> Conflict:
    return Conflict(f"A phase {slug!r} already exists.", code="phase-exists", slug=slug)


def add_phase(*, write: WriteContext, data: PhaseCreate) -> Phase:
    """Store a new phase of a known operation; 409 when its slug is taken."""
    session = write.session
    slug = _slug(data)
    if data.start_date and data.end_date and data.start_date > data.end_date:
        raise InvalidInput("end_date is before start_date.", field="end_date")
    try:
        with unit_of_work(write) as uow:
            op = resolve_operation(session=session, key=data.operation)
            if op is None:
                raise InvalidInput(f"Unknown operation {data.operation!r}.", field="operation")
            if session.get(Phase, slug) is not None:
                raise _conflict(slug)
            values = data.model_dump(exclude={"operation", "slug"})
            phase = uow.add(Phase(slug=slug, operation_slug=op.slug, **values))
            after = {**data.model_dump(mode="json"), "slug": slug, "operation": op.slug}
            uow.record("create", "phase", slug, after=after)
    except IntegrityError as exc:  # created concurrently under the same slug
        raise _conflict(slug) from exc
    return phase
