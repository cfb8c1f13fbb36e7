from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.fields import Name, RequestBody, Timestamp


class Role(StrEnum):
    OPERATOR = "operator"
    EXPORTER = "exporter"


class Scope(StrEnum):
    BOOKINGS_READ = "bookings:read"
    BOOKINGS_WRITE = "bookings:write"
    NETWORK_WRITE = "network:write"
    PLANS_WRITE = "plans:write"
    EVENTS_READ = "events:read"
    EVENTS_WRITE = "events:write"
    WEBHOOKS_WRITE = "webhooks:write"
    ORGS_WRITE = "orgs:write"


OPERATOR_ONLY_SCOPES = frozenset({Scope.NETWORK_WRITE, Scope.PLANS_WRITE, Scope.ORGS_WRITE})
ALL_SCOPES = tuple(Scope)
# What an exporter's key gets unless the operator says otherwise. Reporting events
# (events:write: transport, equipment and shipment events, any departure) is granted
# explicitly, to the keys of partners that move the cargo (forwarders, rail operators).
EXPORTER_SCOPES = tuple(s for s in Scope if s not in OPERATOR_ONLY_SCOPES and s is not Scope.EVENTS_WRITE)
PARTNER_SCOPES = (*EXPORTER_SCOPES, Scope.EVENTS_WRITE)


class OrganizationCreate(RequestBody):
    name: Name
    role: Role


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    created_at: datetime


class ApiKeyCreate(RequestBody):
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    name: Name | None = None
    expires_at: Timestamp | None = Field(
        default=None, description="When the key stops working (401 from then on); in the future. Left out: never"
    )


class ApiKeyRead(BaseModel):
    """A key as listed: never the secret itself."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    organization_id: int
    name: str | None
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = Field(description="When the key stops working; null: never")


class ApiKeyCreated(ApiKeyRead):
    """The one response that carries the key; store it now, it is not shown again."""

    key: str
