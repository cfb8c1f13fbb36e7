"""A rail service's China Railway rules (``app.cargo.rail``) as stored settings, and a departure's train limits."""

from __future__ import annotations

from app import cargo as core
from app.errors import Unprocessable
from app.network.models import ContainerType, Departure, Service
from app.network.schemas import Mode, ServiceCreate


def service_rail_rules(data: ServiceCreate) -> dict | None:
    """The rules to store, each figure left out taking the default (``{}``: all defaults); None when not given.
    Only a RAIL service carries them (422 otherwise)."""
    if data.rail_rules is None:
        return None
    if data.mode != Mode.RAIL:
        raise Unprocessable("rail_rules", "only a RAIL service carries rail rules")
    return core.RailRules.from_json(data.rail_rules.model_dump()).to_json()


def rules_of(service: Service) -> core.RailRules | None:
    return core.RailRules.from_json(service.rail_rules)


def check_train_size(service: Service, capacity_teu: int) -> None:
    """A rail departure holds at most the rules' FEU (55 FEU: 110 TEU)."""
    rules = rules_of(service)
    if rules is not None and capacity_teu > 2 * rules.max_feu:
        raise Unprocessable("capacity_teu", f"service {service.code} runs trains of at most {rules.max_feu} FEU "
                                            f"({2 * rules.max_feu} TEU)")


def train_limits(departure: Departure) -> tuple[float | None, float | None]:
    """(max container cargo kg, max train length m) of the departure: its own, else its service's rules."""
    rules = rules_of(departure.service)
    cargo_kg = departure.max_cargo_kg if departure.max_cargo_kg is not None else (rules.max_cargo_kg if rules else None)
    length_m = departure.max_train_length_m
    if length_m is None and rules is not None:
        length_m = rules.max_train_length_m
    return cargo_kg, length_m


def max_teu(departure: Departure) -> int:
    """The TEU the departure's plans may use: its capacity, within the FEU and train length limits."""
    rules = rules_of(departure.service)
    if rules is None:
        return departure.capacity_teu
    return rules.max_teu(departure.capacity_teu, train_limits(departure)[1])


def cargo_cap_kg(departure_or_service: Departure | Service, ctype: ContainerType) -> float:
    """The cargo a container of ``ctype`` carries: payload, capped by the departure's ``max_payload_kg`` and the
    service's gross weight rule per container on a wagon."""
    if isinstance(departure_or_service, Departure):
        service, departure_cap = departure_or_service.service, departure_or_service.max_payload_kg
    else:
        service, departure_cap = departure_or_service, None
    payload = ctype.payload_kg if departure_cap is None else min(ctype.payload_kg, departure_cap)
    rules = rules_of(service)
    return payload if rules is None else rules.cargo_cap_kg(ctype.code, payload)
