"""Representations of read responses: JSON or CSV (negotiated), cache headers, computed-value cache."""

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.types import Scope

from app.caches import Caches
from app.config import get_settings
from app.csv_format import Row, columns, csv_stream
from app.domain.cells import Neutralised
from app.domain.errors import BadParameter

T = TypeVar("T")
CSV_TYPE = "text/csv; charset=utf-8"
JSON_TYPE = "application/json"


def _accept_q(accept: str) -> tuple[float, float | None, bool]:
    """q of text/csv, q of application/json (None when not named) and whether CSV is named first."""
    csv_q, json_q = 0.0, None
    order: list[str] = []
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == "text/csv":
            csv_q, order = max(csv_q, q), [*order, "csv"]
        elif media == JSON_TYPE:
            json_q, order = max(json_q or 0.0, q), [*order, "json"]
    return csv_q, json_q, bool(order) and order[0] == "csv"


def prefers_csv(accept: str | None) -> bool:
    """True when the Accept header asks for text/csv over JSON (ties go to the one named first)."""
    if not accept:
        return False
    csv_q, json_q, csv_first = _accept_q(accept)
    if csv_q <= 0:
        return False
    return json_q is None or csv_q > json_q or (csv_q == json_q and csv_first)


def request_header(scope: Scope, name: bytes) -> str | None:
    """One request header by its lower-case name, from the raw ASGI list (no Headers object: this
    runs several times on every request)."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


CSV_BOM = "csv-bom"  # CSV led by a UTF-8 byte-order mark (`?bom=true`): another representation
_BOOL = TypeAdapter(bool)  # `bom` read as the route's query model reads it


def _bom_of(value: str | None) -> bool | None:
    """A `bom` value as the route reads it: True, False, or None when it is no boolean (a 422)."""
    if value is None:
        return False
    try:
        return _BOOL.validate_python(value)
    except ValidationError:
        return None


def representation_of(query_string: bytes, accept: str | None) -> str:
    """json, csv, csv-bom or invalid (an unknown ?format= value, a `bom` that is no boolean or a BOM
    asked of JSON: answered 422 by the route), so a body with a BOM is never keyed like one without."""
    fmt = bom_value = None
    if b"format" in query_string or b"bom" in query_string or b"%" in query_string:  # else no parse
        for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            if key == "format":
                fmt = value
            elif key == "bom":
                bom_value = value
    if fmt is not None and fmt not in ("json", "csv"):
        return "invalid"
    rep = fmt or ("csv" if prefers_csv(accept) else "json")
    bom = _bom_of(bom_value)
    if bom is None or (bom and rep != "csv"):
        return "invalid"
    return CSV_BOM if bom else rep


def representation(request: Request, fmt: str | None, bom: bool = False) -> str:
    """The representation a request asks for: its (validated) `?format=`, else its Accept header;
    json, csv, or csv-bom with `bom` (a BOM asked of JSON is a 422 naming `bom`)."""
    rep = fmt or ("csv" if prefers_csv(request.headers.get("accept")) else "json")
    if bom and rep != "csv":
        raise BadParameter("bom", "bom=true applies to CSV only: add format=csv (or send Accept: text/csv).")
    return CSV_BOM if bom else rep


IMMUTABLE = "public, max-age=31536000, immutable"


def cache_control() -> str:
    """The Cache-Control of a successful GET: `public, max-age=N`, or `no-cache` when N is 0."""
    age = get_settings().cache_max_age
    return f"public, max-age={age}" if age > 0 else "public, no-cache"


def json_response(payload: BaseModel | dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """A model (or its JSON-ready dict) as JSON bytes (orjson)."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return Response(orjson.dumps(data), media_type=JSON_TYPE, headers=headers)


def csv_response(
    model: type[BaseModel],
    rows: Iterable[Row] | Neutralised,
    *,
    lead: list[str] | None = None,
    headers: dict[str, str] | None = None,
    bom: bool = False,
) -> StreamingResponse:
    """Rows (JSON-shaped dicts, or cell tuples in header order) as streamed CSV; the header is the
    model's fields after `lead`; `bom` leads it with a UTF-8 byte-order mark (for spreadsheets)."""
    header = [*(lead or []), *[c for c in columns(model) if c not in (lead or [])]]
    return StreamingResponse(csv_stream(header, rows, bom=bom), media_type=CSV_TYPE, headers=headers)


def respond(
    request: Request,
    payload: BaseModel | dict[str, Any],
    *,
    fmt: str | None,
    bom: bool = False,
    model: type[BaseModel] | None = None,
    rows: Callable[[], Iterable[dict[str, Any]]] | None = None,
    lead: list[str] | None = None,
) -> Response:
    """JSON of `payload`, or CSV of `rows()` (default: the payload as one row) when CSV is asked for
    (led by a BOM with `bom`).

    A dict payload is already JSON-ready (e.g. maintained totals) and needs `model` for its CSV."""
    if representation(request, fmt, bom) == "json":
        return json_response(payload)
    if isinstance(payload, BaseModel):
        return csv_response(
            model or type(payload), rows() if rows else [payload.model_dump(mode="json")], lead=lead, bom=bom
        )
    assert model is not None, "a dict payload needs the model of its CSV rows"
    return csv_response(model, rows() if rows else [payload], lead=lead, bom=bom)


def cached_value(request: Request, version: int, key: Hashable, compute: Callable[[], T]) -> T:
    """A computed value (e.g. totals, counts) cached in-process under the data version (and the
    database epoch); for an `at=` answer, under its instant, in a cache of its own (that state never
    changes)."""
    at = request.query_params.get("at")
    if at and getattr(request.state, "at_settled", True) is False:  # may still change: kept nowhere
        return compute()
    caches: Caches = request.app.state.caches
    cache = caches.frozen_values if at else caches.values
    epoch = getattr(request.state, "data_epoch", None)
    if isinstance(epoch, str):
        cache.observe_epoch(epoch)
    value: T = (
        cache.get_or_compute(0, (epoch, at, key), compute)
        if at
        else cache.get_or_compute(version, (epoch, key), compute)
    )
    return value
