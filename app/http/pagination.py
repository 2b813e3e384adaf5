"""Paging over HTTP: the `Link: rel="next"` header of a page (the cursor itself is app.domain.cursors)."""

from urllib.parse import urlencode

from fastapi import Request


def next_url(request: Request, cursor: str) -> str:
    """The next page's URL, relative (same path and query, new cursor) so cached headers fit any host."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    query = urlencode([*params, ("cursor", cursor)])
    return f"{request.scope.get('root_path', '')}{request.url.path}?{query}"


def next_link(request: Request, cursor: str | None) -> dict[str, str] | None:
    """The `Link: <...>; rel="next"` header of a page, or None on the last page."""
    return {"Link": f'<{next_url(request, cursor)}>; rel="next"'} if cursor else None
