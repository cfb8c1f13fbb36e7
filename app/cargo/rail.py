"""China Railway's container rules for China–Europe trains, as one rail service's settings (pure).

Sources (figures differ between them, which is why each is a setting): China Railway's
requirements for China–Europe trains as operators publish them (sinoeurorailway.com; RCL via
oceanfreight.com), and SMGS Annex 2 (dangerous goods) for lithium batteries.

- Gross weight per container on its wagon: a 40' at most 25 t, a 20' at most 24 t; a container's
  cargo is capped at that minus its tare (``cargo_cap_kg``).
- 20' containers travel in pairs on one wagon, to the same destination, their gross weights
  differing by less than ``pair_max_difference_kg``; a single 20' only to ``single_20_destinations``.
- A train: at most ``max_feu`` FEU, ``max_cargo_kg`` of container cargo, ``max_train_length_m``.
- Dangerous goods by UN number: ``refused_un_numbers`` (batteries shipped alone) are refused;
  ``documented_un_numbers`` (batteries in or packed with equipment) only with every one of
  ``required_documents`` declared on the line; damaged or recycled batteries are refused; a line
  under special provision 188 (small cells in consumer goods) is not dangerous goods.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.cargo.figures import CargoProblem, line_is_dg

LITHIUM_UN_NUMBERS = ("3090", "3091", "3480", "3481")
DOCUMENT_KINDS = ("UN38_3_TEST_SUMMARY", "MSDS")
BATTERY_REFUSED_CONDITIONS = ("DAMAGED", "RECYCLED")


@dataclass(frozen=True)
class WagonType:
    """A flat wagon: ``feu_slots`` places, each holding one 40' (or 45') or two 20' containers."""

    code: str
    name: str
    payload_kg: float
    tare_kg: float
    length_m: float
    feu_slots: int = 1


CHINESE_40_FLAT = WagonType("X70", "Chinese 40' container flat wagon (one 40' or two 20')", 70_000.0, 23_800.0, 16.3, 1)


@dataclass(frozen=True)
class RailRules:
    """One rail service's China Railway settings (the defaults are the issue's figures)."""

    max_gross_kg_20: float = 24_000.0
    max_gross_kg_40: float = 25_000.0
    tare_kg_20: float = 2_200.0
    tare_kg_40: float = 3_800.0
    pair_20: bool = True
    pair_max_difference_kg: float = 5_000.0
    single_20_destinations: tuple[str, ...] = ()
    max_feu: int = 55
    max_cargo_kg: float = 1_300_000.0
    max_train_length_m: float | None = None  # e.g. 600 m where the train runs on Polish lines as one
    heavy_wagons_off_ends: bool = False
    wagon_types: tuple[WagonType, ...] = (CHINESE_40_FLAT,)
    refused_un_numbers: tuple[str, ...] = ("3480", "3090")
    documented_un_numbers: tuple[str, ...] = ("3481", "3091")
    required_documents: tuple[str, ...] = DOCUMENT_KINDS
    refuse_damaged_batteries: bool = True

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RailRules | None:
        """The stored settings (``None``: the service is not under rail rules)."""
        if data is None:
            return None
        values = dict(data)
        for name in ("single_20_destinations", "refused_un_numbers", "documented_un_numbers", "required_documents"):
            if name in values:
                values[name] = tuple(values[name])
        if "wagon_types" in values:
            values["wagon_types"] = tuple(WagonType(**w) for w in values["wagon_types"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    def tare_kg(self, code: str) -> float:
        return self.tare_kg_20 if is_20(code) else self.tare_kg_40

    def max_gross_kg(self, code: str) -> float:
        return self.max_gross_kg_20 if is_20(code) else self.max_gross_kg_40

    def cargo_cap_kg(self, code: str, payload_kg: float) -> float:
        """The most cargo a container of type ``code`` carries on this service: its payload, capped by the
        gross limit per container on a wagon less the container's tare."""
        return max(0.0, min(payload_kg, self.max_gross_kg(code) - self.tare_kg(code)))

    def max_teu(self, capacity_teu: int, max_train_length_m: float | None) -> int:
        """The TEU a departure may plan: its capacity, the FEU limit and as many wagons as the length allows."""
        teu = min(capacity_teu, 2 * self.max_feu)
        if max_train_length_m is not None and self.wagon_types:
            wagon = self.wagon_types[0]
            teu = min(teu, 2 * wagon.feu_slots * int(max_train_length_m // wagon.length_m))
        return teu


def is_20(code: str) -> bool:
    """True for a 20' ISO size code (``20G1``, ``22G1``, ``22R1``…)."""
    return code[:1] == "2"


def dg_problem(cargo: list[Any], service_code: str, rules: RailRules) -> CargoProblem | None:
    """The first line SMGS Annex 2 (as the service applies it) refuses; None when all pass."""
    for index, line in enumerate(cargo):
        dg = line.dangerous_goods
        if dg is None:
            continue
        un = dg.un_number
        path = f"{index}.dangerous_goods"
        if un in rules.refused_un_numbers:
            return CargoProblem("DG_UN_REFUSED", f"service {service_code} refuses UN{un} (lithium batteries "
                                "shipped on their own are not carried by rail under SMGS Annex 2)", f"{path}.un_number")
        condition = getattr(dg, "battery_condition", None)
        if rules.refuse_damaged_batteries and un in LITHIUM_UN_NUMBERS and condition in BATTERY_REFUSED_CONDITIONS:
            return CargoProblem("DG_UN_REFUSED", f"service {service_code} refuses {condition.lower()} lithium "
                                "batteries", f"{path}.battery_condition")
        if un in rules.documented_un_numbers and line_is_dg(line):
            declared = {d.kind for d in (getattr(dg, "documents", None) or ())}
            missing = [kind for kind in rules.required_documents if kind not in declared]
            if missing:
                return CargoProblem("DG_DOCUMENTS_MISSING", f"service {service_code} carries UN{un} only with "
                                    f"these documents declared: {', '.join(missing)} missing", f"{path}.documents")
    return None


def weight_problem(cargo: list[Any], heaviest_kg: float, service_code: str) -> CargoProblem | None:
    """A line, or the whole booking, heavier than any container of the service may carry under its rules."""
    for index, line in enumerate(cargo):
        if line.weight_kg > heaviest_kg:
            return CargoProblem("CARGO_TOO_HEAVY", f"a line of {line.weight_kg:g} kg is more than any container of "
                                f"service {service_code} may carry ({heaviest_kg:g} kg of cargo under its rail rules)",
                                f"{index}.weight_kg")
    total = sum(line.weight_kg for line in cargo)
    if total > heaviest_kg:
        return CargoProblem("CARGO_TOO_HEAVY", f"the cargo's {total:g} kg is more than any container of service "
                            f"{service_code} may carry ({heaviest_kg:g} kg of cargo under its rail rules)", "")
    return None


DEFAULT_RULES = RailRules()
