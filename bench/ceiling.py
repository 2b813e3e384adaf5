"""The ceiling to compare with: a bare Starlette app answering opstats' exact bytes for each path.

`BENCH_BODIES` names a JSON file {path_with_query: {"etag", "content_type", "body"}} captured from
opstats by bench/run.py; each path answers that body with its ETag, and If-None-Match with it a
304, the least any server can do for the same answer (no database, no validation, no routing
beyond one dict lookup). Unknown paths answer a small JSON body.
"""

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODIES = json.loads(Path(os.environ["BENCH_BODIES"]).read_text()) if os.environ.get("BENCH_BODIES") else {}
ANSWERS = {path: (a["etag"], a["content_type"], a["body"].encode("latin-1")) for path, a in BODIES.items()}


async def answer(request: Request) -> Response:
    """The captured answer for this path and query, 304 when the client has it."""
    key = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    found = ANSWERS.get(key)
    if found is None:
        return Response(b'{"status":"ok"}', media_type="application/json")
    etag, content_type, body = found
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type=content_type, headers={"ETag": etag})


app = Starlette(routes=[Route("/{path:path}", answer)])
