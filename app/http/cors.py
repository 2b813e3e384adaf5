"""CORS for reads only: any origin may GET/HEAD; writes get no CORS headers and no preflight."""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.negotiation import request_header
from app.http.problems import problem_response

READ_METHODS = ("GET", "HEAD", "OPTIONS")


class ReadOnlyCORS(CORSMiddleware):
    """Starlette's CORS limited to reads; a refused preflight is a 403 problem."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD"],
            allow_headers=["*"],
            expose_headers=["ETag", "Link", "Cache-Control", "Vary"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in READ_METHODS:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and request_header(scope, b"origin") is None:
            await self.app(scope, receive, _vary_origin(send))  # what Starlette adds, without its Headers
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        return problem_response(
            403,
            f"CORS preflight refused: only {', '.join(READ_METHODS)} are open to other origins.",
            code="cors-refused",
        )


def _vary_origin(send: Send) -> Send:
    """A read without Origin: its answer says it varies by Origin (a cache must not give it to a page
    of another origin without the CORS headers), as Starlette's CORSMiddleware does."""

    async def varied(message: Message) -> None:
        if message["type"] == "http.response.start":
            raw = list(message.get("headers", []))
            vary = [v for k, v in raw if k == b"vary"]
            raw = [(k, v) for k, v in raw if k != b"vary"]
            raw.append((b"vary", b", ".join([*vary, b"Origin"])))
            message = {**message, "headers": raw}
        await send(message)

    return varied
