"""Settings from the environment, so one image runs on SQLite or PostgreSQL unchanged."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./opstats.db"
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    migrations_dir: Path = PROJECT_ROOT / "migrations"
    cache_max_age: int = 60
    response_cache_size: int = 2048
    idempotency_ttl_hours: int = 48
    db_pool_size: int = 10
    otel_telemetry: bool = False  # FastAPI's native OpenTelemetry hooks (a provider check per request)


@lru_cache
def get_settings() -> Settings:
    """One Settings per process (cleared by tests that change the environment)."""
    return Settings()
