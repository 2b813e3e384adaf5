"""Request bodies at the edge: size, JSON depth and control characters, checked before any parsing.

A body over `max_bytes` is a 413 problem as soon as that is known: from `Content-Length` before a
byte is read, or the moment a streamed body passes the limit (the rest is not read). A JSON body
nested deeper than `max_depth` is a 422 (the parser would recurse on it), and a text field holding
NUL or another control character (anything below U+0020 but tab, line feed and carriage return;
DEL; U+0080-U+009F) is a 422 naming the field, on every engine alike. The checked body is then
handed to the app unchanged, so routes parse it once.
"""

import json
import re
from collections.abc import Iterator
from itertools import accumulate
from typing import Any
from urllib.parse import unquote_plus

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.problems import problem_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_CONTROL_ESCAPE = re.compile(
    rb"(?<!\\)(?:\\\\)*\\(?:u00(?:0[0-8bcef]|1[0-9a-f]|7f|[89][0-9a-f])|[bf])|\x7f|\xc2[\x80-\x9f]", re.I
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def nul_location(scope: Scope) -> dict[str, Any]:
    """Where a URL holds a NUL: `parameter` naming the query parameter, or `in: path`."""
    for pair in scope.get("query_string", b"").split(b"&"):
        if b"%00" in pair:
            return {"parameter": unquote_plus(pair.split(b"=", 1)[0].decode("latin-1")).replace("\x00", "")}
    return {"in": "path"}


class BodyRefused(Exception):
    """A body this API will not parse: its status and sentence."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra


def json_depth(body: bytes) -> int:
    """How deeply a JSON text nests arrays and objects (strings skipped; cheap when shallow)."""
    if body.count(b"[") + body.count(b"{") <= 1:
        return body.count(b"[") + body.count(b"{")
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    steps = (1 if c in b"[{" else -1 for c in brackets)
    return max(accumulate(steps, initial=0))


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string of a JSON value with where it is (`a.b[0]`)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def control_field(body: bytes) -> str | None:
    """The first field whose text holds a control character, or None."""
    if not _CONTROL_ESCAPE.search(body):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's parser says so
    return next((path or "body" for path, s in _strings(data, "") if _CONTROL.search(s)), None)


def check_json(body: bytes, max_depth: int) -> None:
    """Refuse a JSON body too deep to parse safely, or one with control characters in its text."""
    depth = json_depth(body)
    if depth > max_depth:
        raise BodyRefused(422, f"The JSON body nests {depth} levels; at most {max_depth} are accepted.")
    where = control_field(body)
    if where is not None:
        raise BodyRefused(
            422,
            f"Field {where!r} holds a control character (NUL, U+0001-U+001F other than tab and line "
            "breaks, DEL or U+0080-U+009F); remove it.",
            field=where,
            errors=[{"in": "body", "name": where, "message": "control character"}],
        )


def _is_json(headers: Headers) -> bool:
    """FastAPI parses a body as JSON when it says so or says nothing."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return not kind or kind == "application/json" or kind.endswith("+json")


class BodyLimitMiddleware:
    """413 for large bodies, 422 for deep or control-character JSON, before the app sees them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int) -> None:
        self.app, self.max_bytes, self.max_depth = app, max_bytes, max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            body = await self._read(headers, receive)
            if body and _is_json(headers):
                check_json(body, self.max_depth)
        except BodyRefused as exc:
            refusal = problem_response(
                exc.status,
                exc.detail,
                code="body-too-large" if exc.status == 413 else "invalid-input",
                instance=scope["path"],
                headers={"Connection": "close"} if exc.status == 413 else None,
                **exc.extra,
            )
            await refusal(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, headers: Headers, receive: Receive) -> bytes:
        """The whole body, refused once it is known to pass the limit."""
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise BodyRefused(400, "Content-Length is not a number of bytes.")
            if int(declared) > self.max_bytes:
                raise BodyRefused(413, self._too_large())
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise BodyRefused(413, self._too_large())
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes (MAX_BODY_BYTES)."


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then waits for the disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
