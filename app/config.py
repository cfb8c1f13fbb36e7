"""Settings, read from the environment (prefix ``CARAVAN_``)."""

import base64
import hashlib
import hmac
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def async_database_url(url: str) -> str:
    """Return ``url`` with the async driver the app uses (aiosqlite or asyncpg)."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:"):]
    for prefix in ("postgresql+psycopg:", "postgresql+psycopg2:", "postgresql:", "postgres:"):
        if url.startswith(prefix):
            return "postgresql+asyncpg:" + url[len(prefix):]
    return url


def sealing_key(encoded: str) -> bytes:
    """The 32-byte key of ``webhook_secret_key`` from its base64 form; ValueError when it is not one."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (ValueError, TypeError) as error:
        raise ValueError("the webhook secret key must be base64") from error
    if len(key) != 32:
        raise ValueError("the webhook secret key must be 32 bytes (base64 of 32 random bytes)")
    return key


@lru_cache(maxsize=8)
def _cursor_key(material: str) -> bytes:
    return hmac.new(b"caravan list cursors v1", material.encode(), hashlib.sha256).digest()


ADMISSION_CPU_LIMIT = 8


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``CARAVAN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CARAVAN_", extra="ignore")

    @property
    def requests_in_flight(self) -> int:
        return self.admission_limit or max(1, min(ADMISSION_CPU_LIMIT, self.db_pool_size * 3 // 2))

    database_url: str = "sqlite+aiosqlite:///./var/caravan.db"
    db_pool_size: int = 10
    # A good API key is looked up at most once in this many seconds per process; a revocation made
    # by another process (another worker, the CLI) takes effect within it (0: look up every request).
    api_key_cache_s: float = 5.0
    # A request waits at most this long for a pooled connection, then gets a 503 (never a 30 s wait).
    db_pool_timeout_s: float = 5.0
    # Requests one process works on at once (0: one and a half times the pool, which a request and
    # the Idempotency-Key middleware's short reads share with the webhook worker, but at most
    # ADMISSION_CPU_LIMIT: a process has one core's worth of Python, and more requests in flight
    # only share it more thinly); one that finds no place within admission_wait_s is answered 503
    # with Retry-After. bench/api.py's overload phase measured the choice (README).
    admission_limit: int = 0
    admission_wait_s: float = 0.1
    # Shrink that bound while the event loop runs late (the CPU is short), grow it back when it keeps
    # time (app/overload.py); off, the bound is fixed.
    admission_adaptive: bool = True
    # At start, load the space projection of every open departure holding at least this many
    # bookings (0: none), so that no first booking after a restart pays for it (app/consolidation/warm.py);
    # for at most space_warm_budget_s seconds, before the process takes requests.
    space_warm_min_bookings: int = Field(200, ge=0)
    space_warm_budget_s: float = Field(10.0, ge=0)
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
    # Callback URLs must be https: a delivery carries consignee names and addresses. On unless
    # turned off (``caravan serve --demo`` does, for a receiver on http; so do the tests' loopback
    # receivers). Judged when a subscription is created or its URL replaced.
    webhook_require_https: bool = True
    webhook_timeout_seconds: float = 10.0
    webhook_lease_seconds: float = 60.0
    webhook_max_attempts: int = 12
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_batch_size: int = 100
    webhook_concurrency: int = 16
    webhook_poll_seconds: float = 1.0
    # Each webhook worker also purges this often (seconds): expired Idempotency-Key records,
    # and deliveries (with their attempts) that are over and older than the retention.
    purge_seconds: float = Field(600.0, gt=0)
    webhook_delivery_retention_days: float = Field(30.0, gt=0)
    # Base64 of 32 random bytes: when set, webhook signing secrets are stored sealed
    # (AES-256-GCM) instead of as given. Keep it outside the database; losing it makes
    # the sealed secrets unusable (subscribe again). ``caravan admin secret-key`` makes one.
    webhook_secret_key: str | None = None
    # Keys in use before the current one, comma-separated, same form: secrets sealed with
    # them still open. Keep them only until ``caravan admin reseal-secrets`` has run.
    webhook_secret_keys_previous: str | None = None

    # The console (/console): a sign-in lasts this long; pages show times in this zone (the hub's).
    console_session_hours: float = Field(12.0, gt=0, le=24 * 30)
    console_timezone: str = "Asia/Shanghai"

    # List cursors are signed (HMAC-SHA256) with a key derived from this secret; unset, from
    # ``webhook_secret_key``, else from ``database_url`` (stable across processes and restarts,
    # but not secret: set one of the two in production). Changing it invalidates issued cursors.
    cursor_secret: str | None = None

    # Rate limits (app/ratelimit.py): a token bucket per API key of ``rate_limit_burst``
    # requests refilled at ``rate_limit_per_s``; per client address, a smaller one that only
    # failed authentications (401) drain. A rate of 0 turns that limit off. At most
    # ``rate_limit_max_buckets`` buckets each in memory. On PostgreSQL the per-key buckets are
    # kept in the database, shared by every API process and machine, unless ``rate_limit_shared``
    # is false; on SQLite they are always in process memory, which needs nothing more.
    rate_limit_shared: bool | None = None
    rate_limit_per_s: float = Field(50.0, ge=0)
    rate_limit_burst: int = Field(100, ge=1)
    rate_limit_auth_failures_per_s: float = Field(1.0, ge=0)
    rate_limit_auth_failures_burst: int = Field(20, ge=1)
    rate_limit_max_buckets: int = Field(10_000, ge=1)

    @field_validator("console_timezone")
    @classmethod
    def _a_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"CARAVAN_CONSOLE_TIMEZONE: {value!r} is not an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("webhook_secret_key")
    @classmethod
    def _a_32_byte_key(cls, value: str | None) -> str | None:
        if value:
            try:
                sealing_key(value)
            except ValueError as error:
                raise ValueError(f"CARAVAN_WEBHOOK_SECRET_KEY: {error}") from None
        return value or None

    @field_validator("webhook_secret_keys_previous")
    @classmethod
    def _32_byte_keys(cls, value: str | None) -> str | None:
        """Each key is checked here, so a mistyped one stops the start rather than a delivery later."""
        keys = [key.strip() for key in (value or "").split(",") if key.strip()]
        for number, key in enumerate(keys, 1):
            try:
                sealing_key(key)
            except ValueError as error:  # the message names the key by position, never shows it
                where = f"CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS, key {number} of {len(keys)}"
                raise ValueError(f"{where}: {error}") from None
        return ",".join(keys) or None

    @model_validator(mode="after")
    def _previous_keys_need_a_current_one(self) -> "Settings":
        """Previous keys only make sense while rotating to a current key; alone they are a slip."""
        if self.webhook_secret_keys_previous and not self.webhook_secret_key:
            raise ValueError("CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS is set but CARAVAN_WEBHOOK_SECRET_KEY is not")
        return self

    @property
    def previous_secret_keys(self) -> tuple[str, ...]:
        """The previous sealing keys, in the order configured."""
        return tuple(self.webhook_secret_keys_previous.split(",")) if self.webhook_secret_keys_previous else ()

    @property
    def cursor_key(self) -> bytes:
        """The key list cursors are signed with (``app.pagination``)."""
        return _cursor_key(self.cursor_secret or self.webhook_secret_key or self.database_url)

    @property
    def async_database_url(self) -> str:
        return async_database_url(self.database_url)


@lru_cache
def get_settings() -> Settings:
    return Settings()
