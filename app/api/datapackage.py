"""GET /api/v1/datapackage: the dataset as a Frictionless data package, one zip of every table, the
source texts and their descriptor (built by app/read/datapackage). Mounted under /api/v1 by
app/api/v1/__init__.py; it lives here because it is no single resource's router."""

from collections.abc import Iterator
from datetime import UTC
from tempfile import SpooledTemporaryFile
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.api.deps import SessionDep
from app.api.v1.params import AsOfParams
from app.read.datapackage import write_zip

router = APIRouter(prefix="/datapackage", tags=["datapackage"])
ZIP_TYPE = "application/zip"
SPOOL_BYTES = 8 * 1024 * 1024  # a larger package is built on disk, not in memory
CHUNK = 1 << 16


class PackageQuery(AsOfParams):
    """Only `at=`: the package as the data stood then; any other parameter is refused."""


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The built zip, read back in chunks; the file is closed (and removed) when sent."""
    try:
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


def file_name(query: PackageQuery) -> str:
    """opstats-datapackage.zip, or opstats-datapackage-<instant>.zip for an `at=` package."""
    stamp = f"-{query.at.astimezone(UTC):%Y%m%dT%H%M%SZ}" if query.at else ""
    return f"opstats-datapackage{stamp}.zip"


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The package as a zip (`Content-Disposition: attachment`), with a strong `ETag`",
        "content": {ZIP_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    },
    304: {"description": "Not modified: `If-None-Match` names the current ETag (empty body)"},
}


@router.get(
    "",
    summary="The dataset as a Frictionless data package (zip)",
    response_class=StreamingResponse,
    responses=RESPONSES,
    openapi_extra={"x-etag": "data-version"},  # the package holds the sources: a new one changes it
)
def get_datapackage(session: SessionDep, query: Annotated[PackageQuery, Query()]) -> StreamingResponse:
    """Every table as CSV — `operations.csv`, `phases.csv`, `metrics.csv`, `sources.csv`, `results.csv`
    (every result, retracted ones included and flagged) — the full text of each source
    (`sources/<id>.txt`), a `README.md`, a `CITATION.cff` and `datapackage.json`: a Frictionless Data
    Package v2 descriptor naming each file with its size and SHA-256 and each column with its type,
    description and unit, the primary and foreign keys. CSV cells are written as in every CSV of the
    API (text that would start a spreadsheet formula gets a leading `'`). `at=` gives the package as
    the data stood then. `opstats export --datapackage DIR` writes the same files."""
    spool = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by _chunks)
    try:
        write_zip(session=session, file=spool, at=query.at)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    headers = {
        "Content-Disposition": f'attachment; filename="{file_name(query)}"',
        "Content-Length": str(size),
    }
    return StreamingResponse(_chunks(spool), media_type=ZIP_TYPE, headers=headers)
