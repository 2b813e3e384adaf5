"""Query-parameter models shared by the routers: every GET refuses a parameter it does not declare."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query, Request, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.domain.cursors import decode_cursor, encode_cursor, foreign_cursor
from app.domain.errors import BadParameter
from app.domain.instants import check_past, parse_instant
from app.http.negotiation import csv_response, json_response, representation
from app.http.pagination import next_link
from app.read.asof import Snapshot
from app.schemas.common import Page

T = TypeVar("T")
MAX_PAGE = 500


class QueryParams(BaseModel):
    """No query parameters: an unknown one is a 422 naming it, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


Format = Annotated[
    Literal["json", "csv"] | None,
    Field(
        description="`csv` or `json`; overrides the `Accept` header (`Accept: text/csv` also gives CSV)",
        examples=["csv"],
    ),
]

Bom = Annotated[
    bool,
    Field(
        description="With CSV: lead the file with a UTF-8 byte-order mark, so spreadsheets (Excel) read "
        "it as UTF-8 (Cyrillic quotes); the default has none. Refused (422) for JSON.",
        examples=[True],
    ),
]


def _instant(value: object) -> datetime:
    """An `at` value: an RFC 3339 timestamp that is not in the future."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp, e.g. 2026-12-01T10:00:00Z")
    return check_past(parse_instant(value))


AsOf = Annotated[
    datetime | None,
    BeforeValidator(lambda v: None if v is None else _instant(v)),
    Field(
        description="Answer as the data stood at this instant (RFC 3339, e.g. `2026-12-01T10:00:00Z`; "
        "not in the future). Such an answer never changes: it is cacheable forever.",
        examples=["2026-12-01T10:00:00Z"],
    ),
]


class AsOfParams(QueryParams):
    """A read GET: `at=` answers as the data stood at that instant."""

    at: AsOf = None

    @property
    def snap(self) -> Snapshot:
        """The state the answer is read from: the present, or the data as it stood `at`."""
        return Snapshot(self.at)


class FormatParams(AsOfParams):
    """Only the representation (and `at`), for a GET of one thing that answers JSON or CSV."""

    format: Format = None
    bom: Bom = False


NoQuery = Annotated[QueryParams, Query()]
FormatQuery = Annotated[FormatParams, Query()]


class ListParams(AsOfParams):
    """A short list (operations, phases, metrics): one page by default, paged like every list."""

    limit: int = Field(
        default=MAX_PAGE,
        ge=1,
        le=MAX_PAGE,
        description="Page size (these lists are short: one page by default)",
    )
    cursor: str | None = Field(default=None, max_length=300, description="`next_cursor` of the previous page")
    format: Format = None
    bom: Bom = False


ListQuery = Annotated[ListParams, Query()]


def _decode_after(cursor: str, kind: str) -> str:
    """The key of the previous page's last item; a cursor of another list is a BadParameter."""
    (key,) = decode_cursor(cursor, kind, "key", 1)
    if not isinstance(key, str) or not key:
        raise foreign_cursor()
    return key


def page_of(
    items: Sequence[T], key: Callable[[T], str], query: ListParams, kind: str
) -> tuple[list[T], str | None]:
    """The items after the cursor's item (keyed by a unique key, so an added item never repeats one)
    and the next cursor; a cursor naming no item of the list is a 422 naming `cursor`."""
    start = 0
    if query.cursor:
        after = _decode_after(query.cursor, kind)
        keys = [key(i) for i in items]
        if after not in keys:
            raise BadParameter("cursor", "The cursor names nothing in this list.")
        start = keys.index(after) + 1
    page = list(items[start : start + query.limit])
    more = start + query.limit < len(items)
    return page, encode_cursor(kind, "key", [key(page[-1])]) if more and page else None


def short_list(
    request: Request,
    query: ListParams,
    model: type[BaseModel],
    items: Sequence[BaseModel],
    key: Callable[[Any], str],
) -> Response:
    """A short list answered as a page of JSON (with its `Link`), or as CSV of every item."""
    if representation(request, query.format, query.bom) != "json":
        return csv_response(model, (i.model_dump(mode="json") for i in items), bom=query.bom)
    page, nxt = page_of(items, key, query, kind=request.url.path)
    return json_response(Page[Any](items=page, next_cursor=nxt, total=len(items)), next_link(request, nxt))
