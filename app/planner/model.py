"""Plain data model of the consolidation planner (see docs/planner/FORMAT.md).

Everything here is a frozen dataclass of plain Python values: the planner
never touches a database or a web framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Tolerance used when comparing sums of floats against capacities.  The
# planner itself packs against ``capacity + EPS`` and the validator accepts
# ``capacity + CHECK_EPS`` so that the order of a float summation can never
# turn a valid plan into an invalid one.
EPS = 1e-9
CHECK_EPS = 1e-6

REASON_UNFIT = "fits no container type"
REASON_ROLLED = "rolled over: max_teu exceeded"
REASON_ROLLED_WEIGHT = "rolled over: max_weight_kg exceeded"


class PlannerInputError(ValueError):
    """A malformed instance (or locked container).

    ``field`` is the JSON path of the offending value, e.g.
    ``shipments[3].weight_kg``; ``message`` says what is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class ContainerType:
    code: str
    payload_kg: float
    usable_cbm: float
    inner_height_m: float
    cost: float
    reefer: bool
    teu: int  # derived from the code's first two digits unless given explicitly


@dataclass(frozen=True, slots=True)
class Shipment:
    id: str
    destination: str
    weight_kg: float
    volume_cbm: float
    dg_class: str | None = None
    temp_range_c: tuple[float, float] | None = None
    stackable: bool = True
    footprint_m2: float | None = None
    priority: int = 0
    booked_at: datetime | None = None

    @property
    def reefer(self) -> bool:
        return self.temp_range_c is not None

    def occupied_cbm(self, ctype: ContainerType) -> float:
        """Volume this shipment takes in a container of ``ctype`` (FORMAT.md rule 3)."""
        if not self.stackable and self.footprint_m2 is not None:
            return max(self.volume_cbm, self.footprint_m2 * ctype.inner_height_m)
        return self.volume_cbm


@dataclass(frozen=True, slots=True)
class Container:
    type: str
    destination: str
    shipments: tuple[str, ...]
    weight_kg: float = 0.0
    occupied_cbm: float = 0.0


@dataclass(frozen=True, slots=True)
class Unassigned:
    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    containers: tuple[Container, ...]
    unassigned: tuple[Unassigned, ...]
    cost: float
    lower_bound: float


@dataclass(frozen=True)
class Instance:
    container_types: tuple[ContainerType, ...]
    shipments: tuple[Shipment, ...]
    dg_incompatible: frozenset[frozenset[str]] = frozenset()
    max_teu: int | None = None
    max_payload_kg: float | None = None
    locked_containers: tuple[Container, ...] = ()
    # Rail rules (app/planner/pairs.py): 20' containers in pairs per destination, weights within the limit,
    # except to the destinations that take a single 20'; the train's cargo weight at most ``max_weight_kg``.
    pair_20: bool = False
    pair_max_difference_kg: float = 5000.0
    single_20_destinations: frozenset[str] = frozenset()
    max_weight_kg: float | None = None
    # lookup tables, filled in __post_init__
    _types_by_code: dict = field(default=None, init=False, repr=False, compare=False)
    _shipments_by_id: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_types_by_code", {t.code: t for t in self.container_types})
        object.__setattr__(self, "_shipments_by_id", {s.id: s for s in self.shipments})

    def type_by_code(self, code: str) -> ContainerType:
        return self._types_by_code[code]

    def has_type(self, code: str) -> bool:
        return code in self._types_by_code

    def shipment(self, sid: str) -> Shipment:
        return self._shipments_by_id[sid]

    def has_shipment(self, sid: str) -> bool:
        return sid in self._shipments_by_id

    def payload(self, ctype: ContainerType) -> float:
        """Payload of ``ctype`` on this departure (capped by ``max_payload_kg``)."""
        if self.max_payload_kg is None:
            return ctype.payload_kg
        return min(ctype.payload_kg, self.max_payload_kg)

    def conflicts(self, a: str | None, b: str | None) -> bool:
        """True when DG classes ``a`` and ``b`` may not share a container."""
        if a is None or b is None:
            return False
        return frozenset((a, b)) in self.dg_incompatible
