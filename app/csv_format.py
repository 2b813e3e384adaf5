"""CSV of the JSON shapes (answers, exports, the data package): same field names, nested objects
flattened, lists joined.

Rules (also in the README): a nested object's fields become `parent_child` columns (a result's
`source` gives `source_id`, `source_title`, `source_published_on`, `source_language`); a list of
plain values is joined with "; "; a list of objects is written as its JSON text; null is the empty
cell; true/false as is. A text cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets
a leading `'` (OWASP's defence against CSV formula injection); numbers are written as they are.
"""

import csv
import io
import types
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Union, get_args, get_origin

import orjson
from pydantic import BaseModel

from app.domain.cells import BATCH_ROWS, FORMULA_STARTS, Neutralised, neutralise

BOM = "\ufeff".encode()  # UTF-8 byte-order mark: tells Excel the file is UTF-8 (Cyrillic quotes)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class an annotation holds (unwrapping `X | None`), or None for a leaf field."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [m for m in (_model_of(a) for a in get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None


def columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The CSV header of a model: its JSON field names, nested models flattened with `_`."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        inner = _model_of(info.annotation)
        if inner is not None:
            out += columns(inner, f"{prefix}{name}_")
        else:
            out.append(prefix + name)
    return out


def _cell(value: Any) -> Any:
    """One CSV cell from a JSON value (text neutralised; numbers, true/false and JSON as they are)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, list):
        if any(isinstance(v, dict | list) for v in value):
            return orjson.dumps(value).decode()
        return neutralise("; ".join("" if v is None else str(v) for v in value))
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return value


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON object as one CSV row (nested objects flattened like `columns`)."""
    row: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            row.update(flatten(value, f"{prefix}{key}_"))
        else:
            row[prefix + key] = _cell(value)
    return row


def csv_text(header: list[str], rows: Iterable[dict[str, Any]], *, with_header: bool = True) -> str:
    """Rows as CSV text (cells missing from a row are empty)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\r\n")
    if with_header:
        writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


Row = dict[str, Any] | Sequence[Any]


def cells(header: list[str], row: Row) -> Sequence[Any]:
    """One row's cells in header order: a JSON-shaped dict is flattened; a tuple is cells already
    (its text cells neutralised here, the one check every CSV cell passes)."""
    if isinstance(row, dict):
        flat = flatten(row)
        return [flat.get(name, "") for name in header]
    return [("'" + c if c and c[0] in FORMULA_STARTS else c) if type(c) is str else c for c in row]


def csv_stream(header: list[str], rows: Iterable[Row] | Neutralised, *, bom: bool = False) -> Iterator[bytes]:
    """CSV in chunks of BATCH_ROWS rows: the header first (after a BOM with `bom`), never the whole
    list in memory.

    Rows are JSON-shaped dicts (flattened like `columns`) or tuples of cells in header order (the
    fast path of long lists), every cell through `cells`; or `Neutralised` batches, as they are; then
    one C-level csv.writer."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    yield (BOM if bom else b"") + _drain(buf)
    if isinstance(rows, Neutralised):
        for chunk in rows.batches:
            writer.writerows(chunk)
            yield _drain(buf)
        return
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(cells(header, row))
        if len(batch) >= BATCH_ROWS:
            writer.writerows(batch)
            batch.clear()
            yield _drain(buf)
    if batch:
        writer.writerows(batch)
        yield _drain(buf)


def _drain(buf: io.StringIO) -> bytes:
    """What was written since the last drain, as UTF-8, and an empty buffer."""
    out = buf.getvalue().encode()
    buf.seek(0)
    buf.truncate()
    return out
