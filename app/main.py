"""The application factory."""

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app.api.v1 import api_router
from app.api.v1.health import router as health_router
from app.core.problems import install_problem_handlers

DESCRIPTION = """
Statistics of the CSTO's standing security operations (**Channel**, **Mercenary**, **Illegal**,
**PROXY**), their phases and the results they report. Every figure carries the verbatim quote of
its source with character offsets, its qualifier ("more than", "about", ...), its unit as stated
and the date of the statement; totals never add cumulative figures to phase figures, country
shares to wholes, or the same figure twice.
"""


def create_app() -> FastAPI:
    """Build the API; docs assets are served locally so /docs works with no internet."""
    app = FastAPIOffline(
        title="opstats",
        version="1.0.0",
        description=DESCRIPTION,
    )
    install_problem_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router)
    return app
