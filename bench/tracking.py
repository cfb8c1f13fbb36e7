"""Tracking fan-out and webhook delivery on PostgreSQL.

First, EQUIPMENT STUF (ACT) on each of a departure's 50 numbered plan containers
(20 CARGO_RECEIVED bookings each → STUFFED, 20 SHIPMENT events and their outbox
rows): prints the commit time of one container's fan-out. Then one DEPA (ACT) on
the departure, now carrying 50 containers × 20 bookings (1,000 STUFFED bookings of
50 exporters, three legs each): prints the time to commit the whole
fan-out — 1,000 bookings to IN_TRANSIT, 3,000 legs, 1,000 SHIPMENT events and
their outbox rows (an operator subscription and one per exporter) — then the rate
at which one worker delivers those webhooks to a receiver on loopback.

    .venv/bin/python bench/tracking.py [--runs 3] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import free_port, postgres_server, wait_for_http  # noqa: E402

CONTAINERS, PER_CONTAINER = 50, 20


async def seed(sessionmaker, runs: int) -> tuple[list[int], dict]:
    from sqlalchemy import insert, select

    from app.accounts import service as accounts
    from app.accounts.schemas import ALL_SCOPES, Role
    from app.bookings.models import Booking
    from app.consolidation.models import DeparturePlan, PlanAssignment, PlanContainer
    from app.db import utcnow
    from app.fields import iso6346_check_digit
    from app.network import service as network
    from app.network.schemas import ContainerTypeCreate, DepartureCreate, HubCreate, ServiceCreate, StopIn
    from app.tracking import legs
    from app.webhooks.models import WebhookSubscription
    from app.webhooks.signing import new_secret

    async with sessionmaker() as session:
        for code, kind, tz in (("CNWUH-WJS", "RAIL_TERMINAL", "Asia/Shanghai"), ("CNAKL", "BORDER_CROSSING", "Asia/Urumqi"),
                               ("PLMAA", "BORDER_CROSSING", "Europe/Warsaw"), ("DEDUI", "RAIL_TERMINAL", "Europe/Berlin")):
            await network.create_hub(session, HubCreate(code=code, name=code, kind=kind, un_locode=code[:5], timezone=tz,
                                                        handling_hours=12))
        container_type = await network.create_container_type(session, ContainerTypeCreate(
            code="40HC", name="40 HC", teu=2, payload_kg=26500, usable_cbm=66, inner_height_m=2.698, cost=Decimal(5600)))
        await network.create_service(session, ServiceCreate(
            code="WUH-DUI", name="Wuhan – Duisburg", mode="RAIL", origin="CNWUH-WJS", destination="DEDUI",
            stops=[StopIn(hub="CNAKL", offset_hours=96), StopIn(hub="PLMAA", offset_hours=270)],
            weight_per_cbm_kg=500, container_types=["40HC"]))
        operator = await accounts.create_organization(session, "Han'ou Hub", Role.OPERATOR)
        await accounts.create_api_key(session, operator, list(ALL_SCOPES))
        exporters = [await accounts.create_organization(session, f"Exporter {i}", Role.EXPORTER) for i in range(CONTAINERS)]
        departures = []
        for run in range(runs):
            departs = utcnow().replace(microsecond=0) + timedelta(days=10 + 7 * run)
            departures.append(await network.create_departure(session, DepartureCreate(
                service="WUH-DUI", departs_at=departs, cutoff_at=departs - timedelta(days=4),
                arrives_at=departs + timedelta(days=16), capacity_teu=200)))
        await session.flush()
        service = departures[0].service
        now = utcnow()
        rows = []
        for departure in departures:
            for container in range(CONTAINERS):
                for slot in range(PER_CONTAINER):
                    rows.append({
                        "reference": f"CVN{departure.id:02d}{container:03d}{slot:03d}", "organization_id": exporters[container].id,
                        "departure_id": departure.id, "requested_departure_id": departure.id, "status": "CARGO_RECEIVED",
                        "origin_hub_id": service.origin_hub_id, "destination_hub_id": service.destination_hub_id,
                        "consignee": {"name": "Rhein Deko GmbH"}, "references": [], "allow_rollover": False, "pieces": 4,
                        "weight_kg": 72.0, "volume_cbm": 0.48, "declared_chargeable_cbm": 1.0, "chargeable_cbm": 1.0,
                        "dg_classes": [], "stackable": True, "measurement_discrepancy": False, "currency": "EUR",
                        "price_amount": Decimal("150.00"), "version": 3, "created_at": now, "updated_at": now,
                    })
        await session.execute(insert(Booking), rows)
        for departure in departures:
            await legs.ensure_legs(session, departure)
        # A locked, numbered plan per departure: container c holds the bookings of exporter c.
        booking_ids = {r: i for r, i in await session.execute(select(Booking.reference, Booking.id))}
        numbers: dict[int, list[str]] = {}
        for run, departure in enumerate(departures):
            plan = DeparturePlan(departure_id=departure.id, version=1, cost=Decimal(0), lower_bound=Decimal(0),
                                 currency="EUR", unassigned=[], warnings=[], containers=[])
            numbers[departure.id] = []
            for container in range(CONTAINERS):
                serial = f"CVNU{run:02d}{container:04d}"
                number = f"{serial}{iso6346_check_digit(serial)}"  # ISO 6346, as events require
                numbers[departure.id].append(number)
                plan.containers.append(PlanContainer(
                    sequence=container + 1, container_type_id=container_type.id, destination="DEDUI",
                    weight_kg=72.0 * PER_CONTAINER, occupied_cbm=0.48 * PER_CONTAINER, locked=True, locked_at=now,
                    container_number=number,
                    assignments=[PlanAssignment(booking_id=booking_ids[f"CVN{departure.id:02d}{container:03d}{slot:03d}"])
                                 for slot in range(PER_CONTAINER)]))
            session.add(plan)
        subscriptions = [WebhookSubscription(organization_id=org.id, url="http://127.0.0.1:1/placeholder",
                                             event_types=["SHIPMENT", "TRANSPORT"], secret=new_secret())
                         for org in [operator, *exporters]]
        session.add_all(subscriptions)
        await session.commit()
        caller = accounts.Caller(organization_id=operator.id, role=Role.OPERATOR, scopes=frozenset(s.value for s in ALL_SCOPES),
                                 api_key_id=0)
        return [d.id for d in departures], {"caller": caller, "secrets": {s.id: s.secret for s in subscriptions},
                                            "numbers": numbers}


async def main(database_url: str, runs: int) -> None:
    from sqlalchemy import func, select, update

    from app.config import Settings
    from app.db import make_engine, make_sessionmaker, utcnow
    from app.tracking import record
    from app.tracking.schemas import EventCreate
    from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
    from app.webhooks.worker import Worker

    settings = Settings(database_url=database_url, webhook_allow_private_urls=True, webhook_require_https=False, webhook_batch_size=200,
                        webhook_concurrency=32, webhook_poll_seconds=0.01)
    engine = make_engine(settings.async_database_url, pool_size=40)
    sessionmaker = make_sessionmaker(engine)
    departure_ids, context = await seed(sessionmaker, runs)
    caller = context["caller"]

    stuffing = []
    for departure_id in departure_ids:
        for number in context["numbers"][departure_id]:
            event = EventCreate(event_type="EQUIPMENT", event_classifier="ACT", code="STUF", location="CNWUH-WJS",
                                event_datetime=utcnow() - timedelta(minutes=30), container_number=number)
            async with sessionmaker() as session:
                started = time.perf_counter()
                recorded = await record.record_event(session, caller, event)
                await session.commit()
                stuffing.append(time.perf_counter() - started)
            assert recorded.bookings_updated == PER_CONTAINER, recorded.bookings_updated
    print(f"fan-out of one EQUIPMENT STUF to a plan container of {PER_CONTAINER} bookings ({PER_CONTAINER} → STUFFED, "
          f"{PER_CONTAINER} events, outbox rows) on PostgreSQL, commit included, {len(stuffing)} containers:")
    print(f"  median {statistics.median(stuffing) * 1000:.1f} ms; max {max(stuffing) * 1000:.1f} ms")

    async with sessionmaker() as session:
        outbox_before = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    timings, outbox_rows = [], 0
    for departure_id in departure_ids:
        event = EventCreate(event_type="TRANSPORT", event_classifier="ACT", code="DEPA", location="CNWUH-WJS",
                            event_datetime=utcnow() - timedelta(minutes=1), departure_id=departure_id)
        async with sessionmaker() as session:
            started = time.perf_counter()
            recorded = await record.record_event(session, caller, event)
            await session.commit()
            timings.append(time.perf_counter() - started)
        assert recorded.bookings_updated == CONTAINERS * PER_CONTAINER, recorded.bookings_updated
    async with sessionmaker() as session:
        outbox_rows = await session.scalar(select(func.count()).select_from(WebhookDelivery)) - outbox_before
    print(f"fan-out of one DEPA to {CONTAINERS} containers × {PER_CONTAINER} bookings on PostgreSQL "
          f"(1,000 bookings → IN_TRANSIT, 3,000 legs, 1,000 events, {outbox_rows // runs} outbox rows), commit included:")
    print(f"  runs {', '.join(f'{t * 1000:.0f} ms' for t in timings)}; median {statistics.median(timings) * 1000:.0f} ms")

    # The receiver runs in its own process (uvicorn), as a partner's would.
    secret = next(iter(context["secrets"].values()))
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.webhook_receiver:app_from_env", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env={**os.environ, "RECEIVER_SECRET": secret, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
    )
    try:
        wait_for_http(port, "/")
        # One secret for every subscription, so the receiver can check each signature.
        async with sessionmaker() as session:
            await session.execute(update(WebhookSubscription).values(url=f"http://127.0.0.1:{port}/hook", secret=secret))
            await session.commit()
        worker = Worker(sessionmaker, settings)
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(worker.run(stop))
        while True:
            async with sessionmaker() as session:
                left = await session.scalar(select(func.count()).select_from(WebhookDelivery)
                                            .where(WebhookDelivery.status == "PENDING"))
            if not left:
                break
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        stop.set()
        await task
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    async with sessionmaker() as session:
        delivered = await session.scalar(select(func.count()).select_from(WebhookDelivery)
                                         .where(WebhookDelivery.status == "DELIVERED"))
        refused = await session.scalar(select(func.count()).select_from(WebhookAttempt)
                                       .where(WebhookAttempt.status_code == 401))
    print(f"webhook delivery, one worker (batch {settings.webhook_batch_size}, {settings.webhook_concurrency} in flight) "
          f"to a receiver process on loopback: {delivered} delivered in {seconds:.1f} s = {delivered / seconds:.0f}/s "
          f"(signatures refused: {refused})")
    await engine.dispose()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="departures, one DEPA each")
    parser.add_argument("--database-url", help="an empty PostgreSQL database; default: a throwaway server")
    args = parser.parse_args()
    from app.cli import migrate

    if args.database_url:
        migrate(args.database_url)
        asyncio.run(main(args.database_url, args.runs))
    else:
        with postgres_server() as url:
            os.environ["CARAVAN_DATABASE_URL"] = url
            migrate(url)
            asyncio.run(main(url, args.runs))
