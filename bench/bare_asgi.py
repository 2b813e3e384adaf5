"""The floor to compare with: a bare ASGI app answering a small JSON body (no framework, no DB)."""

BODY = b'{"status":"ok"}'


async def app(scope, _receive, send):  # type: ignore[no-untyped-def]
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
