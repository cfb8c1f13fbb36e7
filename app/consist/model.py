"""Plain data of a train consist (pure: standard library only)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Wagon:
    """A flat wagon type: ``feu_slots`` places, each holding one 40' (or 45') or two 20' containers."""

    code: str
    payload_kg: float
    tare_kg: float
    length_m: float
    feu_slots: int = 1
    name: str = ""


@dataclass(frozen=True, slots=True)
class Box:
    """A container to load: ``teu`` 1 for a 20', 2 for a 40'/45'; weights of its cargo and its tare."""

    id: str
    type: str
    teu: int
    destination: str
    cargo_kg: float
    tare_kg: float
    number: str | None = None

    @property
    def gross_kg(self) -> float:
        return self.cargo_kg + self.tare_kg


@dataclass(frozen=True)
class Rules:
    """What a train must keep (China Railway's rules, as a rail service sets them)."""

    max_gross_kg_20: float = 24_000.0
    max_gross_kg_40: float = 25_000.0
    pair_20: bool = True
    pair_max_difference_kg: float = 5_000.0
    single_20_destinations: frozenset[str] = frozenset()
    max_feu: int | None = 55
    max_cargo_kg: float | None = 1_300_000.0
    max_train_length_m: float | None = None
    heavy_wagons_off_ends: bool = False

    def max_gross_kg(self, box: Box) -> float:
        return self.max_gross_kg_20 if box.teu == 1 else self.max_gross_kg_40


@dataclass(frozen=True, slots=True)
class LoadedWagon:
    position: int
    wagon: Wagon
    boxes: tuple[Box, ...]

    @property
    def load_kg(self) -> float:
        """The containers' gross weight on the wagon."""
        return sum(b.gross_kg for b in self.boxes)

    @property
    def gross_kg(self) -> float:
        return self.load_kg + self.wagon.tare_kg


@dataclass(frozen=True)
class Consist:
    wagons: tuple[LoadedWagon, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def boxes(self) -> list[Box]:
        return [b for w in self.wagons for b in w.boxes]

    def totals(self) -> dict[str, float]:
        boxes = self.boxes
        teu = sum(b.teu for b in boxes)
        return {
            "wagons": len(self.wagons),
            "containers": len(boxes),
            "teu": teu,
            "feu": teu / 2,
            "length_m": round(sum(w.wagon.length_m for w in self.wagons), 2),
            "cargo_kg": round(sum(b.cargo_kg for b in boxes), 3),
            "containers_gross_kg": round(sum(b.gross_kg for b in boxes), 3),
            "train_gross_kg": round(sum(w.gross_kg for w in self.wagons), 3),
        }


class ConsistError(ValueError):
    """The containers cannot make a train that keeps the rules; ``problems`` says each rule broken."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
