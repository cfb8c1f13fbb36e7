from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from app.accounts import service
from app.accounts.dependencies import CurrentCaller, Session, requires
from app.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    OrganizationCreate,
    OrganizationRead,
    Scope,
)
from app.accounts.service import Caller
from app.errors import NotFound
from app.fields import IdPath
from app.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post("/organizations", status_code=201, response_model=OrganizationRead, summary="Create an organisation")
async def create_organization(
    body: OrganizationCreate, caller: Annotated[Caller, requires(Scope.ORGS_WRITE, operator=True)], session: Session
):
    """Operator (`orgs:write`): add a company that uses Caravan, the hub operator or an exporter
    (a forwarder acting for exporters is one too). Its keys are made with the next endpoint.
    """
    return await service.create_organization(session, body.name, body.role)


@router.get("/organizations", response_model=Page[OrganizationRead], summary="List organisations")
async def list_organizations(
    caller: Annotated[Caller, requires(Scope.ORGS_WRITE, operator=True)],
    session: Session,
    limit: Limit = 20,
    cursor: Cursor = None,
):
    """Operator (`orgs:write`): every organisation, oldest first, cursor-paged."""
    rows = await service.list_organizations(session, decode_cursor(cursor), limit)
    items, next_cursor = page_of(rows, limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/organizations/{organization_id}", response_model=OrganizationRead, summary="Get an organisation")
async def get_organization(organization_id: IdPath, caller: CurrentCaller, session: Session):
    """One's own organisation; the operator (`orgs:write`) reads any. Another organisation is 404."""
    if organization_id != caller.organization_id and not (caller.is_operator and Scope.ORGS_WRITE.value in caller.scopes):
        raise NotFound(f"organisation {organization_id} not found")
    return await service.get_organization(session, organization_id)


@router.post("/organizations/{organization_id}/api-keys", status_code=201, response_model=ApiKeyCreated, summary="Create an API key")
async def create_api_key(
    organization_id: IdPath,
    body: ApiKeyCreate,
    caller: Annotated[Caller, requires(Scope.ORGS_WRITE, operator=True)],
    session: Session,
):
    """Operator (`orgs:write`): a new key for the organisation, with the scopes it may use (an
    exporter's key cannot hold the operator's scopes) and, if given, the moment it expires
    (`expires_at`: 401 from then on). The key itself (`cvn_…`) is in this answer only: Caravan
    keeps its hash.
    """
    org = await service.get_organization(session, organization_id)
    row, key = await service.create_api_key(session, org, body.scopes, body.name, body.expires_at)
    return {**ApiKeyRead.model_validate(row).model_dump(), "key": key}


@router.get("/organizations/{organization_id}/api-keys", response_model=Page[ApiKeyRead], summary="List API keys")
async def list_api_keys(
    organization_id: IdPath, caller: CurrentCaller, session: Session, limit: Limit = 20, cursor: Cursor = None
):
    """An organisation's keys (never the secrets): prefix, scopes, when each was created, revoked
    and expires. One's own organisation, or any for the operator (`orgs:write`).
    """
    if organization_id != caller.organization_id:
        if not (caller.is_operator and Scope.ORGS_WRITE.value in caller.scopes):
            raise NotFound(f"organisation {organization_id} not found")
    await service.get_organization(session, organization_id)
    rows = await service.list_api_keys(session, organization_id, decode_cursor(cursor), limit)
    items, next_cursor = page_of(rows, limit)
    return {"items": items, "next_cursor": next_cursor}


@router.delete("/api-keys/{key_id}", status_code=204, response_class=Response, summary="Revoke an API key")
async def revoke_api_key(key_id: IdPath, caller: CurrentCaller, session: Session):
    """The key stops working at once (401). A key may revoke itself (a leaked key's holder can
    kill it); the operator (`orgs:write`) revokes any. Revoking twice is not an error.
    """
    await service.revoke_api_key(session, caller, key_id)
    return Response(status_code=204)
