from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from starlette.concurrency import run_in_threadpool

from app.accounts.dependencies import CurrentCaller
from app.accounts.schemas import Scope
from app.consolidation import service
from app.consolidation.schemas import PlanDocument

router = APIRouter(prefix="/v1", tags=["consolidation"])

INSTANCE_EXAMPLE = {
    "container_types": [{"code": "40HC", "payload_kg": 26500, "usable_cbm": 66.0, "inner_height_m": 2.698,
                         "cost": 5600, "reefer": False}],
    "dg_incompatible": [["3", "5.1"]],
    "max_teu": None,
    "shipments": [{"id": "S00001", "destination": "DEDUI", "weight_kg": 812.5, "volume_cbm": 3.2, "dg_class": None,
                   "temp_range_c": None, "stackable": True, "footprint_m2": None}],
}


@router.post("/plan", response_model=PlanDocument)
async def plan(
    caller: CurrentCaller,
    instance: Annotated[dict[str, Any], Body(description="A planner instance (shared/planner/FORMAT.md)",
                                             examples=[INSTANCE_EXAMPLE])],
    time_limit_s: Annotated[float, Query(gt=0, le=60, description="Budget for the improvement phase")] = 10.0,
):
    """Stateless: a planner instance in, the least-cost plan out."""
    caller.require(Scope.PLANS_WRITE, operator=True)
    # The planner is CPU-bound; keep the event loop free for other requests.
    return await run_in_threadpool(service.plan_instance, instance, time_limit_s)
