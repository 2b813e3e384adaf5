"""The app's routes with their full path templates (FastAPI includes routers lazily)."""

from collections.abc import Iterable

from starlette.routing import BaseRoute


def route_contexts(routes: Iterable[BaseRoute]) -> list[tuple[BaseRoute, str]]:
    """Every route with its full path template."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI: routes are flat
        return [(r, str(getattr(r, "path", ""))) for r in routes]
    return [(rc.original_route, str(rc.path)) for rc in iter_route_contexts(list(routes))]
