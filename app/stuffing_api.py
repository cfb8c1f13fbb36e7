"""POST /v1/stuff: the pure stuffing core behind a stateless endpoint (like POST /v1/plan)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.accounts.dependencies import requires
from app.accounts.schemas import Scope
from app.accounts.service import Caller
from app.errors import Unprocessable
from app.stuffing import StuffingInputError, instance_from_dict, plan_to_dict, solve

router = APIRouter(prefix="/v1", tags=["stuffing"])

_INDEX = re.compile(r"\[(\d+)\]")

INSTANCE_EXAMPLE = {
    "container": {"code": "40HC", "length_cm": 1203, "width_cm": 235, "height_cm": 269, "payload_kg": 26500},
    "support_ratio": 0.75,
    "pieces": [
        {"id": "CVNAB12CD34/1", "count": 40, "length_cm": 60, "width_cm": 40, "height_cm": 50, "weight_kg": 18.0,
         "vertical": ["height"], "stackable": True, "group": "CVNAB12CD34"},
        {"id": "CVNAB12CD35/1", "count": 6, "length_cm": 120, "width_cm": 80, "height_cm": 150,
         "weight_kg": 640.0, "vertical": ["height"], "stackable": False, "group": "CVNAB12CD35"},
    ],
}


class PlacementOut(BaseModel):
    id: str
    x_cm: float
    y_cm: float
    z_cm: float
    length_cm: float
    width_cm: float
    height_cm: float
    step: int = Field(description="Loading order: 1 goes in first (at the front wall), the last at the door")


class UnplacedOut(BaseModel):
    id: str
    count: int


class CentreOfGravity(BaseModel):
    x: float
    y: float
    z: float


class StuffingPlan(BaseModel):
    placements: list[PlacementOut]
    unplaced: list[UnplacedOut]
    volume_utilisation: float = Field(description="Placed volume ÷ the container's inner volume")
    weight_kg: float
    centre_of_gravity_cm: CentreOfGravity | None


def api_field(path: str) -> str:
    """The stuffing core names fields JSON-path style (``pieces[3].count``); the API uses dots, like /v1/plan."""
    return _INDEX.sub(r".\1", path)


def stuff_instance(document: Any, time_limit_s: float | None) -> dict[str, Any]:
    """Stuff one instance document; a malformed one is a 422 naming the field."""
    try:
        instance = instance_from_dict(document)
    except StuffingInputError as error:
        raise Unprocessable(api_field(error.field), error.message) from None
    return plan_to_dict(solve(instance, time_limit_s=time_limit_s))


@router.post(
    "/stuff",
    response_model=StuffingPlan,
    summary="Stuff one container: where each package goes and in what order",
)
async def stuff(
    caller: Annotated[Caller, requires(Scope.PLANS_WRITE, operator=True)],
    instance: Annotated[dict[str, Any], Body(
        description="A stuffing instance: the container (inner cm, payload) and piece lines "
                    "(count, cm, kg per package, `vertical`, `stackable`, `group`) and `support_ratio`",
        examples=[INSTANCE_EXAMPLE])],
    time_limit_s: Annotated[float, Query(gt=0, le=30, description="Solver budget in seconds")] = 5.0,
):
    """Stateless: a stuffing instance in, a 3D stuffing plan out.

    Every placement keeps the eight rules: inside the container, no overlap, an allowed
    side up, `support_ratio` of its base supported, nothing on a non-stackable package,
    steps loading from the front wall to the door (supporters first), payload, and every
    package either placed or listed in `unplaced`. The plan is the best found within
    `time_limit_s`: everything placed when it can, else the most volume, with the centre
    of gravity brought towards the middle. Malformed documents are a 422 naming the field
    (`pieces.3.length_cm`); at most 5000 packages and 1000 piece lines per instance.
    """
    # The solver is CPU-bound; keep the event loop free for other requests.
    return await run_in_threadpool(stuff_instance, instance, time_limit_s)
