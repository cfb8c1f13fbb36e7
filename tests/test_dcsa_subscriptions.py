"""DCSA Track & Trace 2.2 event subscriptions (``/dcsa/tnt/v2/event-subscriptions``): the CRUD
against the official spec's schemas, the rules on the body, and notifications delivered over
real HTTP by Caravan's webhook worker: a JSON array of DCSA events signed with
``Notification-Signature``, narrowed by the subscription's filters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error, response_headers_conformance, response_schema_conformance
from sqlalchemy import select

from app.dcsa.subscriptions import REFUSED, subscription_id_of, subscription_uuid
from app.main import create_app
from app.webhooks import deliveries, signing
from app.webhooks.models import WebhookDelivery, WebhookSubscription
from app.webhooks.worker import Worker, delivery_client
from tests import factories
from tests.live import LiveServer
from tests.test_dcsa import Spec, load_spec
from tests.test_webhooks import allow_private, book_many, drain, fast_settings, receiver_server  # noqa: F401 - fixtures
from tests.webhook_receiver import Receiver

BASE = "/dcsa/tnt/v2/event-subscriptions"
SEALING_KEY = base64.b64encode(os.urandom(32)).decode()
CALLBACK = "/paths/~1v2~1event-subscriptions/post/callbacks/event/{$request.body.callbackUrl}/post/requestBody/content/application~1json/schema"



@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec()


@pytest.fixture
def sealing(app, allow_private, monkeypatch):  # noqa: F811 - the fixture imported above
    """Loopback callbacks allowed (the receivers run on 127.0.0.1) and secrets sealed at rest."""
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_secret_key": SEALING_KEY}))


def new_secret() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The spec's Notification-Signature: sha256=<hex HMAC-SHA256 of the body>, keyed with the secret's bytes."""
    expected = "sha256=" + hmac.new(base64.b64decode(secret), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("notification-signature", ""))


class DcsaReceiver(Receiver):
    """The loopback receiver of test_webhooks, verifying DCSA notifications instead of Standard Webhooks."""

    def __init__(self) -> None:
        super().__init__()
        self.notifications: list[tuple[dict[str, str], list[dict[str, Any]]]] = []

    def _handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with self.lock:
            if not verify(self.secret, headers, body):
                self.bad_signatures += 1
                return 401, b"bad signature"
            self.notifications.append((headers, json.loads(body)))
            return 204, b""

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for _, events in self.notifications for event in events]


async def subscribe(client, headers, callback: str, secret: str | None = None, **filters: Any) -> dict:
    body = {"callbackUrl": callback, "secret": secret or new_secret(), **filters}
    response = await client.post(BASE, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def refused(client, headers, body: dict, field: str, status: int = 400, method: str = "POST",
                  path: str = BASE) -> dict:
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["statusCode"] == status and error["errors"][0]["message"].startswith(f"{field}:"), error
    return error


async def deliver(app, database_url: str) -> None:
    settings = fast_settings(database_url, webhook_secret_key=SEALING_KEY)
    async with delivery_client(settings) as http:
        await drain(app, Worker(app.state.sessionmaker, settings, http))


async def statuses(app, subscription: dict) -> list[str]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(
            select(WebhookDelivery.status)
            .where(WebhookDelivery.subscription_id == subscription_id_of(subscription["subscriptionID"]))
            .order_by(WebhookDelivery.id)
        ))


async def train_event(client, operator, departure_id: int, code: str = "DEPA", classifier: str = "ACT") -> None:
    when = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    location = "CNWUH-WJS" if code == "DEPA" else "DEDUI"
    event = {"event_type": "TRANSPORT", "event_classifier": classifier, "code": code, "location": location,
             "event_datetime": when, "departure_id": departure_id}
    response = await client.post("/v1/events", json=event, headers=operator)
    assert response.status_code == 201, response.text


# --- subscriptions ------------------------------------------------------------------------------

async def test_subscription_lifecycle_against_the_spec(client, exporter, other_exporter, spec, sealing):
    secret = new_secret()
    created = await subscribe(client, exporter, "http://127.0.0.1:9/dcsa", secret, eventType=["SHIPMENT"],
                              shipmentEventTypeCode=["CONF", "RECE"])
    spec.check("/components/schemas/subscription", created)
    assert uuid.UUID(created["subscriptionID"]) and "secret" not in created
    assert created == {"subscriptionID": created["subscriptionID"], "callbackUrl": "http://127.0.0.1:9/dcsa",
                       "eventType": ["SHIPMENT"], "shipmentEventTypeCode": ["CONF", "RECE"]}
    one = f"{BASE}/{created['subscriptionID']}"

    listed = await client.get(BASE, headers=exporter)
    assert listed.status_code == 200 and listed.json() == [created] and listed.headers["API-Version"] == "2.2.0"
    spec.check("/paths/~1v2~1event-subscriptions/get/responses/200/content/application~1json/schema", listed.json())
    got = await client.get(one, headers=exporter)
    assert got.status_code == 200 and got.json() == created

    changed = {"callbackUrl": "http://127.0.0.1:9/other", "eventType": ["TRANSPORT"], "subscriptionID": created["subscriptionID"]}
    put = await client.put(one, json=changed, headers=exporter)
    assert put.status_code == 200 and put.json() == changed, put.text
    spec.check("/components/schemas/subscription", put.json())
    assert (await client.get(one, headers=exporter)).json() == changed

    # Another organisation: as unknown as a subscription that does not exist, and its list is its own.
    assert (await client.get(BASE, headers=other_exporter)).json() == []
    for method, path, body in (("GET", one, None), ("PUT", one, changed), ("DELETE", one, None),
                               ("PUT", f"{one}/secret", {"secret": new_secret()})):
        response = await client.request(method, path, json=body, headers=other_exporter)
        assert response.status_code == 404, (method, path, response.text)
        spec.check("/components/schemas/error", response.json())
    # A DCSA subscription is not one of /v1's (nor the other way round).
    our_id = subscription_id_of(created["subscriptionID"])
    assert (await client.get(f"/v1/webhook-subscriptions/{our_id}", headers=exporter)).status_code == 404
    assert (await client.get("/v1/webhook-subscriptions", headers=exporter)).json()["items"] == []
    v1 = await client.post("/v1/webhook-subscriptions", json={"url": "http://127.0.0.1:9/v1", "event_types": ["SHIPMENT"]},
                           headers=exporter)
    assert (await client.get(f"{BASE}/{subscription_uuid(v1.json()['id'])}", headers=exporter)).status_code == 404

    deleted = await client.delete(one, headers=exporter)
    assert deleted.status_code == 204 and deleted.headers["API-Version"] == "2.2.0"
    assert (await client.get(one, headers=exporter)).status_code == 404
    assert (await client.get(BASE, headers=exporter)).json() == []
    # An id that is no UUID is a bad parameter; a UUID that is not ours is unknown.
    assert (await client.get(f"{BASE}/42", headers=exporter)).status_code == 400
    assert (await client.get(f"{BASE}/{uuid.uuid4()}", headers=exporter)).status_code == 404


async def test_the_secret_is_never_shown_and_is_stored_sealed(app, client, exporter, sealing):
    secret = new_secret()
    created = await subscribe(client, exporter, "http://127.0.0.1:9/dcsa", secret)
    one = f"{BASE}/{created['subscriptionID']}"
    answers = [created, (await client.get(one, headers=exporter)).json(), *(await client.get(BASE, headers=exporter)).json(),
               (await client.put(one, json={"callbackUrl": "http://127.0.0.1:9/x"}, headers=exporter)).json()]
    assert all("secret" not in answer and secret not in json.dumps(answer) for answer in answers)
    async with app.state.sessionmaker() as session:
        stored = await session.scalar(select(WebhookSubscription.secret).where(
            WebhookSubscription.id == subscription_id_of(created["subscriptionID"])))
    assert stored.startswith(signing.SEALED_PREFIX) and secret not in stored
    assert signing.unseal(stored, SEALING_KEY) == secret


async def test_paging_the_list(client, exporter, sealing):
    made = [await subscribe(client, exporter, f"http://127.0.0.1:9/{n}") for n in range(3)]
    first = await client.get(BASE, params={"limit": 2}, headers=exporter)
    assert first.json() == made[:2] and "Next-Page" in first.headers
    second = await client.get(first.headers["Next-Page"], headers=exporter)
    assert second.json() == made[2:] and "Next-Page" not in second.headers


async def test_the_scope_of_caravans_own_webhooks_is_needed(client, operator):
    events_only = await factories.org_headers(client, operator, "Reader", "exporter", ["events:read"])
    response = await client.post(BASE, json={"callbackUrl": "https://example.com/", "secret": new_secret()},
                                 headers=events_only)
    assert response.status_code == 403 and response.json()["errors"][0]["reason"] == "forbidden"
    assert (await client.get(BASE)).status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"vesselIMONumber": "9321483"}, "vesselIMONumber"),
    ({"carrierServiceCode": "FE1"}, "carrierServiceCode"),
    ({"transportDocumentReference": "TD1"}, "transportDocumentReference"),
    ({"transportDocumentID": str(uuid.uuid4())}, "transportDocumentID"),
    ({"transportDocumentTypeCode": ["BOL"]}, "transportDocumentTypeCode"),
    ({"scheduleID": str(uuid.uuid4())}, "scheduleID"),
    ({"documentTypeCode": ["SHI"]}, "documentTypeCode"),
    ({"transportCallID": str(uuid.uuid4())}, "transportCallID"),
    ({"exportVoyageNumber": "2103S"}, "exportVoyageNumber"),
    ({"shipmentEventTypeCode": ["CONF", "SHIPPED"]}, "shipmentEventTypeCode"),
    ({"eventType": "SHIPMENT"}, "eventType"),
    ({"eventCreatedDateTime": "2021-01-01T00:00:00Z"}, "eventCreatedDateTime"),
    ({"subscriptionID": str(uuid.uuid4())}, "subscriptionID"),
    ({"carrierBookingReference": "NOPE"}, "carrierBookingReference"),
    ({"secret": "not base64!"}, "secret"),
    ({"secret": base64.b64encode(b"short").decode()}, "secret"),
    ({"secret": None}, "secret"),
    ({"callbackUrl": "ftp://example.com/"}, "callbackUrl"),
    # 626 characters as given, over 2,000 once its path is percent-encoded
    ({"callbackUrl": "https://hooks.example.com/" + "\u4e2d" * 600}, "callbackUrl"),
])
async def test_what_caravan_cannot_honour_is_refused_naming_it(app, client, exporter, spec, sealing, body, field):
    error = await refused(client, exporter, {"callbackUrl": "http://127.0.0.1:9/dcsa", "secret": new_secret()} | body,
                          field)
    spec.check("/components/schemas/error", error)
    assert error["errors"][0]["reason"] == "invalidParameter"
    if field in REFUSED:  # a filter of the spec, refused as one Caravan cannot honour (not as an unknown field)
        assert "not supported" in error["errors"][0]["message"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(WebhookSubscription.id)) is None


async def test_a_booking_of_another_organisation_cannot_be_subscribed_to(client, exporter, other_exporter, network, sealing):
    [theirs] = await book_many(client, other_exporter, network["departure_id"], 1)
    await refused(client, exporter, {"callbackUrl": "http://127.0.0.1:9/x", "secret": new_secret(),
                                     "carrierBookingReference": theirs}, "carrierBookingReference")
    await subscribe(client, other_exporter, "http://127.0.0.1:9/x", carrierBookingReference=theirs)


async def test_put_takes_no_secret_and_the_secret_put_takes_only_one(client, exporter, sealing):
    created = await subscribe(client, exporter, "http://127.0.0.1:9/dcsa")
    one = f"{BASE}/{created['subscriptionID']}"
    await refused(client, exporter, {"callbackUrl": "http://127.0.0.1:9/x", "secret": new_secret()}, "secret",
                  method="PUT", path=one)
    await refused(client, exporter, {"callbackUrl": "http://127.0.0.1:9/x", "subscriptionID": str(uuid.uuid4())},
                  "subscriptionID", method="PUT", path=one)
    await refused(client, exporter, {"secret": "AAAA"}, "secret", method="PUT", path=f"{one}/secret")
    response = await client.put(f"{one}/secret", json={"secret": new_secret()}, headers=exporter)
    assert response.status_code == 204 and response.headers["API-Version"] == "2.2.0"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://[::1]/hook",
                                 "http://169.254.169.254/latest/meta-data", "http://nonexistent.invalid/"])
async def test_a_callback_that_is_not_public_is_refused(app, client, exporter, spec, url):
    error = await refused(client, exporter, {"callbackUrl": url, "secret": new_secret()}, "callbackUrl")
    spec.check("/components/schemas/error", error)
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(WebhookSubscription.id)) is None


async def test_a_put_to_a_callback_that_is_not_public_is_refused(app, client, exporter, monkeypatch):
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_allow_private_urls": True}))
    created = await subscribe(client, exporter, "http://127.0.0.1:9/dcsa")
    monkeypatch.setattr(app.state, "settings", app.state.settings.model_copy(update={"webhook_allow_private_urls": False}))
    await refused(client, exporter, {"callbackUrl": "http://10.0.0.1/"}, "callbackUrl", method="PUT",
                  path=f"{BASE}/{created['subscriptionID']}")


# --- notifications ---------------------------------------------------------------------------------

async def test_shipment_and_transport_events_arrive_as_signed_dcsa_arrays(
    app, client, operator, exporter, network, database_url, receiver_server, spec, sealing  # noqa: F811
):
    receiver = DcsaReceiver()
    server = receiver_server(receiver)
    receiver.secret = new_secret()
    subscription = await subscribe(client, exporter, f"{server.url}/tnt?shipper=7", receiver.secret)
    [reference] = await book_many(client, exporter, network["departure_id"], 1)
    await train_event(client, operator, network["departure_id"])
    await deliver(app, database_url)

    assert receiver.bad_signatures == 0 and len(receiver.notifications) == 2
    callback = spec.validator(CALLBACK)
    for headers, events in receiver.notifications:
        assert not list(callback.iter_errors(events)), events
        assert headers["subscription-id"] == subscription["subscriptionID"] and headers["api-version"] == "2.2.0"
        assert headers["content-type"] == "application/json" and len(events) == 1
    # The worker POSTs a batch concurrently: notifications arrive in any order.
    shipment, transport = sorted(receiver.events, key=lambda e: e["eventType"])
    assert shipment["eventType"] == "SHIPMENT" and shipment["shipmentEventTypeCode"] == "CONF"
    assert shipment["documentID"] == reference
    assert transport["eventType"] == "TRANSPORT" and transport["transportEventTypeCode"] == "DEPA"
    assert transport["transportCall"]["transportCallID"] == f"{network['departure_id']}-CNWUH-WJS"
    # The same events as the DCSA view serves them (one converter).
    served = (await client.get("/dcsa/tnt/v2/events", headers=exporter)).json()
    assert sorted(receiver.events, key=lambda e: e["eventID"]) == sorted(served, key=lambda e: e["eventID"])
    assert await statuses(app, subscription) == ["DELIVERED", "DELIVERED"]


async def test_a_signature_made_with_another_secret_does_not_verify(client, exporter, sealing):
    from app.dcsa.subscriptions import signature

    body = b'[{"eventType":"SHIPMENT"}]'
    secret = new_secret()
    assert verify(secret, {"notification-signature": signature(secret, body)}, body)
    assert not verify(new_secret(), {"notification-signature": signature(secret, body)}, body)
    assert signature(secret, body) == "sha256=" + hmac.new(base64.b64decode(secret), body, hashlib.sha256).hexdigest()


async def test_a_new_secret_signs_what_is_sent_after_it(
    app, client, operator, exporter, network, database_url, receiver_server, sealing  # noqa: F811
):
    receiver = DcsaReceiver()
    server = receiver_server(receiver)
    receiver.secret = new_secret()
    subscription = await subscribe(client, exporter, f"{server.url}/tnt", receiver.secret)
    await book_many(client, exporter, network["departure_id"], 1)
    await deliver(app, database_url)
    assert len(receiver.notifications) == 1 and receiver.bad_signatures == 0

    rotated = new_secret()
    response = await client.put(f"{BASE}/{subscription['subscriptionID']}/secret", json={"secret": rotated},
                                headers=exporter)
    assert response.status_code == 204, response.text
    receiver.secret = rotated  # the receiver now refuses what the old secret signs
    await train_event(client, operator, network["departure_id"])
    await deliver(app, database_url)
    assert receiver.bad_signatures == 0 and len(receiver.notifications) == 2
    assert receiver.events[1]["eventType"] == "TRANSPORT"


async def test_filters_narrow_what_arrives(
    app, client, operator, exporter, other_exporter, network, database_url, receiver_server, sealing  # noqa: F811
):
    departure = network["departure_id"]
    receiver = DcsaReceiver()
    server = receiver_server(receiver)
    receiver.secret = new_secret()
    [mine, other_of_mine] = await book_many(client, exporter, departure, 2)
    arrivals = await subscribe(client, exporter, f"{server.url}/arrivals", receiver.secret,
                               eventType=["TRANSPORT"], transportEventTypeCode=["ARRI"])
    one_booking = await subscribe(client, exporter, f"{server.url}/one", receiver.secret, carrierBookingReference=mine)
    at_wuhan = await subscribe(client, exporter, f"{server.url}/wuhan", receiver.secret,
                               transportCallID=f"{departure}-CNWUH-WJS")
    confirmations = await subscribe(client, exporter, f"{server.url}/conf", receiver.secret,
                                    shipmentEventTypeCode=["CONF"])
    everything = await subscribe(client, exporter, f"{server.url}/all", receiver.secret)
    bystander = await subscribe(client, other_exporter, f"{server.url}/bystander", receiver.secret)

    assert (await client.post(f"/v1/bookings/{other_of_mine}/cancel", headers=exporter)).status_code == 200
    await book_many(client, exporter, departure, 1)
    await train_event(client, operator, departure, "DEPA")
    await train_event(client, operator, departure, "ARRI", "EST")
    await deliver(app, database_url)
    assert receiver.bad_signatures == 0

    def arrived(subscription: dict) -> list[tuple[str, str]]:
        """What reached this subscription (sorted: the worker POSTs a batch concurrently)."""
        return sorted((e["eventType"], e.get("shipmentEventTypeCode") or e.get("transportEventTypeCode"))
                      for headers, events in receiver.notifications for e in events
                      if headers["subscription-id"] == subscription["subscriptionID"])

    # The cancellation (CANC) has no DCSA code: it reaches no one here.
    assert arrived(everything) == [("SHIPMENT", "CONF"), ("TRANSPORT", "ARRI"), ("TRANSPORT", "DEPA")]
    assert arrived(arrivals) == [("TRANSPORT", "ARRI")]
    assert arrived(one_booking) == [("TRANSPORT", "ARRI"), ("TRANSPORT", "DEPA")]  # its train, not the new booking
    assert arrived(at_wuhan) == [("TRANSPORT", "DEPA")]
    assert arrived(confirmations) == [("SHIPMENT", "CONF")]
    assert arrived(bystander) == []  # the audience rule of Caravan's webhooks: not their booking, not their train
    # What the filters do not match is withdrawn unsent: CANCELLED, no attempt counted.
    assert (await statuses(app, arrivals)).count("DELIVERED") == 1
    assert set(await statuses(app, arrivals)) == {"DELIVERED", "CANCELLED"}
    async with app.state.sessionmaker() as session:
        withdrawn = list(await session.scalars(select(WebhookDelivery.attempts).where(WebhookDelivery.status == "CANCELLED")))
    assert withdrawn and set(withdrawn) == {0}
    assert await statuses(app, bystander) == []


async def test_a_put_re_arms_a_subscription_disabled_by_a_410(app, client, exporter, sealing):
    """The spec shows no disabled state, so the subscriber's way back after answering 410 is to PUT it again."""
    created = await subscribe(client, exporter, "http://127.0.0.1:9/dcsa")
    our_id = subscription_id_of(created["subscriptionID"])
    async with app.state.sessionmaker() as session:
        row = await session.get(WebhookSubscription, our_id)
        row.disabled_at, row.disabled_reason = datetime.now(timezone.utc), "the receiver answered 410 Gone"
        await session.commit()
    response = await client.put(f"{BASE}/{created['subscriptionID']}", json={"callbackUrl": "http://127.0.0.1:9/new"},
                                headers=exporter)
    assert response.status_code == 200, response.text
    async with app.state.sessionmaker() as session:
        row = await session.get(WebhookSubscription, our_id)
        assert row.disabled_at is None and row.disabled_reason is None and row.url == "http://127.0.0.1:9/new"


async def test_a_round_that_only_withdraws_counts_as_work(app, client, exporter, network, database_url, sealing):
    """Withdrawn deliveries are work done: the worker goes straight on rather than wait a poll interval."""
    subscription = await subscribe(client, exporter, "http://127.0.0.1:9/trains", eventType=["TRANSPORT"])
    await book_many(client, exporter, network["departure_id"], 1)  # its CONF: a SHIPMENT event, not wanted
    settings = fast_settings(database_url, webhook_secret_key=SEALING_KEY)
    async with delivery_client(settings) as http:
        assert await Worker(app.state.sessionmaker, settings, http).run_once() == 0
    assert await statuses(app, subscription) == []  # eventType is matched by the outbox itself: no row at all
    confirmations = await subscribe(client, exporter, "http://127.0.0.1:9/conf", shipmentEventTypeCode=["RECE"])
    await book_many(client, exporter, network["departure_id"], 1)
    async with delivery_client(settings) as http:
        assert await Worker(app.state.sessionmaker, settings, http).run_once() == 1
    assert await statuses(app, confirmations) == ["CANCELLED"]


# --- schemathesis with the official spec's subscription operations -----------------------------------

@pytest.fixture(scope="module")
def open_server(settings):
    """A live server that takes loopback callbacks (generated URLs are then judged without DNS look-ups)."""
    server = LiveServer(create_app(settings.model_copy(update={"webhook_allow_private_urls": True}))).start()
    yield server
    server.stop()


@pytest.fixture
def subscription_schema(open_server):
    return schemathesis.openapi.from_dict(load_spec())


@pytest.fixture
async def operator_key(app, open_server) -> dict[str, str]:
    return {"Authorization": f"Bearer {await factories.bootstrap_operator(app)}"}


subscription_operations = schemathesis.pytest.from_fixture("subscription_schema").include(
    path_regex=r"^/v2/event-subscriptions"
)


@subscription_operations.parametrize()
@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_subscription_operations(case, operator_key, open_server):
    case.call_and_validate(
        base_url=f"{open_server.url}/dcsa/tnt", headers=operator_key,
        checks=[not_a_server_error, response_schema_conformance, response_headers_conformance],
    )


async def test_a_410_from_a_callback_replaced_meanwhile_does_not_disable_the_new_one(
    app, client, exporter, network, database_url, sealing
):
    """The worker POSTed to the old callback; before its 410 was recorded, the subscriber PUT a new
    callback. The Gone was the old address's answer: the subscription stays armed for the new one."""
    created = await subscribe(client, exporter, "http://127.0.0.1:9/old")
    our_id = subscription_id_of(created["subscriptionID"])
    await book_many(client, exporter, network["departure_id"], 2)
    async with app.state.sessionmaker() as session:
        claimed = await deliveries.claim(session, "worker-1", 1, 60, datetime.now(timezone.utc))
        await session.commit()
    [row] = claimed
    replaced = await client.put(f"{BASE}/{created['subscriptionID']}", json={"callbackUrl": "http://127.0.0.1:9/new"},
                                headers=exporter)
    assert replaced.status_code == 200
    async with app.state.sessionmaker() as session:
        await deliveries.record_attempt(
            session, token="worker-1", delivery_id=row.id, subscription_id=our_id, attempts=row.attempts,
            posted_url=row.url, status_code=410, latency_ms=1.0, response_body="", error=None, max_attempts=12,
            retry_base=1, retry_cap=10, now=datetime.now(timezone.utc),
        )
        await session.commit()
    async with app.state.sessionmaker() as session:
        subscription = await session.get(WebhookSubscription, our_id)
        assert row.url == "http://127.0.0.1:9/old" and subscription.disabled_at is None
        statuses = list(await session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)))
        assert statuses == ["PENDING", "PENDING"]  # the refused one too: it goes to the new callback
