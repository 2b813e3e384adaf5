"""Adding source documents through the API: stored once per text, recognised again by content hash."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.curation.unit_of_work import unit_of_work
from app.models import Source
from app.schemas.sources import SourceCreate
from app.seeds.files import content_hash


def normalise_text(text: str) -> str:
    """One newline convention (LF), as seeds/sources/*.txt are read, so the hash survives export."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def find_source(*, session: Session, digest: str) -> Source | None:
    """The stored document with this content hash, if any."""
    return session.exec(select(Source).where(Source.content_hash == digest)).first()


def add_source(*, session: Session, data: SourceCreate, actor: str) -> tuple[Source, bool]:
    """Store a new document, or return the stored one with the same text; True when it is new."""
    text = normalise_text(data.text)
    digest = content_hash(text)
    existing = find_source(session=session, digest=digest)
    if existing is not None:
        return existing, False
    try:
        with unit_of_work(session, actor) as uow:
            source = uow.add(
                Source(
                    title=data.title,
                    publisher=data.publisher,
                    published_on=data.published_on,
                    url=data.url,
                    content_hash=digest,
                    text=text,
                )
            )
            after = {**data.model_dump(mode="json", exclude={"text"}), "content_hash": digest}
            uow.record("create", "source", str(source.id), after=after)
    except IntegrityError:  # the same text stored concurrently: answer with that one
        existing = find_source(session=session, digest=digest)
        if existing is None:
            raise
        return existing, False
    return source, True
