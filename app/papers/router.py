from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from app.accounts.dependencies import Session, requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.fields import IdPath
from app.papers import consist
from app.papers.schemas import ConsistRead

router = APIRouter(prefix="/v1", tags=["train and papers"])


@router.post("/departures/{departure_id}/consist", status_code=201, response_model=ConsistRead,
             summary="Build the train consist of a departure's plan")
async def build_consist(
    departure_id: IdPath,
    caller: Annotated[Caller, requires(Scope.PLANS_WRITE, operator=True)],
    session: Session,
) -> Any:
    """The wagon list of the current plan under the service's rail rules: each wagon with its containers
    (number, type, destination, cargo, tare and gross weight), the train's totals and warnings. 20' travel in
    pairs to one destination within the weight difference; heavy wagons kept off the ends when the service
    says so. Stored with the plan version; rebuilding replaces it until every container of the plan is locked
    (then 409). A plan whose containers break a rule gets no consist: 409 naming each rule."""
    plan, stored = await consist.build_consist(session, departure_id)
    return consist.consist_read(plan, stored)


@router.get("/departures/{departure_id}/consist", response_model=ConsistRead, summary="Get the train consist")
async def get_consist(
    departure_id: IdPath,
    caller: Annotated[Caller, requires(Scope.BOOKINGS_READ, operator=True)],
    session: Session,
) -> Any:
    """The consist of the current plan version; 404 when it has none yet (a new plan needs a new consist)."""
    plan, stored = await consist.current_consist(session, departure_id)
    return consist.consist_read(plan, stored)
