from __future__ import annotations

from pydantic import BaseModel


class PlannedContainer(BaseModel):
    type: str
    destination: str
    shipments: list[str]
    weight_kg: float
    occupied_cbm: float


class UnassignedShipment(BaseModel):
    id: str
    reason: str


class PlanDocument(BaseModel):
    """A plan as shared/planner/FORMAT.md defines it."""

    containers: list[PlannedContainer]
    unassigned: list[UnassignedShipment]
    cost: float
    lower_bound: float
