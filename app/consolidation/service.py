"""Consolidation use cases around the pure planner."""

from __future__ import annotations

import re
from typing import Any

from app.errors import PayloadTooLarge, Unprocessable
from app.planner import PlannerInputError, instance_from_dict, plan_to_dict, solve

MAX_SHIPMENTS = 50_000
_INDEX = re.compile(r"\[(\d+)\]")


def api_field(planner_field: str) -> str:
    """The planner names fields JSON-path style (``shipments[3].weight_kg``); the API uses dots."""
    return _INDEX.sub(r".\1", planner_field)


def plan_instance(document: Any, time_limit_s: float | None) -> dict[str, Any]:
    """Plan one FORMAT.md instance; a malformed one is a 422 naming the field."""
    if isinstance(document, dict) and isinstance(document.get("shipments"), list):
        if len(document["shipments"]) > MAX_SHIPMENTS:
            raise PayloadTooLarge(f"shipments: at most {MAX_SHIPMENTS} shipments per instance")
    try:
        instance = instance_from_dict(document)
    except PlannerInputError as error:
        raise Unprocessable(api_field(error.field), error.message) from None
    return plan_to_dict(solve(instance, time_limit_s=time_limit_s))
