"""Query-parameter models shared by the routers: every GET refuses a parameter it does not declare."""

import base64
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.http.negotiation import csv_response, json_response, next_link, representation
from app.http.problems import ProblemError
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


class FormatParams(QueryParams):
    """Only the representation, for a GET of one thing that answers JSON or CSV."""

    format: Format = None


NoQuery = Annotated[QueryParams, Query()]
FormatQuery = Annotated[FormatParams, Query()]


class ListParams(QueryParams):
    """A short list (operations, phases, metrics): one page by default, paged like every list."""

    limit: int = Field(
        default=MAX_PAGE,
        ge=1,
        le=MAX_PAGE,
        description="Page size (these lists are short: one page by default)",
    )
    cursor: str | None = Field(default=None, max_length=300, description="`next_cursor` of the previous page")
    format: Format = None


ListQuery = Annotated[ListParams, Query()]


def _encode_after(key: str) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode().rstrip("=")


def _decode_after(cursor: str) -> str:
    try:
        kind, _, key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
    except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8: not ours
        kind, key = "", ""
    if kind != "k" or not key:
        raise ProblemError(
            422, "The cursor is not one this API issued.", code="invalid-parameter", parameter="cursor"
        )
    return key


def page_of(items: Sequence[T], key: Callable[[T], str], query: ListParams) -> tuple[list[T], str | None]:
    """The items after the cursor's item (keyed by a unique key, so an added item never repeats one)
    and the next cursor; a cursor naming no item of the list is a 422 naming `cursor`."""
    start = 0
    if query.cursor:
        after = _decode_after(query.cursor)
        keys = [key(i) for i in items]
        if after not in keys:
            raise ProblemError(
                422, "The cursor names nothing in this list.", code="invalid-parameter", parameter="cursor"
            )
        start = keys.index(after) + 1
    page = list(items[start : start + query.limit])
    more = start + query.limit < len(items)
    return page, _encode_after(key(page[-1])) if more and page else None


def short_list(
    request: Request,
    query: ListParams,
    model: type[BaseModel],
    items: Sequence[BaseModel],
    key: Callable[[Any], str],
) -> Response:
    """A short list answered as a page of JSON (with its `Link`), or as CSV of every item."""
    if representation(request, query.format) == "csv":
        return csv_response(model, (i.model_dump(mode="json") for i in items))
    page, nxt = page_of(items, key, query)
    return json_response(Page[Any](items=page, next_cursor=nxt, total=len(items)), next_link(request, nxt))
