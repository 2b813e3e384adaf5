"""The dataset as a Frictionless Data Package (v2): the five tables, the source texts, a README, a
CITATION.cff and the `datapackage.json` that describes them, written member by member to a sink.

A sink is a zip (the API's answer) or a folder (`opstats export --datapackage DIR`): the same
bytes either way. Every member is streamed into the sink as it is made (a table a batch of rows at
a time, a text one source at a time); `datapackage.json` comes last, with the size and SHA-256 of
each file it lists. The output is a function of the data alone (created = the time of the last
write, or the `at` instant), so one state always gives the same bytes.
"""

import hashlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
from sqlmodel import Session, col, select

from app.csv_format import csv_stream
from app.models import DataVersion, Source
from app.read.asof import Snapshot
from app.read.datapackage import tables
from app.read.datapackage.tables import Column, text_path
from app.read.datapackage.texts import KEYWORDS, About, Document, citation_cff, readme

NAME = "opstats"
TITLE = "Statistics of the CSTO's standing security operations, each figure with its verbatim quote"
DESCRIPTION = (
    "The operations Channel, Mercenary, Illegal and PROXY of the Collective Security Treaty "
    "Organization, their phases and the figures they report, each exactly as its source states it: "
    "the verbatim quote with character offsets into the stored document (included), the qualifier, "
    "the unit as stated and the value in the metric's base unit."
)
LICENSE = {
    "name": "ODC-By-1.0",
    "path": "https://opendatacommons.org/licenses/by/1-0/",
    "title": "Open Data Commons Attribution License v1.0",
}
V2 = "https://datapackage.org/profiles/2.0/datapackage.json"
CHUNK = 1 << 16
ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)  # a zip cannot stamp a file earlier (an `at=` may be)


class Sink(Protocol):
    """Where the members go: `open(name)` gives a binary file to write one member to."""

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]: ...


@dataclass(frozen=True)
class Written:
    """A member as written: its path, size and SHA-256."""

    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Table:
    """One tabular resource: its name, title, fields, keys and how its CSV is made."""

    name: str
    title: str
    fields: list[Column]
    primary_key: str
    foreign_keys: list[tuple[str, str, str]]  # (field, resource, field); resource "" for itself
    make: Callable[[Session, Snapshot], tables.Rows]


TABLES = [
    Table("operations", "Operations", tables.OPERATIONS, "slug", [], tables.operations_rows),
    Table(
        "phases", "Phases", tables.PHASES, "slug", [("operation", "operations", "slug")], tables.phases_rows
    ),
    Table("metrics", "Metrics", tables.METRICS, "slug", [], tables.metrics_rows),
    Table("sources", "Source documents", tables.SOURCES, "id", [], tables.sources_rows),
    Table(
        "results",
        "Results: every reported figure, retracted ones flagged",
        tables.RESULTS,
        "id",
        [
            ("operation", "operations", "slug"),
            ("phase", "phases", "slug"),
            ("metric", "metrics", "slug"),
            ("source_id", "sources", "id"),
            ("duplicate_of", "", "id"),
        ],
        tables.results_rows,
    ),
]


def _put(sink: Sink, path: str, chunks: Iterable[bytes]) -> Written:
    """Write one member, counting and hashing it as it passes."""
    digest, size = hashlib.sha256(), 0
    with sink.open(path) as out:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Written(path, size, digest.hexdigest())


def created_at(session: Session, at: datetime | None) -> datetime:
    """When the state the package shows was made: the `at` instant, else the time of the last write."""
    if at is not None:
        return at.astimezone(UTC)
    stamp = session.exec(select(DataVersion.updated_at).where(DataVersion.id == 1)).first()
    stamp = stamp or datetime.fromtimestamp(0, UTC)
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def rfc3339(stamp: datetime) -> str:
    """An instant as RFC 3339 in UTC, to the second."""
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _source_texts(session: Session, snap: Snapshot) -> Iterator[tuple[Source, bytes]]:
    """Every source (stored by `snap`'s instant) with its text as UTF-8, one at a time (never all
    texts in memory)."""
    s = snap.source
    ids = list(session.exec(select(s.id).order_by(col(s.id))))
    for sid in ids:
        source = session.get(Source, sid)
        if source is not None:
            yield source, source.text.encode()
            session.expunge(source)


def _schema(table: Table) -> dict[str, Any]:
    keys = table.foreign_keys
    return {
        "fields": [c.descriptor() for c in table.fields],
        "missingValues": [""],
        "primaryKey": [table.primary_key],
        "foreignKeys": [
            {"fields": [f], "reference": {**({"resource": r} if r else {}), "fields": [rf]}}
            for f, r, rf in keys
        ],
    }


def _file(written: Written) -> dict[str, Any]:
    return {"path": written.path, "bytes": written.bytes, "hash": f"sha256:{written.sha256}"}


def _table_resource(table: Table, written: Written) -> dict[str, Any]:
    return {
        "name": table.name,
        "type": "table",
        "title": table.title,
        **_file(written),
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"', "header": True},
        "schema": _schema(table),
    }


def _text_resource(source: Source, written: Written) -> dict[str, Any]:
    return {
        "name": f"source-{source.id}-text",
        "title": f"Full text of source {source.id}: {source.title}",
        **_file(written),
        "format": "txt",
        "mediatype": "text/plain",
        "encoding": "utf-8",
    }


@dataclass
class Contents:
    """What was written so far: resources, the source documents, and each table's row count."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def _write_tables(session: Session, snap: Snapshot, sink: Sink, contents: Contents) -> None:
    for table in TABLES:
        rows = tables.Counted(table.make(session, snap))
        header = tables.HEADERS[table.name]
        written = _put(sink, f"{table.name}.csv", csv_stream(header, rows.rows()))
        contents.resources.append(_table_resource(table, written))
        contents.rows[table.name] = rows.count


def _write_texts(session: Session, snap: Snapshot, sink: Sink, contents: Contents) -> None:
    for source, text in _source_texts(session, snap):
        chunks = (text[i : i + CHUNK] for i in range(0, len(text), CHUNK))
        contents.resources.append(_text_resource(source, _put(sink, text_path(source.id or 0), chunks)))
        contents.documents.append(
            Document(
                source.title, source.publisher, source.published_on, source.url or text_path(source.id or 0)
            )
        )


def descriptor(contents: Contents, created: datetime) -> dict[str, Any]:
    """The `datapackage.json` of what was written."""
    return {
        "$schema": V2,
        "name": NAME,
        "title": TITLE,
        "description": DESCRIPTION,
        "licenses": [LICENSE],
        "created": rfc3339(created),
        "keywords": KEYWORDS,
        "sources": [{"title": d.title, "path": d.path} for d in contents.documents],
        "resources": contents.resources,
    }


def write_package(*, session: Session, sink: Sink, at: datetime | None = None) -> list[str]:
    """Write every member of the package to `sink` (as the data stood at `at`, when given); the member
    paths, in the order written."""
    created = created_at(session, at)
    contents = Contents()
    snap = Snapshot(at)
    _write_tables(session, snap, sink, contents)
    _write_texts(session, snap, sink, contents)
    names = [r["path"] for r in contents.resources]
    about = About(TITLE, DESCRIPTION, rfc3339(created), at is not None, LICENSE, contents.rows)
    for path, body in (
        ("README.md", readme(about)),
        ("CITATION.cff", citation_cff(about, contents.documents)),
    ):
        names.append(_put(sink, path, [body.encode()]).path)
    meta = orjson.dumps(descriptor(contents, created), option=orjson.OPT_INDENT_2) + b"\n"
    names.append(_put(sink, "datapackage.json", [meta]).path)
    return names


class ZipSink:
    """Members written into a zip (deflated), stamped with the package's time so the bytes depend on
    the data alone."""

    def __init__(self, file: IO[bytes], stamp: datetime) -> None:
        self.zip = zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED)
        self.date_time = max(stamp.astimezone(UTC), ZIP_EPOCH).timetuple()[:6]

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]:
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16  # -rw-r--r--
        return self.zip.open(info, "w")

    def close(self) -> None:
        self.zip.close()


class FolderSink:
    """Members written as files under a folder (made as needed)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def open(self, name: str) -> AbstractContextManager[IO[bytes]]:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("wb")


def write_zip(*, session: Session, file: IO[bytes], at: datetime | None = None) -> None:
    """The package as a zip written to `file`."""
    sink = ZipSink(file, created_at(session, at))
    try:
        write_package(session=session, sink=sink, at=at)
    finally:
        sink.close()


def write_folder(*, session: Session, root: Path, at: datetime | None = None) -> list[Path]:
    """The package as files under `root`; the files written."""
    return [root / name for name in write_package(session=session, sink=FolderSink(root), at=at)]
