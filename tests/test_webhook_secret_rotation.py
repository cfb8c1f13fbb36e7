"""A partner rotates a subscription's signing secret: the new one is shown once, and the old one
keeps signing beside it (two signatures in ``webhook-signature``) until its grace period ends."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from app.db import utcnow
from app.webhooks import signing, subscriptions
from app.webhooks.models import WebhookSubscription
from app.webhooks.worker import Worker, delivery_client
from tests.conftest import postgres_only
from tests.factories import org_headers
from tests.test_webhooks import (  # noqa: F401 (fixtures)
    allow_private,
    book_many,
    deliveries,
    drain,
    fast_settings,
    new_key,
    receiver_server,
    store_secrets,
    subscribe,
)
from tests.webhook_receiver import Receiver, verify

DAY_S = 24 * 3600


class RecordingReceiver(Receiver):
    """The test receiver, keeping every request's headers and body to check each signature on its own."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[dict[str, str], bytes]] = []

    def _handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        self.requests.append((headers, body))
        return super()._handle(headers, body)


def verifying(secret: str, headers: dict[str, str], body: bytes) -> list[bool]:
    """For each signature in the header, in order: whether it verifies with ``secret``."""
    return [verify(secret, headers | {"webhook-signature": signature}, body)
            for signature in headers["webhook-signature"].split(" ")]


async def rotate(client, headers, subscription_id: int, body: dict | None = None, **kwargs):
    return await client.post(f"/v1/webhook-subscriptions/{subscription_id}/secret/rotate", json=body,
                             headers=headers, **kwargs)


async def stored(app, subscription_id: int) -> WebhookSubscription:
    async with app.state.sessionmaker() as session:
        return await session.get(WebhookSubscription, subscription_id)


async def expire_previous(app, subscription_id: int) -> None:
    """End the grace period now (rather than wait for it)."""
    async with app.state.sessionmaker() as session:
        await session.execute(update(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
                              .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()


def near(value: str | None, expected: datetime) -> bool:
    return value is not None and abs(datetime.fromisoformat(value) - expected) < timedelta(seconds=30)


# --- the endpoint ----------------------------------------------------------------------------

async def test_rotation_shows_the_new_secret_once_and_keeps_the_old_one_for_a_day(client, app, exporter,
                                                                                  allow_private):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    assert created["previous_secret_expires_at"] is None

    response = await rotate(client, exporter, created["id"])  # no body: the default grace period
    assert response.status_code == 200, response.text
    rotated = response.json()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+=*", rotated["secret"]) and rotated["secret"] != created["secret"]
    assert rotated["id"] == created["id"] and rotated["url"] == created["url"]
    assert near(rotated["previous_secret_expires_at"], utcnow() + timedelta(seconds=DAY_S))
    row = await stored(app, created["id"])
    assert (row.secret, row.previous_secret) == (rotated["secret"], created["secret"])

    shown = (await client.get(f"/v1/webhook-subscriptions/{created['id']}", headers=exporter)).json()
    listed = (await client.get("/v1/webhook-subscriptions", headers=exporter)).json()["items"]
    for read in (shown, listed[0]):
        assert "secret" not in read and "whsec_" not in str(read)
        assert read["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]

    await expire_previous(app, created["id"])
    shown = (await client.get(f"/v1/webhook-subscriptions/{created['id']}", headers=exporter)).json()
    assert shown["previous_secret_expires_at"] is None  # only the current secret signs now


async def test_the_grace_period_is_what_the_partner_asks_and_0_drops_the_old_secret_at_once(
    client, app, exporter, allow_private
):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    week = await rotate(client, exporter, created["id"], {"grace_period_s": 7 * DAY_S})
    assert near(week.json()["previous_secret_expires_at"], utcnow() + timedelta(days=7))
    at_once = await rotate(client, exporter, created["id"], {"grace_period_s": 0})
    assert at_once.status_code == 200 and at_once.json()["previous_secret_expires_at"] is None
    row = await stored(app, created["id"])
    assert (row.secret, row.previous_secret, row.previous_secret_expires_at) == (at_once.json()["secret"], None, None)


async def test_a_second_rotation_during_the_grace_period_keeps_only_the_secret_it_replaces(
    client, app, exporter, allow_private
):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    first = (await rotate(client, exporter, created["id"], {"grace_period_s": 3600})).json()
    second = (await rotate(client, exporter, created["id"], {"grace_period_s": 600})).json()
    row = await stored(app, created["id"])
    assert (row.secret, row.previous_secret) == (second["secret"], first["secret"])  # the original is gone
    assert near(second["previous_secret_expires_at"], utcnow() + timedelta(seconds=600))


async def test_a_retried_rotation_with_an_idempotency_key_replays_the_same_secret(client, app, exporter,
                                                                                   allow_private):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    key = {"Idempotency-Key": "rotate-1"}
    first = await rotate(client, exporter | key, created["id"], {"grace_period_s": 60})
    again = await rotate(client, exporter | key, created["id"], {"grace_period_s": 60})
    assert again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"
    assert again.json()["secret"] == first.json()["secret"]
    row = await stored(app, created["id"])
    assert (row.secret, row.previous_secret) == (first.json()["secret"], created["secret"])  # rotated once


async def test_only_the_owner_with_the_webhooks_scope_rotates_a_live_subscription(
    client, app, operator, exporter, other_exporter, allow_private
):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    no_scope = await org_headers(client, operator, "Read Only Forwarding", "exporter", scopes=["bookings:read"])
    assert (await rotate(client, other_exporter, created["id"])).status_code == 404
    assert (await rotate(client, operator, created["id"])).status_code == 404  # the operator's own org too
    refused = await rotate(client, no_scope, created["id"], {"grace_period_s": -1})
    assert refused.status_code == 403  # refused before its input is judged
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await rotate(client, exporter, 999_999)).status_code == 404
    assert (await stored(app, created["id"])).secret == created["secret"]  # nothing changed

    assert (await client.delete(f"/v1/webhook-subscriptions/{created['id']}", headers=exporter)).status_code == 204
    gone = await rotate(client, exporter, created["id"])
    assert gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"
    assert (await stored(app, created["id"])).secret == created["secret"]


@pytest.mark.parametrize("body, field", [
    ({"grace_period_s": -1}, "grace_period_s"),
    ({"grace_period_s": 7 * DAY_S + 1}, "grace_period_s"),
    ({"grace_period_s": "soon"}, "grace_period_s"),
    ({"grace_period_s": 1.5}, "grace_period_s"),
    ({"grace_period_s": None}, "grace_period_s"),
    ({"grace_period": 60}, "grace_period"),
    ([60], "body"),
])
async def test_bad_rotation_input_is_422_naming_the_field(client, app, exporter, allow_private, body, field):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    response = await rotate(client, exporter, created["id"], body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await stored(app, created["id"])).secret == created["secret"]


@postgres_only
async def test_two_rotations_at_once_chain_on_postgresql(client, app, exporter, allow_private, monkeypatch):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    read = subscriptions.get_subscription

    async def read_slowly(*args, **kwargs):  # each rotation holds what it read a while: they overlap
        row = await read(*args, **kwargs)
        await asyncio.sleep(0.2)
        return row

    monkeypatch.setattr(subscriptions, "get_subscription", read_slowly)
    answers = await asyncio.gather(*(rotate(client, exporter, created["id"]) for _ in range(2)))
    assert all(a.status_code == 200 for a in answers)
    given = {a.json()["secret"] for a in answers}
    row = await stored(app, created["id"])
    # One replaced the original, the other replaced that one: both secrets handed out still sign.
    assert {row.secret, row.previous_secret} == given


# --- deliveries -----------------------------------------------------------------------------

@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "sealed"])
async def test_during_the_grace_period_both_secrets_sign_and_after_it_only_the_new_one(
    client, app, exporter, network, database_url, receiver_server, allow_private, monkeypatch, sealed
):
    key = new_key() if sealed else None
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_secret_key": key}))
    settings = fast_settings(database_url, webhook_secret_key=key)
    receiver = RecordingReceiver()
    subscription = await subscribe(client, exporter, f"{receiver_server(receiver).url}/hook", ["SHIPMENT"])
    old = receiver.secret = subscription["secret"]  # the receiver has not switched yet
    new = (await rotate(client, exporter, subscription["id"], {"grace_period_s": 3600})).json()["secret"]
    row = await stored(app, subscription["id"])
    assert not sealed or (signing.is_sealed_with(row.secret, key) and signing.is_sealed_with(row.previous_secret, key))

    async with delivery_client(settings) as http:
        await book_many(client, exporter, network["departure_id"], 1)
        await drain(app, Worker(app.state.sessionmaker, settings, http))
        headers, body = receiver.requests[-1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        assert verifying(new, headers, body) == [True, False] and verifying(old, headers, body) == [False, True]

        receiver.secret = new  # switched over: still accepted
        await book_many(client, exporter, network["departure_id"], 1)
        await drain(app, Worker(app.state.sessionmaker, settings, http))

        await expire_previous(app, subscription["id"])
        await book_many(client, exporter, network["departure_id"], 1)
        await drain(app, Worker(app.state.sessionmaker, settings, http))
        headers, body = receiver.requests[-1]
        assert verifying(new, headers, body) == [True] and verifying(old, headers, body) == [False]

    assert receiver.bad_signatures == 0 and len(receiver.processed) == 3
    assert [d["status"] for d in await deliveries(client, exporter, subscription["id"])] == ["DELIVERED"] * 3


async def test_a_previous_secret_no_key_opens_holds_the_delivery(
    client, app, exporter, network, database_url, receiver_server, allow_private
):
    """Signing with the new secret alone would fail at a receiver still on the old one: held and retried instead."""
    receiver = RecordingReceiver()
    subscription = await subscribe(client, exporter, f"{receiver_server(receiver).url}/hook", ["SHIPMENT"])
    receiver.secret = subscription["secret"]
    await rotate(client, exporter, subscription["id"], {"grace_period_s": 3600})
    async with app.state.sessionmaker() as session:
        await session.execute(update(WebhookSubscription).where(WebhookSubscription.id == subscription["id"])
                              .values(previous_secret=signing.seal(subscription["secret"], new_key())))
        await session.commit()
    await book_many(client, exporter, network["departure_id"], 1)
    settings = fast_settings(database_url)
    async with delivery_client(settings) as http:
        assert await Worker(app.state.sessionmaker, settings, http).run_once() == 1
    held = (await deliveries(client, exporter, subscription["id"]))[0]
    assert held["status"] == "PENDING" and held["attempt_log"][0]["error"].startswith("not sent:")
    assert receiver.requests == []


# --- resealing ----------------------------------------------------------------------------------

async def test_reseal_reseals_previous_secrets_still_signing_and_drops_expired_ones(client, app, exporter,
                                                                                     allow_private):
    old, new, stranger = new_key(), new_key(), new_key()
    rotated, plain, unopened, expired = [await subscribe(client, exporter, f"http://127.0.0.1:9/{n}", ["SHIPMENT"])
                                         for n in ("rotated", "plain", "unopened", "expired")]
    originals = {s["id"]: s["secret"] for s in (rotated, plain, unopened, expired)}
    currents = {}
    for s in (rotated, unopened, expired):
        currents[s["id"]] = (await rotate(client, exporter, s["id"], {"grace_period_s": 3600})).json()["secret"]
    await store_secrets(app, {s["id"]: signing.seal(currents[s["id"]], new) for s in (rotated, unopened, expired)})
    async with app.state.sessionmaker() as session:  # only the previous secrets need resealing
        for subscription_id, key in ((rotated["id"], old), (unopened["id"], stranger), (expired["id"], stranger)):
            await session.execute(update(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
                                  .values(previous_secret=signing.seal(originals[subscription_id], key)))
        await session.commit()
    await expire_previous(app, expired["id"])

    counts = await signing.reseal_secrets(app.state.sessionmaker, new, [old])
    assert (counts.resealed, counts.current, counts.changed, counts.unopened) == (3, 0, 0, [unopened["id"]])
    row = await stored(app, expired["id"])  # nothing signs with it: dropped, though no key opens it
    assert (row.previous_secret, row.previous_secret_expires_at) == (None, None)
    assert signing.unseal(row.secret, new) == currents[expired["id"]]
    row = await stored(app, rotated["id"])
    assert signing.is_sealed_with(row.previous_secret, new)
    assert signing.unseal(row.previous_secret, new) == originals[rotated["id"]]
    assert signing.unseal(row.secret, new) == currents[rotated["id"]]
    row = await stored(app, plain["id"])
    assert signing.unseal(row.secret, new) == plain["secret"] and row.previous_secret is None
    again = await signing.reseal_secrets(app.state.sessionmaker, new, [old])
    assert (again.resealed, again.current, again.unopened) == (0, 3, [unopened["id"]])


async def test_reseal_leaves_a_previous_secret_changed_meanwhile_as_its_writer_stored_it(
    client, app, exporter, allow_private, monkeypatch
):
    old, new = new_key(), new_key()
    created = await subscribe(client, exporter, "http://127.0.0.1:9/hook", ["SHIPMENT"])
    await rotate(client, exporter, created["id"], {"grace_period_s": 3600})
    async with app.state.sessionmaker() as session:
        await session.execute(update(WebhookSubscription).where(WebhookSubscription.id == created["id"])
                              .values(previous_secret=signing.seal(created["secret"], old)))
        await session.commit()
    written_meanwhile = signing.seal(signing.new_secret(), new)
    store = signing._store_unless_changed

    async def change_then_store(sessionmaker, changes, counts):
        async with sessionmaker() as session:  # between reseal's read and its write
            await session.execute(update(WebhookSubscription).where(WebhookSubscription.id == created["id"])
                                  .values(previous_secret=written_meanwhile))
            await session.commit()
        await store(sessionmaker, changes, counts)

    monkeypatch.setattr(signing, "_store_unless_changed", change_then_store)
    counts = await signing.reseal_secrets(app.state.sessionmaker, new, [old])
    assert (counts.resealed, counts.changed) == (0, 1)
    assert (await stored(app, created["id"])).previous_secret == written_meanwhile
