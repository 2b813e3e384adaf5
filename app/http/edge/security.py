"""Headers every answer carries, and the request id every log line names.

- `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` on every answer.
- A `Content-Security-Policy` on every HTML page (the dashboard at `/`, the docs at `/docs`):
  this origin only, nothing inline; a page with inline scripts (the docs) gets their SHA-256 hashes
  instead of 'unsafe-inline', plus the inline styles and data: images Swagger UI draws with.
  A page that sets its own policy keeps it.
- `X-Request-ID`: the client's (1-128 of `A-Z a-z 0-9 . _ : -`), or a new random one; echoed on
  the answer, kept in `scope["state"]["request_id"]` and in a context variable the log formatter
  reads, so every log line of the request names it.
"""

import base64
import hashlib
import os
import re
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.negotiation import request_header

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
REFERRER_POLICY = "no-referrer"
REQUEST_ID = "x-request-id"
VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
MAX_HTML = 2_000_000
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def request_id_of(scope: Scope) -> str:
    """The client's request id when it is a sane token, else a new random one: 32 hex digits, as
    `uuid4().hex` wrote them, from os.urandom directly (cheaper than uuid4, on every answer)."""
    given = request_header(scope, REQUEST_ID.encode()) or ""
    return given if VALID_ID.match(given) else os.urandom(16).hex()


def page_csp(html: bytes) -> str:
    """The policy of one HTML page: PAGE_CSP, or, with inline scripts, their hashes allowed."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(html)
    ]
    if not hashes:
        return PAGE_CSP
    return (
        f"default-src 'none'; script-src 'self' {' '.join(hashes)}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


OWN = (b"x-content-type-options", REQUEST_ID.encode())


def secured_headers(raw: list[tuple[bytes, bytes]], rid: bytes) -> list[tuple[bytes, bytes]]:
    """A new header list (a cached answer's list is shared, never changed) with nosniff, the request
    id and, unless the route chose one, the Referrer-Policy."""
    out = [(k, v) for k, v in raw if k not in OWN]
    out += [(b"x-content-type-options", b"nosniff"), (OWN[1], rid)]
    if not any(k == b"referrer-policy" for k, _ in raw):
        out.append((b"referrer-policy", REFERRER_POLICY.encode()))
    return out


def _is_html(raw: list[tuple[bytes, bytes]]) -> bool:
    """An HTML page without its own policy (read off the raw list: this runs on every answer)."""
    html = any(k == b"content-type" and v.startswith(b"text/html") for k, v in raw)
    return html and not any(k == b"content-security-policy" for k, _ in raw)


class SecurityHeadersMiddleware:
    """nosniff, Referrer-Policy, CSP on HTML, and X-Request-ID in and out (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        rid_bytes = rid.encode("latin-1")
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        page: dict[str, Any] = {}

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": secured_headers(message.get("headers", []), rid_bytes)}
                if _is_html(message["headers"]):
                    page.update(start=message, chunks=[])
                    return
            elif message["type"] == "http.response.body" and page:
                page["chunks"].append(message.get("body", b""))
                if message.get("more_body", False) and sum(map(len, page["chunks"])) < MAX_HTML:
                    return
                await _send_page(send, page, message.get("more_body", False))
                page.clear()
                return
            await send(message)

        try:
            await self.app(scope, receive, secured)
        finally:
            request_id_var.reset(token)


async def _send_page(send: Send, page: dict[str, Any], more: bool) -> None:
    """An HTML page held until its body is known, sent with its policy."""
    body = b"".join(page["chunks"])
    MutableHeaders(scope=page["start"])["Content-Security-Policy"] = page_csp(body)
    await send(page["start"])
    await send({"type": "http.response.body", "body": body, "more_body": more})
