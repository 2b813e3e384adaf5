"""Settings from the environment, so one image runs on SQLite or PostgreSQL unchanged."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./opstats.db"
    # "transaction": DATABASE_URL goes through a pooler in transaction mode (PgBouncer): no
    # server-side prepared statements on it, and no session state (app/db.py: pooling_notes).
    database_pooler: Literal["none", "transaction"] = "none"
    # A direct connection (bypassing the pooler) for the data-version listener (LISTEN/NOTIFY on a
    # kept connection, app/versions.py); empty = DATABASE_URL when it is not pooled, else none.
    database_listen_url: str = ""
    database_read_url: str = ""  # a PostgreSQL hot standby for GETs (app/replica.py); empty: none
    read_replica_timeout: float = 0.5  # connect and statement timeout on the standby, seconds
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    migrations_dir: Path = PROJECT_ROOT / "migrations"
    cache_max_age: int = 60
    response_cache_size: int = 2048
    response_cache_bytes: int = 192 * 1024 * 1024  # all caches together (app/caches.py: SHARES)
    idempotency_ttl_hours: int = 48
    db_pool_size: int = 10
    db_max_overflow: int = 5
    db_pool_timeout: float = 10.0
    sqlite_cache_kib: int = 256  # page cache per SQLite connection (the OS caches the file for all)
    write_concurrency: int = 4
    write_lock_timeout: float = 10.0
    writes_first_ms: int = 20  # a read arriving while a write runs waits for it this long at most
    ready_timeout: float = 2.0
    max_body_bytes: int = 1_048_576
    max_json_depth: int = 32
    rate_limit_writes: str = "120/minute"
    rate_limit_auth_failures: str = "20/minute"
    rate_limit_reads: str = ""
    rate_limit_storage: str = "memory://"
    rate_limit_key_prefix: str = "opstats"  # keys' prefix in a shared storage (redis://...)
    quote_count_limit: int = 1000  # a quote search's `total` counts this many matches at most (0: all)
    trust_forwarded_for: bool = False
    log_format: str = "json"
    shutdown_timeout: int = 20
    fetch_max_bytes: int = 5 * 1024 * 1024  # a page fetched for `{"url": ...}`
    fetch_timeout: float = 10.0
    fetch_allow_private: bool = False  # loopback, private and link-local addresses (tests' local pages)
    otel_telemetry: bool = False  # FastAPI's native OpenTelemetry hooks (a provider check per request)


@lru_cache
def get_settings() -> Settings:
    """One Settings per process (cleared by tests that change the environment)."""
    return Settings()
