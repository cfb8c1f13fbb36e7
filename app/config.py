"""Settings, read from the environment (prefix ``CARAVAN_``)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


def async_database_url(url: str) -> str:
    """Return ``url`` with the async driver the app uses (aiosqlite or asyncpg)."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:"):]
    for prefix in ("postgresql+psycopg:", "postgresql+psycopg2:", "postgresql:", "postgres:"):
        if url.startswith(prefix):
            return "postgresql+asyncpg:" + url[len(prefix):]
    return url


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``CARAVAN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CARAVAN_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/caravan.db"
    db_pool_size: int = 10
    sql_echo: bool = False
    # Largest request body accepted, in bytes; planner instances get their own limit.
    max_body_bytes: int = 1_048_576
    max_plan_body_bytes: int = 16_777_216
    # A measured weight or volume that differs from the declaration by more than
    # this fraction flags the booking for the operator.
    measurement_tolerance: float = 0.10
    # Container space per TEU used by the foundation's space control.
    cbm_per_teu: float = 33.0

    # Webhooks: run a delivery worker inside the API process (``caravan serve`` turns it on);
    # allow callback URLs on private or loopback addresses (tests, closed networks).
    webhook_worker: bool = False
    webhook_allow_private_urls: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_lease_seconds: float = 60.0
    webhook_max_attempts: int = 12
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_batch_size: int = 100
    webhook_concurrency: int = 16
    webhook_poll_seconds: float = 1.0

    @property
    def async_database_url(self) -> str:
        return async_database_url(self.database_url)


@lru_cache
def get_settings() -> Settings:
    return Settings()
