"""Plain data model of the stuffing core (3D container loading).

Frozen dataclasses of plain Python values; no database, no web framework.
Axes: ``x`` along the container from the front wall (0) to the door, ``y``
across, ``z`` up from the floor; centimetres.
"""

from __future__ import annotations

from dataclasses import dataclass

# Geometry is compared with this tolerance (centimetres; dimensions may carry decimals).
EPS = 1e-6
# Areas (cm²) and weights (kg) are compared with a slightly looser one.
AREA_EPS = 1e-3

SIDES = ("length", "width", "height")


class StuffingInputError(ValueError):
    """A malformed instance or plan document.

    ``field`` is the JSON path of the offending value, e.g.
    ``pieces[3].length_cm``; ``message`` says what is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Container:
    code: str
    length_cm: float
    width_cm: float
    height_cm: float
    payload_kg: float

    @property
    def volume(self) -> float:
        return self.length_cm * self.width_cm * self.height_cm


@dataclass(frozen=True, slots=True)
class Piece:
    """A piece line: ``count`` identical packages; ``weight_kg`` is one package's."""

    id: str
    count: int
    length_cm: float
    width_cm: float
    height_cm: float
    weight_kg: float
    vertical: tuple[str, ...] = ("height",)
    stackable: bool = True
    group: str | None = None

    @property
    def dims(self) -> tuple[float, float, float]:
        return (self.length_cm, self.width_cm, self.height_cm)

    @property
    def volume(self) -> float:
        return self.length_cm * self.width_cm * self.height_cm

    def orientations(self) -> list[tuple[float, float, float]]:
        """Distinct (along x, across y, up z) shapes this package may take."""
        d = dict(zip(SIDES, self.dims))
        out: list[tuple[float, float, float]] = []
        for up in self.vertical:
            rest = [d[s] for s in SIDES if s != up]
            for a, b in ((rest[0], rest[1]), (rest[1], rest[0])):
                shape = (a, b, d[up])
                if shape not in out:
                    out.append(shape)
        return out


@dataclass(frozen=True, slots=True)
class Instance:
    container: Container
    pieces: tuple[Piece, ...]
    support_ratio: float = 0.75

    def piece(self, piece_id: str) -> Piece | None:
        for p in self.pieces:
            if p.id == piece_id:
                return p
        return None


@dataclass(frozen=True, slots=True)
class Placement:
    id: str
    x_cm: float
    y_cm: float
    z_cm: float
    length_cm: float
    width_cm: float
    height_cm: float
    step: int

    @property
    def x2(self) -> float:
        return self.x_cm + self.length_cm

    @property
    def y2(self) -> float:
        return self.y_cm + self.width_cm

    @property
    def z2(self) -> float:
        return self.z_cm + self.height_cm

    @property
    def volume(self) -> float:
        return self.length_cm * self.width_cm * self.height_cm


@dataclass(frozen=True, slots=True)
class Unplaced:
    id: str
    count: int


@dataclass(frozen=True, slots=True)
class Plan:
    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...] = ()
    volume_utilisation: float = 0.0
    weight_kg: float = 0.0
    centre_of_gravity_cm: tuple[float, float, float] | None = None
