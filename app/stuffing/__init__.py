"""Pure 3D stuffing core: which package goes where in a container, and in what order.

No database, no web framework: plain data in, plain data out (documents and
rules: ``app/stuffing/FORMAT.md``; how it solves: ``app/stuffing/README.md``).
Public API::

    instance_from_dict(d) -> Instance          # raises StuffingInputError(field, message)
    solve(instance, time_limit_s=None) -> Plan # best valid plan found within the limit
    check_stuffing(instance, plan) -> list[str]  # the eight rules; [] when valid
    plan_to_dict(plan) -> dict                 # FORMAT.md plan document
    assign_steps(container, placements)        # loading order keeping rule 6
"""

from .check import check_stuffing
from .io import (
    MAX_COUNT,
    MAX_PACKAGES,
    MAX_PIECE_LINES,
    build_plan,
    instance_from_dict,
    instance_to_dict,
    plan_from_dict,
    plan_to_dict,
)
from .model import (
    Container,
    Instance,
    Piece,
    Placement,
    Plan,
    StuffingInputError,
    Unplaced,
)
from .solve import DEFAULT_TIME_LIMIT_S, solve
from .steps import assign_steps

__all__ = [
    "Container",
    "DEFAULT_TIME_LIMIT_S",
    "Instance",
    "MAX_COUNT",
    "MAX_PACKAGES",
    "MAX_PIECE_LINES",
    "Piece",
    "Placement",
    "Plan",
    "StuffingInputError",
    "Unplaced",
    "assign_steps",
    "build_plan",
    "check_stuffing",
    "instance_from_dict",
    "instance_to_dict",
    "plan_from_dict",
    "plan_to_dict",
    "solve",
]
