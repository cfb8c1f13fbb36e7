from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from app.accounts import service
from app.accounts.dependencies import CurrentCaller, Session, requires
from app.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, OrganizationCreate, OrganizationRead, Scope
from app.accounts.service import Caller
from app.errors import NotFound
from app.fields import IdPath
from app.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post("/organizations", status_code=201, response_model=OrganizationRead)
async def create_organization(
    body: OrganizationCreate, caller: Annotated[Caller, requires(Scope.ORGS_WRITE, operator=True)], session: Session
):
    return await service.create_organization(session, body.name, body.role)


@router.get("/organizations", response_model=Page[OrganizationRead])
async def list_organizations(
    caller: Annotated[Caller, requires(Scope.ORGS_WRITE, operator=True)],
    session: Session,
    limit: Limit = 20,
    cursor: Cursor = None,
):
    rows = await service.list_organizations(session, decode_cursor(cursor), limit)
    items, next_cursor = page_of(rows, limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/organizations/{organization_id}", response_model=OrganizationRead)
async def get_organization(organization_id: IdPath, caller: CurrentCaller, session: Session):
    if organization_id != caller.organization_id and not (caller.is_operator and Scope.ORGS_WRITE.value in caller.scopes):
        raise NotFound(f"organisation {organization_id} not found")
    return await service.get_organization(session, organization_id)


@router.post("/organizations/{organization_id}/api-keys", status_code=201, response_model=ApiKeyCreated)
async def create_api_key(
    organization_id: IdPath,
    body: ApiKeyCreate,
    caller: Annotated[Caller, requires(Scope.ORGS_WRITE, operator=True)],
    session: Session,
):
    org = await service.get_organization(session, organization_id)
    row, key = await service.create_api_key(session, org, body.scopes, body.name, body.expires_at)
    return {**ApiKeyRead.model_validate(row).model_dump(), "key": key}


@router.get("/organizations/{organization_id}/api-keys", response_model=Page[ApiKeyRead])
async def list_api_keys(
    organization_id: IdPath, caller: CurrentCaller, session: Session, limit: Limit = 20, cursor: Cursor = None
):
    if organization_id != caller.organization_id:
        if not (caller.is_operator and Scope.ORGS_WRITE.value in caller.scopes):
            raise NotFound(f"organisation {organization_id} not found")
    await service.get_organization(session, organization_id)
    rows = await service.list_api_keys(session, organization_id, decode_cursor(cursor), limit)
    items, next_cursor = page_of(rows, limit)
    return {"items": items, "next_cursor": next_cursor}


@router.delete("/api-keys/{key_id}", status_code=204, response_class=Response)
async def revoke_api_key(key_id: IdPath, caller: CurrentCaller, session: Session):
    await service.revoke_api_key(session, caller, key_id)
    return Response(status_code=204)
