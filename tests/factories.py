"""Builders for test data, all through the public API except the bootstrap key."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from app.accounts import service as accounts
from app.accounts.schemas import ALL_SCOPES, EXPORTER_SCOPES, Role


def future(days: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


def iso(value: datetime) -> str:
    return value.isoformat()


async def bootstrap_operator(app) -> str:
    async with app.state.sessionmaker() as session:
        org = await accounts.create_organization(session, "Han'ou Hub", Role.OPERATOR)
        _, key = await accounts.create_api_key(session, org, list(ALL_SCOPES))
        await session.commit()
    return key


async def org_headers(client, operator, name: str, role: str, scopes: list[str] | None = None) -> dict[str, str]:
    response = await client.post("/v1/organizations", json={"name": name, "role": role}, headers=operator)
    assert response.status_code == 201, response.text
    org_id = response.json()["id"]
    if scopes is None:
        scopes = [s.value for s in (ALL_SCOPES if role == "operator" else EXPORTER_SCOPES)]
    response = await client.post(f"/v1/organizations/{org_id}/api-keys", json={"scopes": scopes}, headers=operator)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


HUBS = [
    {"code": "CNWUH-WJS", "name": "Wuhan Wujiashan", "kind": "RAIL_TERMINAL", "un_locode": "CNWUH",
     "timezone": "Asia/Shanghai", "handling_hours": 12},
    {"code": "CNAKL", "name": "Alashankou", "kind": "BORDER_CROSSING", "un_locode": "CNAKL",
     "timezone": "Asia/Urumqi", "handling_hours": 24},
    {"code": "PLMAA", "name": "Małaszewicze", "kind": "BORDER_CROSSING", "un_locode": "PLMAA",
     "timezone": "Europe/Warsaw", "handling_hours": 24},
    {"code": "DEDUI", "name": "Duisburg", "kind": "RAIL_TERMINAL", "un_locode": "DEDUI",
     "timezone": "Europe/Berlin", "handling_hours": 12},
]

CONTAINER_TYPES = [
    {"code": "20GP", "name": "20 GP", "teu": 1, "payload_kg": 28000, "usable_cbm": 28.0, "inner_height_m": 2.393,
     "cost": "3500", "reefer": False},
    {"code": "40HC", "name": "40 HC", "teu": 2, "payload_kg": 26500, "usable_cbm": 66.0, "inner_height_m": 2.698,
     "cost": "5600", "reefer": False},
    {"code": "40RH", "name": "40 reefer", "teu": 2, "payload_kg": 29000, "usable_cbm": 59.0, "inner_height_m": 2.554,
     "cost": "9000", "reefer": True},
]


def service_body(code: str = "WUH-DUI", **overrides: Any) -> dict:
    body = {
        "code": code,
        "name": "Wuhan – Duisburg",
        "mode": "RAIL",
        "origin": "CNWUH-WJS",
        "destination": "DEDUI",
        "stops": [{"hub": "CNAKL", "offset_hours": 96}, {"hub": "PLMAA", "offset_hours": 270}],
        "weight_per_cbm_kg": 500,
        "forbidden_dg_classes": ["1", "7"],
        "reefer_allowed": True,
        "container_types": ["20GP", "40HC", "40RH"],
        "currency": "EUR",
        "rate_per_cbm": "100.00",
        "minimum_charge": "150.00",
    }
    body.update(overrides)
    return body


def departure_body(service: str = "WUH-DUI", days_out: float = 10, **overrides: Any) -> dict:
    departs = future(days_out).replace(microsecond=0)
    body = {
        "service": service,
        "departs_at": iso(departs),
        "cutoff_at": iso(departs - timedelta(days=4)),
        "arrives_at": iso(departs + timedelta(days=16)),
        "capacity_teu": 2,
    }
    body.update(overrides)
    return body


async def small_network(client, operator) -> dict:
    for hub in HUBS:
        response = await client.post("/v1/hubs", json=hub, headers=operator)
        assert response.status_code == 201, response.text
    for container_type in CONTAINER_TYPES:
        response = await client.post("/v1/container-types", json=container_type, headers=operator)
        assert response.status_code == 201, response.text
    response = await client.post("/v1/services", json=service_body(), headers=operator)
    assert response.status_code == 201, response.text
    departures = []
    for week in range(3):
        response = await client.post("/v1/departures", json=departure_body(days_out=10 + 7 * week), headers=operator)
        assert response.status_code == 201, response.text
        departures.append(response.json())
    return {"departures": departures, "departure_id": departures[0]["id"]}


def cargo_line(**overrides: Any) -> dict:
    line = {
        "description": "Festive decorations",
        "hs_code": "950510",
        "packages": 10,
        "package_type": "CARTON",
        "length_cm": 60,
        "width_cm": 40,
        "height_cm": 50,
        "weight_kg": 180,
        "stackable": True,
        "dangerous_goods": None,
        "temperature_c": None,
    }
    line.update(overrides)
    return line


def booking_body(departure_id: int, **overrides: Any) -> dict:
    body = {
        "departure_id": departure_id,
        "consignee": {"name": "Rhein Deko GmbH", "address": "Hafenstraße 1", "city": "Duisburg", "country": "DE"},
        "cargo": [cargo_line()],
        "references": [{"kind": "PURCHASE_ORDER", "value": "PO-4711"}],
        "allow_rollover": False,
    }
    body.update(overrides)
    return body


def line_of_cbm(cbm: float) -> dict:
    """``cbm`` cubic metres (up to 52) charged by volume: packages of 200 × 200 cm, as few as keep
    each at most 230 cm tall (one stands in any container)."""
    assert 0 < cbm <= 52
    packages = math.ceil(cbm * 25 / 230)
    return cargo_line(packages=packages, length_cm=200, width_cm=200, height_cm=round(cbm * 25 / packages, 4),
                      weight_kg=10)
