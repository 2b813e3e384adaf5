"""Adding source documents through the API: stored once per text, recognised again by content hash.

A document arrives as its text, as a saved page (`html`) or as a URL to fetch; either way what is
stored is one text the quotes are checked against, its language, and where it came from.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.curation.pages import FetchLimits, Page, fetch_page, read_page
from app.curation.unit_of_work import unit_of_work
from app.domain.errors import InvalidInput
from app.domain.text.languages import detect_language, normalize_language
from app.models import Source
from app.schemas.sources import SourceCreate
from app.seeds.files import content_hash
from app.writes import WriteContext


@dataclass(frozen=True)
class Document:
    """A source as it will be stored: text, what describes it, and its provenance as a page."""

    text: str
    title: str
    publisher: str
    published_on: date
    language: str
    url: str | None = None
    retrieved_at: datetime | None = None
    raw_hash: str | None = None

    def audited(self, digest: str) -> dict[str, Any]:
        """What the audit log keeps of a new source (all but the text)."""
        return {
            "title": self.title,
            "publisher": self.publisher,
            "published_on": self.published_on.isoformat(),
            "language": self.language,
            "url": self.url,
            "retrieved_at": self.retrieved_at.isoformat() if self.retrieved_at else None,
            "raw_hash": self.raw_hash,
            "content_hash": digest,
        }


def normalise_text(text: str) -> str:
    """One newline convention (LF), as seeds/sources/*.txt are read, so the hash survives export."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _page_of(data: SourceCreate, limits: FetchLimits) -> Page | None:
    """The page a request sends or names, read; None for a plain text."""
    given = [name for name in ("text", "html") if getattr(data, name) is not None]
    if len(given) > 1:
        raise InvalidInput("Send the document as one of `text`, `html` or `url`, not both.", field="html")
    if given == ["text"]:
        return None
    if given == ["html"]:
        return read_page((data.html or "").encode("utf-8"))
    if data.url is None:
        raise InvalidInput(
            "A source needs its `text`, a saved page's `html` or a `url` to fetch.", field="text"
        )
    return fetch_page(data.url, limits)


def _required(value: Any, name: str, page: Page | None) -> Any:
    if value is None:
        where = "and the page does not give it" if page is not None else "for a text"
        raise InvalidInput(f"`{name}` is required {where}.", field=name)
    return value


def resolve_document(data: SourceCreate, limits: FetchLimits) -> Document:
    """The document a request describes: its text as given, or a page's article with its metadata."""
    page = _page_of(data, limits)
    meta = page or Page("", None, None, None, None, "")
    text = normalise_text(data.text if page is None else page.text)  # type: ignore[arg-type]
    language = data.language or meta.language or detect_language(text)
    return Document(
        text=text,
        title=_required(data.title or (page.title if page else None), "title", page),
        publisher=_required(data.publisher or (page.publisher if page else None), "publisher", page),
        published_on=_required(
            data.published_on or (page.published_on if page else None), "published_on", page
        ),
        language=normalize_language(language),
        url=data.url or meta.url,
        retrieved_at=meta.retrieved_at,
        raw_hash=page.raw_hash if page else None,
    )


def find_source(*, session: Session, digest: str) -> Source | None:
    """The stored document with this content hash, if any."""
    return session.exec(select(Source).where(Source.content_hash == digest)).first()


def _with_provenance(write: WriteContext, source: Source, document: Document) -> Source:
    """The stored source, given the page address it lacked (the text, the evidence, stays as it is)."""
    if source.url is not None or document.url is None:
        return source
    session = write.session
    before = {"url": None, "retrieved_at": None, "raw_hash": source.raw_hash}
    with unit_of_work(write) as uow:
        source.url, source.retrieved_at = document.url, document.retrieved_at
        source.raw_hash = source.raw_hash or document.raw_hash
        session.add(source)
        after = {
            "url": source.url,
            "retrieved_at": document.audited("")["retrieved_at"],
            "raw_hash": source.raw_hash,
        }
        uow.record("update", "source", str(source.id), before=before, after=after)
    return source


def add_source(*, write: WriteContext, document: Document) -> tuple[Source, bool]:
    """Store a new document, or return the stored one with the same text; True when it is new."""
    session = write.session
    digest = content_hash(document.text)
    existing = find_source(session=session, digest=digest)
    if existing is not None:
        return _with_provenance(write, existing, document), False
    try:
        with unit_of_work(write) as uow:
            source = uow.add(
                Source(
                    title=document.title,
                    publisher=document.publisher,
                    published_on=document.published_on,
                    url=document.url,
                    content_hash=digest,
                    text=document.text,
                    language=document.language,
                    retrieved_at=document.retrieved_at,
                    raw_hash=document.raw_hash,
                )
            )
            uow.record("create", "source", str(source.id), after=document.audited(digest))
    except IntegrityError:  # the same text stored concurrently: answer with that one
        existing = find_source(session=session, digest=digest)
        if existing is None:
            raise
        return existing, False
    return source, True
