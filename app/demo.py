"""The demo network: Wuhan's hubs, the border crossings, European and Central Asian terminals,
the container types, the China–Europe rail lines with weekly departures, and demo organisations.

Seeding is idempotent: the network and the demo organisations are created once, with their keys;\nfresh keys (the old ones revoked) only when asked for (``caravan seed-demo --fresh-keys``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts
from app.accounts.models import ApiKey, Organization
from app.accounts.schemas import ALL_SCOPES, EXPORTER_SCOPES, PARTNER_SCOPES, Role
from app.db import utcnow
from app.network import service as network
from app.network.models import Hub, Service
from app.network.schemas import (
    ContainerTypeCreate,
    DepartureCreate,
    HubCreate,
    RailRulesIn,
    ServiceCreate,
    StopIn,
)
from app.routing import rates
from app.routing.schemas import RateCardCreate

WUHAN_RAIL = "CNWUH-WJS"

# code, name, kind, UN/LOCODE, time zone, handling hours.
# The UN/LOCODEs were checked against the UN/LOCODE list (tests/test_demo_codes.py keeps the
# place each names). KZDOS (Dostyk), KZHOR (Altynkol), MNZUU (Zamyn-Uud) and RUZBK (Zabaikalsk)
# could not be confirmed offline: check them against the current list before real use.
HUBS = [
    ("CNWUH-WJS", "Wuhan Wujiashan rail terminal (Han'ou)", "RAIL_TERMINAL", "CNWUH", "Asia/Shanghai", 12),
    ("CNWUH-HOC", "Han'ou CFS warehouse, Wujiashan", "CFS", "CNWUH", "Asia/Shanghai", 8),
    ("CNWUH-YLP", "Wuhan Yangluo river port", "RIVER_PORT", "CNWUH", "Asia/Shanghai", 18),
    ("CNWUH-WUH", "Wuhan Tianhe international airport", "AIRPORT", "CNWUH", "Asia/Shanghai", 6),
    ("CNAKL", "Alashankou rail border crossing", "BORDER_CROSSING", "CNAKL", "Asia/Urumqi", 24),
    ("KZDOS", "Dostyk rail border station", "BORDER_CROSSING", "KZDOS", "Asia/Almaty", 24),
    ("CNHRS", "Khorgos rail border crossing", "BORDER_CROSSING", "CNHRS", "Asia/Urumqi", 24),
    ("KZHOR", "Altynkol rail border station", "BORDER_CROSSING", "KZHOR", "Asia/Almaty", 24),
    ("CNERC", "Erenhot rail border crossing", "BORDER_CROSSING", "CNERC", "Asia/Shanghai", 24),
    ("MNZUU", "Zamyn-Uud rail border station", "BORDER_CROSSING", "MNZUU", "Asia/Ulaanbaatar", 24),
    ("CNMLX", "Manzhouli rail border crossing", "BORDER_CROSSING", "CNMLX", "Asia/Shanghai", 24),
    ("RUZBK", "Zabaikalsk rail border station", "BORDER_CROSSING", "RUZBK", "Asia/Chita", 24),
    ("BYBQT", "Brest gauge-change station", "BORDER_CROSSING", "BYBQT", "Europe/Minsk", 24),
    ("PLMAA", "Małaszewicze gauge-change terminal", "BORDER_CROSSING", "PLMAA", "Europe/Warsaw", 24),
    ("DEDUI", "Duisburg intermodal terminal (duisport)", "RAIL_TERMINAL", "DEDUI", "Europe/Berlin", 12),
    ("DEHAM", "Hamburg Billwerder rail terminal", "RAIL_TERMINAL", "DEHAM", "Europe/Berlin", 12),
    ("PLLOD", "Łódź Olechów rail terminal", "RAIL_TERMINAL", "PLLOD", "Europe/Warsaw", 12),
    ("ESMAD", "Madrid Abroñigal rail terminal", "RAIL_TERMINAL", "ESMAD", "Europe/Madrid", 12),
    ("ITMIL", "Milan Melzo rail terminal", "RAIL_TERMINAL", "ITMIL", "Europe/Rome", 12),
    ("HUBUD", "Budapest BILK rail terminal", "RAIL_TERMINAL", "HUBUD", "Europe/Budapest", 12),
    ("KZALA", "Almaty Zhetygen rail terminal", "RAIL_TERMINAL", "KZALA", "Asia/Almaty", 12),
    ("UZTAS", "Tashkent Chukursay rail terminal", "RAIL_TERMINAL", "UZTAS", "Asia/Tashkent", 12),
]

# Railway station codes printed on the CIM/SMGS consignment notes. DEMO PLACEHOLDERS, not the railways'
# codes (ESR/OSJD, UIC): they only show where a code goes. Give the real ones before real use.
RAILWAY_STATION_CODES = {
    code: f"DEMO{index:04d}" for index, (code, _, kind, *_) in enumerate(HUBS, start=1)
    if kind in ("RAIL_TERMINAL", "BORDER_CROSSING")
}
# China Railway's rules on the China–Europe and Central Asia lines (the defaults of app.cargo.rail:
# 25 t gross per 40', 24 t per 20', 20' in pairs within 5 t, 55 FEU, 1,300 t), with the stations
# that accept a single 20' on a wagon: Almaty-1 (Zhetygen here) and Chukursay.
SINGLE_20_STATIONS = ["KZALA", "UZTAS"]

# code, name, TEU, payload kg, usable CBM, inner height m, cost EUR, reefer
CONTAINER_TYPES = [
    ("20GP", "20' general purpose", 1, 28000, 28.0, 2.393, "3500", False),
    ("40GP", "40' general purpose", 2, 26500, 58.0, 2.393, "5400", False),
    ("40HC", "40' high cube", 2, 26500, 66.0, 2.698, "5600", False),
    ("40RH", "40' high cube reefer", 2, 29000, 59.0, 2.554, "9000", True),
]

RAIL_FORBIDDEN_DG = ["1", "2.1", "2.3", "5.2", "6.2", "7"]
ALASHANKOU = [("CNAKL", 92), ("KZDOS", 110)]
KHORGOS = [("CNHRS", 90), ("KZHOR", 106)]
ERENHOT = [("CNERC", 40), ("MNZUU", 56)]
MANZHOULI = [("CNMLX", 70), ("RUZBK", 88)]
BREST = [("BYBQT", 250), ("PLMAA", 270)]

# code, name, destination, stops, transit hours, capacity FEU, reefer, weekday (Mon=0)
RAIL_LINES = [
    ("WUH-DUI-AKL", "Wuhan – Duisburg via Alashankou", "DEDUI", ALASHANKOU + BREST, 16 * 24, 50, True, 0),
    ("WUH-HAM-ERL", "Wuhan – Hamburg via Erenhot", "DEHAM", ERENHOT + [("BYBQT", 260), ("PLMAA", 280)], 18 * 24, 46, True, 2),
    ("WUH-LOD-MZL", "Wuhan – Łódź via Manzhouli", "PLLOD", MANZHOULI + [("BYBQT", 290), ("PLMAA", 310)], 15 * 24 + 12, 41, False, 4),
    ("WUH-MAD-AKL", "Wuhan – Madrid via Alashankou", "ESMAD", ALASHANKOU + BREST, 22 * 24, 44, False, 1),
    ("WUH-MIL-KHG", "Wuhan – Milan via Khorgos", "ITMIL", KHORGOS + BREST, 20 * 24, 42, False, 3),
    ("WUH-BUD-KHG", "Wuhan – Budapest via Khorgos", "HUBUD", KHORGOS + BREST, 17 * 24, 43, False, 5),
    ("WUH-ALA-KHG", "Wuhan – Almaty via Khorgos", "KZALA", KHORGOS, 13 * 24, 55, False, 1),
    ("WUH-TAS-KHG", "Wuhan – Tashkent via Khorgos", "UZTAS", KHORGOS, 14 * 24, 48, False, 4),
]
WEEKS = 8
CUTOFF_BEFORE = timedelta(days=4)


async def seed_network(session: AsyncSession, now: datetime | None = None) -> bool:
    """Create the demo network unless it exists; True when it was created."""
    if await session.scalar(select(Hub.id).where(Hub.code == WUHAN_RAIL)):
        return False
    now = now or utcnow()
    for code, name, kind, locode, zone, handling in HUBS:
        await network.create_hub(
            session,
            HubCreate(code=code, name=name, kind=kind, un_locode=locode, timezone=zone, handling_hours=handling,
                      railway_station_code=RAILWAY_STATION_CODES.get(code)),
        )
    for code, name, teu, payload, cbm, height, cost, reefer in CONTAINER_TYPES:
        await network.create_container_type(
            session,
            ContainerTypeCreate(
                code=code, name=name, teu=teu, payload_kg=payload, usable_cbm=cbm, inner_height_m=height,
                cost=Decimal(cost), reefer=reefer,
            ),
        )
    shanghai = ZoneInfo("Asia/Shanghai")
    local_now = now.astimezone(shanghai)
    for code, name, destination, stops, transit_hours, capacity_feu, reefer, weekday in RAIL_LINES:
        await network.create_service(
            session,
            ServiceCreate(
                code=code,
                name=name,
                mode="RAIL",
                origin=WUHAN_RAIL,
                destination=destination,
                stops=[StopIn(hub=hub, offset_hours=hours) for hub, hours in stops],
                weight_per_cbm_kg=500,
                forbidden_dg_classes=RAIL_FORBIDDEN_DG,
                reefer_allowed=reefer,
                container_types=["20GP", "40GP", "40HC", *(["40RH"] if reefer else [])],
                currency="EUR",
                rate_per_cbm=Decimal("118.00"),
                minimum_charge=Decimal("150.00"),
                rail_rules=RailRulesIn(single_20_destinations=SINGLE_20_STATIONS),
            ),
        )
        # First departure on the line's weekday at least 6 days out, so its cut-off is still ahead.
        first_day = (local_now + timedelta(days=6)).date()
        first_day += timedelta(days=(weekday - first_day.weekday()) % 7)
        for week in range(WEEKS):
            departs_at = datetime.combine(first_day + timedelta(weeks=week), time(10, 0), shanghai)
            await network.create_departure(
                session,
                DepartureCreate(
                    service=code,
                    departs_at=departs_at,
                    cutoff_at=departs_at - CUTOFF_BEFORE,
                    arrives_at=departs_at + timedelta(hours=transit_hours),
                    capacity_teu=capacity_feu * 2,
                    max_payload_kg=21000,
                ),
            )
    return True


# --- the multimodal options around Wuhan -----------------------------------------------------
# Road pre-carriage from nearby cities to the rail terminal, the airport and the river port;
# Yangtze barges from Yangluo to Shanghai, then sea to Hamburg and rail on (rail-water);
# air from Tianhe to Frankfurt with road on to Duisburg; road on from Małaszewicze to Warsaw.
# Air is fastest and dearest, rail in between, rail-water slowest and cheapest.

# Shanghai is CNSHA; Waigaoqiao is one of its seaport terminals, named by a facility suffix
# as the other terminals are (CNWUH-WJS, DEHAM-CTA).
SHANGHAI_PORT = "CNSHA-WGQ"
MULTIMODAL_HUBS = [
    ("CNXGN", "Xiaogan road depot", "ROAD_DEPOT", "CNXGN", "Asia/Shanghai", 2),
    ("CNHSI", "Huangshi road depot", "ROAD_DEPOT", "CNHSI", "Asia/Shanghai", 2),
    ("CNEZH", "Ezhou road depot", "ROAD_DEPOT", "CNEZH", "Asia/Shanghai", 2),
    (SHANGHAI_PORT, "Shanghai Waigaoqiao container terminal", "SEAPORT", "CNSHA", "Asia/Shanghai", 24),
    ("DEHAM-CTA", "Hamburg Altenwerder container terminal", "SEAPORT", "DEHAM", "Europe/Berlin", 24),
    ("DEFRA", "Frankfurt airport cargo city", "AIRPORT", "DEFRA", "Europe/Berlin", 6),
    ("PLWAW", "Warsaw Praga road and rail depot", "ROAD_DEPOT", "PLWAW", "Europe/Warsaw", 6),
]
AIR_FORBIDDEN_DG = ["1", "2.1", "2.3", "3", "4.2", "4.3", "5.2", "6.2", "7"]
WATER_FORBIDDEN_DG = ["1", "6.2", "7"]
ROAD_FORBIDDEN_DG = ["1", "7"]

# code, name, mode, origin, destination, transit hours, local departure hour, weekdays (Mon=0; None = daily),
# cut-off hours before departure, capacity TEU, W/M kg per CBM, forbidden DG, reefer,
# rate card (rate per CBM, minimum, DG per CBM, reefer per CBM, non-stackable per m²)
MULTIMODAL_SERVICES = [
    ("XGN-WJS-RD", "Xiaogan – Wujiashan truck", "ROAD", "CNXGN", WUHAN_RAIL, 2, 8, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("22.00", "35.00", "10.00", "0.00", "0.00")),
    ("HSI-WJS-RD", "Huangshi – Wujiashan truck", "ROAD", "CNHSI", WUHAN_RAIL, 3, 8, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("26.00", "40.00", "10.00", "0.00", "0.00")),
    ("EZH-WJS-RD", "Ezhou – Wujiashan truck", "ROAD", "CNEZH", WUHAN_RAIL, 2, 8, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("22.00", "35.00", "10.00", "0.00", "0.00")),
    ("XGN-WUH-RD", "Xiaogan – Tianhe airport truck", "ROAD", "CNXGN", "CNWUH-WUH", 2, 9, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("22.00", "35.00", "10.00", "0.00", "0.00")),
    ("XGN-YLP-RD", "Xiaogan – Yangluo port truck", "ROAD", "CNXGN", "CNWUH-YLP", 2, 8, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("22.00", "35.00", "10.00", "0.00", "0.00")),
    ("HSI-YLP-RD", "Huangshi – Yangluo port truck", "ROAD", "CNHSI", "CNWUH-YLP", 3, 8, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("26.00", "40.00", "10.00", "0.00", "0.00")),
    ("EZH-YLP-RD", "Ezhou – Yangluo port truck", "ROAD", "CNEZH", "CNWUH-YLP", 2, 8, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("22.00", "35.00", "10.00", "0.00", "0.00")),
    ("WJS-YLP-RD", "Wujiashan – Yangluo port shuttle", "ROAD", WUHAN_RAIL, "CNWUH-YLP", 2, 14, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("12.00", "20.00", "5.00", "0.00", "0.00")),
    ("WJS-WUH-RD", "Wujiashan – Tianhe airport shuttle", "ROAD", WUHAN_RAIL, "CNWUH-WUH", 1, 14, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("12.00", "20.00", "5.00", "0.00", "0.00")),
    ("YLP-SHA-BRG", "Yangluo – Shanghai Yangtze barge", "WATER", "CNWUH-YLP", SHANGHAI_PORT, 5 * 24, 16, (1, 5), 48, 120,
     1000, WATER_FORBIDDEN_DG, False, ("14.00", "30.00", "8.00", "0.00", "0.00")),
    ("SHA-HAM-SEA", "Shanghai – Hamburg sea LCL", "WATER", SHANGHAI_PORT, "DEHAM-CTA", 34 * 24, 18, (3,), 72, 200,
     1000, WATER_FORBIDDEN_DG, True, ("24.00", "45.00", "15.00", "40.00", "0.00")),
    ("HAM-DUI-RL", "Hamburg – Duisburg rail shuttle", "RAIL", "DEHAM-CTA", "DEDUI", 20, 20, (0, 2, 4), 12, 60, 500,
     RAIL_FORBIDDEN_DG, False, ("20.00", "40.00", "8.00", "0.00", "0.00")),
    ("HAM-WAW-RL", "Hamburg – Warsaw rail shuttle", "RAIL", "DEHAM-CTA", "PLWAW", 40, 20, (1, 4), 12, 60, 500,
     RAIL_FORBIDDEN_DG, False, ("28.00", "45.00", "8.00", "0.00", "0.00")),
    ("WUH-FRA-AIR", "Wuhan Tianhe – Frankfurt freighter", "AIR", "CNWUH-WUH", "DEFRA", 13, 23, (0, 2, 4), 6, 4, 167,
     AIR_FORBIDDEN_DG, False, ("640.00", "250.00", "120.00", "0.00", "0.00")),
    ("FRA-DUI-RD", "Frankfurt – Duisburg truck", "ROAD", "DEFRA", "DEDUI", 4, 10, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("35.00", "80.00", "15.00", "0.00", "0.00")),
    ("MAA-WAW-RD", "Małaszewicze – Warsaw truck", "ROAD", "PLMAA", "PLWAW", 4, 10, None, 2, 4, 333,
     ROAD_FORBIDDEN_DG, False, ("25.00", "50.00", "10.00", "0.00", "0.00")),
]
# The China–Europe rail lines' card: the same base as the service fields, plus DG and reefer surcharges.
RAIL_CARD = ("118.00", "150.00", "35.00", "60.00", "0.00")
# And the ends of a Han'ou journey, so that a quote shows what a forwarder's quote shows beside the
# freight: the Wujiashan CFS's handling (receiving, measuring, stuffing; some CNY 90 a CBM), the European
# terminal's LCL handling (devanning, per W/M with a minimum, as terminals charge), a Wuhan-area truck to
# the hub on request and LCL distribution to a consignee on request. Orders of magnitude for a demo, not
# anyone's tariff. The feeder and multimodal cards set none: an itinerary that starts with a truck or ends
# with a shuttle is charged the ends its own first and last cards set (app.cargo.pricing).
RAIL_ENDS = {
    "origin_handling_per_cbm": "12.00", "origin_handling_minimum": "35.00",
    "destination_handling_per_cbm": "19.00", "destination_handling_minimum": "45.00",
    "pickup_per_cbm": "9.00", "pickup_minimum": "40.00", "delivery_per_cbm": "28.00", "delivery_minimum": "85.00",
}


def _card(values: tuple[str, str, str, str, str], valid_from: datetime, ends: dict[str, str] | None = None) -> RateCardCreate:
    rate, minimum, dg, reefer, non_stackable = (Decimal(v) for v in values)
    return RateCardCreate(
        currency="EUR", rate_per_cbm=rate, minimum_charge=minimum, dg_surcharge_per_cbm=dg,
        reefer_surcharge_per_cbm=reefer, non_stackable_surcharge_per_m2=non_stackable, valid_from=valid_from,
        note="demo tariff", **{name: Decimal(value) for name, value in (ends or {}).items()},
    )


async def seed_multimodal(session: AsyncSession, now: datetime | None = None) -> bool:
    """Add the multimodal options and the rate cards unless they exist; True when they were created."""
    # Xiaogan, the first of these hubs, marks them as made (a database seeded before Shanghai's
    # code was corrected keeps its old hub; delete var/caravan.db to seed afresh).
    if await session.scalar(select(Hub.id).where(Hub.code == MULTIMODAL_HUBS[0][0])):
        return False
    now = now or utcnow()
    for code, name, kind, locode, zone, handling in MULTIMODAL_HUBS:
        await network.create_hub(
            session,
            HubCreate(code=code, name=name, kind=kind, un_locode=locode, timezone=zone, handling_hours=handling,
                      railway_station_code=RAILWAY_STATION_CODES.get(code)),
        )
    valid_from = now - timedelta(days=1)
    for code, *_ in RAIL_LINES:
        await rates.create_rate_card(session, await network.get_service(session, code), _card(RAIL_CARD, valid_from, RAIL_ENDS))
    for (code, name, mode, origin, destination, transit_hours, hour, weekdays, cutoff_hours, capacity_teu, ratio,
         forbidden, reefer, card) in MULTIMODAL_SERVICES:
        service = await network.create_service(
            session,
            ServiceCreate(
                code=code, name=name, mode=mode, origin=origin, destination=destination, weight_per_cbm_kg=ratio,
                forbidden_dg_classes=forbidden, reefer_allowed=reefer,
                container_types=["20GP", "40GP", "40HC", *(["40RH"] if reefer else [])],
                currency="EUR", rate_per_cbm=Decimal(card[0]), minimum_charge=Decimal(card[1]),
            ),
        )
        await rates.create_rate_card(session, service, _card(card, valid_from))
        zone = ZoneInfo(next(h[4] for h in HUBS + MULTIMODAL_HUBS if h[0] == origin))
        first_day = (now.astimezone(zone) + timedelta(days=1)).date()
        for day in range(WEEKS * 7):
            date = first_day + timedelta(days=day)
            if weekdays is not None and date.weekday() not in weekdays:
                continue
            departs_at = datetime.combine(date, time(hour, 0), zone)
            await network.create_departure(
                session,
                DepartureCreate(
                    service=code,
                    departs_at=departs_at,
                    cutoff_at=departs_at - timedelta(hours=cutoff_hours),
                    arrives_at=departs_at + timedelta(hours=transit_hours),
                    capacity_teu=capacity_teu,
                ),
            )
    return True


DEMO_ORGS = [
    ("operator", "Han'ou Consolidation Hub", Role.OPERATOR, ALL_SCOPES),
    ("exporter", "Wuhan Festive Crafts Co., Ltd.", Role.EXPORTER, EXPORTER_SCOPES),
    ("partner", "Rhein Forwarding GmbH", Role.EXPORTER, PARTNER_SCOPES),  # reports its road legs' events
]


def demo_key_name(label: str) -> str:
    return f"demo {label} key"


# --- emissions: where the hubs are and how far the lines run ---------------------------------
# WGS 84 coordinates of the terminals (to about 0.01°, i.e. within a km or so; the border stations
# at their towns' stations). Legs without a set distance are estimated from these (app.emissions).
HUB_COORDINATES = {
    "CNWUH-WJS": (30.66, 114.14), "CNWUH-HOC": (30.66, 114.14), "CNWUH-YLP": (30.69, 114.55),
    "CNWUH-WUH": (30.78, 114.21), "CNAKL": (45.17, 82.57), "KZDOS": (45.25, 82.48), "CNHRS": (44.21, 80.42),
    "KZHOR": (44.23, 80.34), "CNERC": (43.65, 111.98), "MNZUU": (43.72, 111.90), "CNMLX": (49.60, 117.43),
    "RUZBK": (49.65, 117.33), "BYBQT": (52.10, 23.73), "PLMAA": (52.03, 23.53), "DEDUI": (51.43, 6.75),
    "DEHAM": (53.51, 10.10), "PLLOD": (51.74, 19.55), "ESMAD": (40.38, -3.67), "ITMIL": (45.50, 9.42),
    "HUBUD": (47.40, 19.10), "KZALA": (43.24, 76.95), "UZTAS": (41.36, 69.21), "CNXGN": (30.92, 113.92),
    "CNHSI": (30.20, 115.04), "CNEZH": (30.39, 114.89), SHANGHAI_PORT: (31.36, 121.60),
    "DEHAM-CTA": (53.50, 9.94), "DEFRA": (50.05, 8.58), "PLWAW": (52.26, 21.05),
}
# Approximate route km between consecutive calls, summed from the lines' sections (Wuhan – Xi'an –
# Lanzhou – Ürümqi – Alashankou, the Kazakh and Russian main lines to Brest, the Trans-Siberian from
# Zabaikalsk, and so on); demo figures to a few per cent, not a railway's timetable distances.
SECTION_KM = {
    ("CNWUH-WJS", "CNAKL"): 4000, ("CNAKL", "KZDOS"): 12, ("KZDOS", "BYBQT"): 5450, ("BYBQT", "PLMAA"): 10,
    ("PLMAA", "DEDUI"): 1170, ("PLMAA", "ESMAD"): 3050, ("PLMAA", "ITMIL"): 1750, ("PLMAA", "HUBUD"): 850,
    ("CNWUH-WJS", "CNHRS"): 4300, ("CNHRS", "KZHOR"): 8, ("KZHOR", "BYBQT"): 5600, ("KZHOR", "KZALA"): 380,
    ("KZHOR", "UZTAS"): 1300, ("CNWUH-WJS", "CNERC"): 1950, ("CNERC", "MNZUU"): 9, ("MNZUU", "BYBQT"): 7000,
    ("PLMAA", "DEHAM"): 1000, ("CNWUH-WJS", "CNMLX"): 3400, ("CNMLX", "RUZBK"): 10, ("RUZBK", "BYBQT"): 7800,
    ("PLMAA", "PLLOD"): 280, ("CNWUH-YLP", SHANGHAI_PORT): 1125, ("DEHAM-CTA", "DEDUI"): 370,
    ("DEHAM-CTA", "PLWAW"): 880, ("DEFRA", "DEDUI"): 230, ("PLMAA", "PLWAW"): 190,
}


async def seed_emissions(session: AsyncSession) -> None:
    """Coordinates on every demo hub and distances on every demo line that has none yet."""
    for hub in await session.scalars(select(Hub).where(Hub.latitude.is_(None))):
        if hub.code in HUB_COORDINATES:
            hub.latitude, hub.longitude = HUB_COORDINATES[hub.code]
    for service in await session.scalars(select(Service)):
        if service.leg_distances_km:  # (JSON: a stored null reads as None, whichever way it was stored)
            continue
        calls = [hub.code for hub in network.route_hubs(service)]
        sections = [SECTION_KM.get((a, b)) for a, b in zip(calls, calls[1:])]
        if any(km is not None for km in sections):
            service.leg_distances_km = sections
    await session.flush()


async def seed_demo(session: AsyncSession, *, fresh_keys: bool = False) -> dict[str, str]:
    """Seed the network and the demo organisations; return the keys minted, by role.

    Keys are minted for a demo organisation when it is created, so a later start on the same
    database mints none (an empty answer: the keys printed the first time still work). With
    ``fresh_keys`` every demo organisation's earlier demo keys are revoked and new ones minted.
    """
    await seed_network(session)
    await seed_multimodal(session)
    await seed_emissions(session)
    keys = {}
    for label, name, role, scopes in DEMO_ORGS:
        org = await session.scalar(select(Organization).where(Organization.name == name).order_by(Organization.id))
        if org is None:
            org = await accounts.create_organization(session, name, role)
        elif not fresh_keys:
            continue
        else:
            now = utcnow()
            for key in await session.scalars(
                select(ApiKey).where(ApiKey.organization_id == org.id, ApiKey.name == demo_key_name(label),
                                     ApiKey.revoked_at.is_(None))
            ):
                key.revoked_at = now
        _, key = await accounts.create_api_key(session, org, list(scopes), demo_key_name(label))
        keys[label] = key
    return keys
