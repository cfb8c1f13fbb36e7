"""Pure consolidation planner for China-Europe rail LCL freight.

No database, no web framework: plain data in, plain data out (see
docs/planner/FORMAT.md).  Public API::

    instance_from_dict(d) -> Instance          # raises PlannerInputError(field, message)
    solve(instance, time_limit_s=None, locked=()) -> Plan
    first_fit_decreasing(instance, locked=()) -> Plan   # REFERENCE.md baseline
    lower_bound(instance) -> float             # REFERENCE.md bound
    check_plan(instance, plan, locked=()) -> list[str]  # [] when valid
    plan_to_dict(plan) -> dict                 # FORMAT.md plan document
"""

from .bound import lower_bound
from .check import check_plan
from .ffd import first_fit_decreasing
from .io import (
    instance_from_dict,
    instance_to_dict,
    plan_from_dict,
    plan_to_dict,
    validate_locked,
)
from .model import (
    REASON_ROLLED,
    REASON_ROLLED_WEIGHT,
    REASON_UNFIT,
    Container,
    ContainerType,
    Instance,
    Plan,
    PlannerInputError,
    Shipment,
    Unassigned,
)
from .pairs import twenty_problems
from .solve import solve

__all__ = [
    "Container",
    "ContainerType",
    "Instance",
    "Plan",
    "PlannerInputError",
    "REASON_ROLLED",
    "REASON_ROLLED_WEIGHT",
    "REASON_UNFIT",
    "Shipment",
    "Unassigned",
    "check_plan",
    "first_fit_decreasing",
    "instance_from_dict",
    "instance_to_dict",
    "lower_bound",
    "plan_from_dict",
    "plan_to_dict",
    "solve",
    "twenty_problems",
    "validate_locked",
]
