"""Idempotency-Key on POST: replay, mismatch, in-flight, scoping."""

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from app.bookings.models import Booking
from app.db import utcnow
from app.idempotency import IdempotencyRecord
from tests.conftest import postgres_only
from tests.factories import booking_body, line_of_cbm


async def bookings_count(app) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Booking))


async def test_same_key_same_body_replays_the_first_response(app, client, exporter, network):
    body = booking_body(network["departure_id"])
    headers = exporter | {"Idempotency-Key": "order-4711"}
    first = await client.post("/v1/bookings", json=body, headers=headers)
    second = await client.post("/v1/bookings", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"] and second.headers["location"] == first.headers["location"]
    assert second.headers.get("idempotent-replayed") == "true"
    assert await bookings_count(app) == 1


async def test_same_key_different_body_is_422(app, client, exporter, network):
    headers = exporter | {"Idempotency-Key": "order-4712"}
    assert (await client.post("/v1/bookings", json=booking_body(network["departure_id"]), headers=headers)).status_code == 201
    other = booking_body(network["departure_id"], cargo=[line_of_cbm(3)])
    response = await client.post("/v1/bookings", json=other, headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await bookings_count(app) == 1


async def test_key_in_flight_is_409(app, client, exporter, network):
    body = booking_body(network["departure_id"])
    first = await client.post("/v1/bookings", json=body, headers=exporter | {"Idempotency-Key": "probe"})
    assert first.status_code == 201
    # Claim another key for the very same request, as a request still running would hold it.
    async with app.state.sessionmaker() as session:
        probe = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "probe"))
        session.add(IdempotencyRecord(api_key_id=probe.api_key_id, key="running", request_hash=probe.request_hash,
                                      state="IN_FLIGHT", expires_at=utcnow() + timedelta(minutes=1)))
        await session.commit()
    response = await client.post("/v1/bookings", json=body, headers=exporter | {"Idempotency-Key": "running"})
    assert response.status_code == 409 and "in progress" in response.json()["detail"]
    assert await bookings_count(app) == 1


async def test_stale_claim_is_taken_over(app, client, exporter, network):
    body = booking_body(network["departure_id"])
    first = await client.post("/v1/bookings", json=body, headers=exporter | {"Idempotency-Key": "probe"})
    async with app.state.sessionmaker() as session:
        probe = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "probe"))
        session.add(IdempotencyRecord(api_key_id=probe.api_key_id, key="crashed", request_hash=probe.request_hash,
                                      state="IN_FLIGHT", expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    response = await client.post("/v1/bookings", json=body, headers=exporter | {"Idempotency-Key": "crashed"})
    assert first.status_code == response.status_code == 201
    assert await bookings_count(app) == 2


async def test_concurrent_duplicates_run_once(app, client, exporter, network):
    body = booking_body(network["departure_id"])
    headers = exporter | {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(*(client.post("/v1/bookings", json=body, headers=headers) for _ in range(8)))
    assert {r.status_code for r in responses} <= {201, 409}
    assert await bookings_count(app) == 1
    references = {r.json()["reference"] for r in responses if r.status_code == 201}
    assert len(references) == 1


async def test_keys_are_scoped_to_the_api_key(app, client, exporter, other_exporter, network):
    body = booking_body(network["departure_id"])
    a = await client.post("/v1/bookings", json=body, headers=exporter | {"Idempotency-Key": "shared"})
    b = await client.post("/v1/bookings", json=body, headers=other_exporter | {"Idempotency-Key": "shared"})
    assert a.status_code == b.status_code == 201 and a.json()["reference"] != b.json()["reference"]
    assert await bookings_count(app) == 2


async def test_errors_are_replayed_too_and_bad_keys_refused(app, client, exporter, network):
    headers = exporter | {"Idempotency-Key": "bad-body"}
    first = await client.post("/v1/bookings", json={"departure_id": -1}, headers=headers)
    second = await client.post("/v1/bookings", json={"departure_id": -1}, headers=headers)
    assert first.status_code == second.status_code == 422 and first.json() == second.json()
    too_long = await client.post("/v1/bookings", json={}, headers=exporter | {"Idempotency-Key": "k" * 256})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "Idempotency-Key"
    unauthenticated = await client.post("/v1/bookings", json={}, headers={"Idempotency-Key": "anon"})
    assert unauthenticated.status_code == 401
    # Authentication comes first: no key, a bad Idempotency-Key, still 401.
    unauthenticated = await client.post("/v1/bookings", json={}, headers={"Idempotency-Key": "k" * 256})
    assert unauthenticated.status_code == 401


async def test_a_request_whose_process_stopped_after_its_commit_is_not_run_again(
    app, client, exporter, network, monkeypatch
):
    """The booking committed, then the process stopped before the response was stored. Once the
    claim's lease would have run out, a retry must not book a second time."""
    import app.idempotency as idempotency

    async def stopped_before_storing(*_args) -> None:
        return None

    body = booking_body(network["departure_id"])
    headers = exporter | {"Idempotency-Key": "order-4713"}
    with monkeypatch.context() as stopped:
        stopped.setattr(idempotency, "_finish", stopped_before_storing)
        first = await client.post("/v1/bookings", json=body, headers=headers)
    assert first.status_code == 201
    later = utcnow() + idempotency.LEASE + timedelta(minutes=1)
    monkeypatch.setattr(idempotency, "utcnow", lambda: later)
    retry = await client.post("/v1/bookings", json=body, headers=headers)
    assert retry.status_code == 409 and "was carried out" in retry.json()["detail"]
    assert await bookings_count(app) == 1


@postgres_only  # SQLite has one writer: the retry would wait for the booking to commit and find it marked
async def test_a_request_that_outlasted_its_claim_rolls_back_and_leaves_the_work_to_the_retry(
    app, client, exporter, network, monkeypatch
):
    """While the booking ran, its claim's lease ran out and a retry took the key over: the
    booking must not commit, or the retry would book the same cargo a second time."""
    from app.booking_desk import create as service

    book = service.create_booking

    async def slow_booking(session, caller, body):
        booking = await book(session, caller, body)
        async with app.state.sessionmaker() as other:  # a retry takes the expired claim over
            claim = await other.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "order-4714"))
            await other.delete(claim)
            await other.flush()
            other.add(IdempotencyRecord(api_key_id=claim.api_key_id, key=claim.key, request_hash=claim.request_hash,
                                        state="IN_FLIGHT", expires_at=utcnow() + timedelta(minutes=2)))
            await other.commit()
        return booking

    monkeypatch.setattr(service, "create_booking", slow_booking)
    response = await client.post("/v1/bookings", json=booking_body(network["departure_id"]),
                                 headers=exporter | {"Idempotency-Key": "order-4714"})
    assert response.status_code == 409 and "took the key over" in response.json()["detail"]
    assert await bookings_count(app) == 0


async def test_expired_keys_are_purged_by_the_worker_and_live_ones_kept(app, client, exporter, network, settings):
    import asyncio as aio

    from app.webhooks.worker import Worker

    body = booking_body(network["departure_id"])
    for key in ("kept-1", "kept-2", "old-1", "old-2", "old-3"):
        assert (await client.post("/v1/bookings", json=body, headers=exporter | {"Idempotency-Key": key})).status_code == 201
    async with app.state.sessionmaker() as session:
        for record in await session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key.like("old-%"))):
            record.expires_at = utcnow() - timedelta(seconds=1)  # answered more than 24 h ago
        await session.commit()

    stop = aio.Event()
    worker = Worker(app.state.sessionmaker, settings.model_copy(update={"purge_seconds": 3600}))
    task = aio.create_task(worker.run(stop))
    try:
        for _ in range(500):
            async with app.state.sessionmaker() as session:
                keys = set(await session.scalars(select(IdempotencyRecord.key)))
            if not keys & {"old-1", "old-2", "old-3"}:
                break
            await aio.sleep(0.01)
    finally:
        stop.set()
        await task
    assert keys == {"kept-1", "kept-2"}
    # A purged key is free again: the same request is carried out anew.
    again = await client.post("/v1/bookings", json=body, headers=exporter | {"Idempotency-Key": "old-1"})
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert await bookings_count(app) == 6


async def test_the_purge_goes_a_bounded_slice_at_a_time_and_spares_a_claim_still_running(
    app, client, exporter, network, settings
):
    from app.webhooks.worker import Worker

    body = booking_body(network["departure_id"])
    for key in ("done-1", "done-2", "done-3", "running"):
        assert (await client.post("/v1/bookings", json=body, headers=exporter | {"Idempotency-Key": key})).status_code == 201
    async with app.state.sessionmaker() as session:
        for record in await session.scalars(select(IdempotencyRecord)):
            record.expires_at = utcnow() - timedelta(seconds=1)
            if record.key == "running":  # its lease ran out, but its request may still be running
                record.state = "IN_FLIGHT"
        await session.commit()

    async def keys() -> set[str]:
        async with app.state.sessionmaker() as session:
            return set(await session.scalars(select(IdempotencyRecord.key)))

    worker = Worker(app.state.sessionmaker, settings)
    assert await worker.purge(batch=2, max_batches=1) is True  # a slice of two: there may be more
    assert len(await keys()) == 2
    assert await worker.purge(batch=2, max_batches=1) is False
    assert await keys() == {"running"}
