"""The one cursor codec of every paged list: which list, which order, and the last row's sort values.

A cursor is URL-safe base64 of JSON `{"k": list, "s": sort, "v": values}`. A cursor of another list,
another sort, or one this API never issued is a BadParameter naming `cursor` (a 422 on every list).
"""

import base64
import binascii
from typing import Any

import orjson

from app.domain.errors import BadParameter

MAX_CURSOR_ID = 2**63 - 1  # ids are at most BIGINT: a larger one is not ours


def foreign_cursor() -> BadParameter:
    """The error for a cursor this API did not issue for this list and order."""
    return BadParameter("cursor", "The cursor is not one this API issued for this list and sort order.")


def encode_cursor(kind: str, sort: str, values: list[Any]) -> str:
    """An opaque cursor naming the last row of a page of list `kind` in order `sort`."""
    data = {"k": kind, "s": sort, "v": values}
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, sort: str, count: int) -> list[Any]:
    """The sort values a cursor carries (`count` of them), or the foreign-cursor error."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise foreign_cursor() from exc
    if not isinstance(data, dict) or data.get("k") != kind or data.get("s") != sort:
        raise foreign_cursor()  # a list, string, number or another list's cursor is not ours
    values = data.get("v")
    if not isinstance(values, list) or len(values) != count:
        raise foreign_cursor()
    return values


def encode_id_cursor(kind: str, last_id: int) -> str:
    """The cursor after row `last_id` of a list in id order."""
    return encode_cursor(kind, "id", [last_id])


def decode_id_cursor(cursor: str, kind: str) -> int:
    """The last id of the previous page of a list in id order."""
    (value,) = decode_cursor(cursor, kind, "id", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CURSOR_ID:
        raise foreign_cursor()
    return value
