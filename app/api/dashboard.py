"""The dashboard: `GET /` and its static assets from app/web/, a client of the public JSON API only.

Kept out of the OpenAPI document (it is not part of the API). Every answer is revalidated
(`Cache-Control: no-cache`; the conditional-GET middleware adds a strong ETag from the body and
answers 304). Its Content-Security-Policy (this origin only: the page has no inline script or
style and loads nothing from elsewhere), nosniff and Referrer-Policy come from the one place every
answer gets them, app/http/edge/security.py.
"""

from pathlib import Path

from fastapi import APIRouter, Response

from app.http.problems import problem_response

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
HEADERS = {"Cache-Control": "no-cache"}

router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/")
def dashboard() -> Response:
    """The page itself: markup only; dashboard.js fills it from /api/v1."""
    body = (WEB_DIR / "index.html").read_bytes()
    return Response(body, media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/assets/{name}")
def asset(name: str) -> Response:
    """One of the page's few files, by exact name (nothing else under app/web/ is reachable)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        return problem_response(404, f"No dashboard asset named {name!r}.", code="not-found")
    return Response((WEB_DIR / name).read_bytes(), media_type=media_type, headers=HEADERS)
