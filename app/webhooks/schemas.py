from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    Field,
    UrlConstraints,
    field_validator,
)

from app.events.schemas import EventType
from app.fields import RequestBody

GRACE_PERIOD_MAX_S = 7 * 24 * 3600
GRACE_PERIOD_DEFAULT_S = 24 * 3600

URL_MAX_LENGTH = 2000


def _fits_its_column(url: AnyHttpUrl) -> AnyHttpUrl:
    # The length limit is checked on the URL as given; normalising it (percent-encoding a
    # path, punycoding a host) can make it longer than the column that stores it.
    if len(str(url)) > URL_MAX_LENGTH:
        raise ValueError(f"the URL is longer than {URL_MAX_LENGTH} characters once normalised ({len(str(url))})")
    return url


HTTPS_REQUIRED = ("must be an https URL: deliveries carry consignee names and addresses "
                  "(this server requires https; CARAVAN_WEBHOOK_REQUIRE_HTTPS)")


def https_refusal(url: str, require_https: bool) -> str | None:
    """Why ``url`` may not be a callback under the https setting (None when it may)."""
    return HTTPS_REQUIRED if require_https and not url.lower().startswith("https://") else None


CallbackUrl = Annotated[
    AnyHttpUrl, UrlConstraints(max_length=URL_MAX_LENGTH, allowed_schemes=["http", "https"]), AfterValidator(_fits_its_column)
]


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class SubscriptionCreate(RequestBody):
    url: CallbackUrl = Field(description="Where events are POSTed: an https URL (unless the server allows http) "
                                         "that does not resolve to a private or loopback address")
    event_types: list[EventType] = Field(min_length=1, max_length=3)

    @field_validator("event_types")
    @classmethod
    def _unique(cls, value: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(value))


class SubscriptionRead(BaseModel):
    id: int
    url: str
    event_types: list[EventType]
    created_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the secret replaced by the last rotation still signs every delivery too "
                    "(a second signature in webhook-signature); null when only the current secret signs"
    )


class SubscriptionCreated(SubscriptionRead):
    """The one response that carries the signing secret (``whsec_<base64>``); it is not shown again."""

    secret: str


class SecretRotation(RequestBody):
    grace_period_s: int = Field(
        default=GRACE_PERIOD_DEFAULT_S, ge=0, le=GRACE_PERIOD_MAX_S,
        description="Seconds the replaced secret keeps signing beside the new one (0: it stops at once; "
                    "at most 7 days). A rotation during a grace period drops the older secret: only the "
                    "one being replaced keeps signing.",
    )


class SecretRotated(SubscriptionCreated):
    """The subscription with its new signing secret: this response is the only time it is shown."""


class AttemptRead(BaseModel):
    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    response_body: str | None
    error: str | None


class DeliveryRead(BaseModel):
    id: int
    webhook_id: str = Field(description="The webhook-id header: the same on every retry of this delivery")
    event_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptRead]
