"""The floor to compare with: a bare ASGI app answering a small JSON body (no framework, no DB)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the ASGI types only: the floor imports no framework at run time
    from starlette.types import Receive, Scope, Send

BODY = b'{"status":"ok"}'


async def app(scope: "Scope", _receive: "Receive", send: "Send") -> None:
    """Answer every request with the same small JSON."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"etag", b'"x"')],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
